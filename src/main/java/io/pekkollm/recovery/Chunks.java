package io.pekkollm.recovery;

import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.ToolCallDelta;
import io.pekkollm.model.Usage;
import io.pekkollm.recovery.StreamEvent.StoredChunk;
import io.pekkollm.recovery.StreamEvent.StoredToolDelta;
import io.pekkollm.recovery.StreamEvent.StoredUsage;
import java.util.ArrayList;
import java.util.List;

/** Conversions between live chunks and their stored form. */
final class Chunks {
  private Chunks() {}

  /** True when the chunk is an SSE event of its own: text, reasoning, a tool-call fragment or a finish. */
  static boolean isEvent(ChatChunk c) {
    return (c.textDelta() != null && !c.textDelta().isEmpty())
        || (c.reasoningDelta() != null && !c.reasoningDelta().isEmpty()) || !c.toolCalls().isEmpty()
        || c.finishReason() != null;
  }

  /** {@link #isEvent(ChatChunk)} of a stored chunk. */
  static boolean isEvent(StoredChunk c) {
    return (c.text() != null && !c.text().isEmpty()) || (c.reasoning() != null && !c.reasoning().isEmpty())
        || (c.tools() != null && !c.tools().isEmpty()) || c.finishReason() != null;
  }

  static StoredChunk withSeq(StoredChunk s, long seq) {
    return new StoredChunk(seq, s.text(), s.reasoning(), s.tools(), s.finishReason(), s.usage());
  }

  static StoredChunk store(long seq, ChatChunk c) {
    List<StoredToolDelta> tools = new ArrayList<>(c.toolCalls().size());
    for (ToolCallDelta t : c.toolCalls()) {
      tools.add(new StoredToolDelta(t.index(), t.id(), t.name(), t.argumentsDelta()));
    }
    return new StoredChunk(seq, c.textDelta(), c.reasoningDelta(), tools,
        c.finishReason() == null ? null : c.finishReason().value(), store(c.usage()));
  }

  static StoredUsage store(Usage u) {
    return u == null ? null
        : new StoredUsage(u.inputTokens(), u.outputTokens(), u.cachedInputTokens(), u.cacheWriteTokens(), u.reasoningTokens());
  }

  static Usage usage(StoredUsage u) {
    return u == null ? null : new Usage(u.input(), u.output(), u.cachedInput(), u.cacheWrite(), u.reasoning());
  }

  static ChatChunk chunk(StoredChunk s) {
    List<ToolCallDelta> tools = new ArrayList<>();
    if (s.tools() != null) {
      for (StoredToolDelta t : s.tools()) {
        tools.add(new ToolCallDelta(t.index(), t.id(), t.name(), t.arguments()));
      }
    }
    return new ChatChunk(null, null, s.text(), s.reasoning(), tools, FinishReason.of(s.finishReason()), usage(s.usage()));
  }

  static StoredChunk withText(StoredChunk s, String text) {
    return new StoredChunk(s.seq(), text, s.reasoning(), s.tools(), s.finishReason(), s.usage());
  }
}
