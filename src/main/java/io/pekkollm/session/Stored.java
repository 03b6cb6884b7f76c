package io.pekkollm.session;

import io.pekkollm.model.ContentPart;
import io.pekkollm.model.Cost;
import io.pekkollm.model.Message;
import io.pekkollm.model.ToolCall;
import io.pekkollm.model.Usage;
import io.pekkollm.session.SessionEvent.StoredCost;
import io.pekkollm.session.SessionEvent.StoredMessage;
import io.pekkollm.session.SessionEvent.StoredPart;
import io.pekkollm.session.SessionEvent.StoredToolCall;
import io.pekkollm.session.SessionEvent.StoredUsage;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Conversions between the library's values and their stored forms. Stateless. */
final class Stored {
  private Stored() {}

  static StoredMessage message(SessionMessage m) {
    Message msg = m.message();
    long at = m.createdAt().toEpochMilli();
    StoredUsage usage = usage(m.usage());
    StoredCost cost = cost(m.cost());
    if (msg instanceof Message.System s) {
      return new StoredMessage("system", s.content(), null, null, null, null, null, null, null, null, null, at);
    }
    if (msg instanceof Message.User u) {
      boolean textOnly = u.content().size() == 1 && u.content().get(0) instanceof ContentPart.Text;
      List<StoredPart> parts = null;
      if (!textOnly) {
        parts = new ArrayList<>();
        for (ContentPart p : u.content()) {
          if (p instanceof ContentPart.Text t) {
            parts.add(new StoredPart("text", t.text(), null, null, null, null));
          } else if (p instanceof ContentPart.Image i) {
            parts.add(new StoredPart("image", null, i.url(), i.base64Data(), i.mediaType(), i.detail()));
          }
        }
      }
      return new StoredMessage("user", textOnly ? u.text() : null, parts, u.name(), null, null, null, null, null, null,
          null, at);
    }
    if (msg instanceof Message.Assistant a) {
      List<StoredToolCall> calls = a.toolCalls().isEmpty() ? null
          : a.toolCalls().stream().map(c -> new StoredToolCall(c.id(), c.name(), c.arguments())).toList();
      return new StoredMessage("assistant", a.content(), null, null, calls, null, a.reasoning(), m.model(), usage, cost,
          m.fromCache() ? Boolean.TRUE : null, at);
    }
    Message.Tool t = (Message.Tool) msg;
    return new StoredMessage("tool", t.content(), null, null, null, t.toolCallId(), null, null, null, null, null, at);
  }

  static SessionMessage message(StoredMessage s) {
    Instant at = Instant.ofEpochMilli(s.atMillis());
    Message m = switch (s.role()) {
      case "system" -> Message.system(s.content());
      case "user" -> {
        if (s.parts() == null) {
          yield new Message.User(List.of(ContentPart.text(s.content() == null ? "" : s.content())), s.name());
        }
        List<ContentPart> parts = new ArrayList<>();
        for (StoredPart p : s.parts()) {
          parts.add(p.type().equals("text") ? ContentPart.text(p.text())
              : new ContentPart.Image(p.url(), p.base64Data(), p.mediaType(), p.detail()));
        }
        yield new Message.User(parts, s.name());
      }
      case "assistant" -> new Message.Assistant(s.content(), s.toolCalls() == null ? List.of()
          : s.toolCalls().stream().map(c -> new ToolCall(c.id(), c.name(), c.arguments())).toList(), s.reasoning());
      default -> Message.tool(s.toolCallId(), s.content());
    };
    return new SessionMessage(m, at, s.model(), usage(s.usage()), cost(s.cost()), Boolean.TRUE.equals(s.fromCache()));
  }

  static StoredUsage usage(Usage u) {
    return u == null ? null : new StoredUsage(u.inputTokens(), u.outputTokens(), u.cachedInputTokens(),
        u.cacheWriteTokens(), u.reasoningTokens());
  }

  static Usage usage(StoredUsage u) {
    return u == null ? null : new Usage(u.input(), u.output(), u.cachedInput(), u.cacheWrite(), u.reasoning());
  }

  static StoredCost cost(Cost c) {
    return c == null ? null : new StoredCost(c.input(), c.cachedInput(), c.cacheWrite(), c.output(), c.reasoning());
  }

  static Cost cost(StoredCost c) {
    return c == null ? null : Cost.of(c.input(), c.cachedInput(), c.cacheWrite(), c.output(), c.reasoning());
  }

  /** Sums of two usages (totals across turns, unlike {@link Usage#merge}, which joins reports of one call). */
  static StoredUsage plus(StoredUsage a, StoredUsage b) {
    if (b == null) {
      return a;
    }
    return new StoredUsage(a.input() + b.input(), a.output() + b.output(), a.cachedInput() + b.cachedInput(),
        a.cacheWrite() + b.cacheWrite(), a.reasoning() + b.reasoning());
  }

  static final StoredUsage NO_USAGE = new StoredUsage(0, 0, 0, 0, 0);
}
