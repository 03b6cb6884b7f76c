package io.pekkollm.model;

import java.util.List;
import java.util.Objects;

/**
 * One turn of a conversation. The four roles are the four record types.
 *
 * <p>Immutable and thread-safe.
 */
public sealed interface Message
    permits Message.System, Message.User, Message.Assistant, Message.Tool {

  /** The role name as the OpenAI wire format spells it. */
  String role();

  /** The message's text ("" when it has none, e.g. an assistant turn of only tool calls). */
  String text();

  static System system(String text) {
    return new System(text);
  }

  static User user(String text) {
    return new User(List.of(ContentPart.text(text)), null);
  }

  static User user(List<ContentPart> parts) {
    return new User(parts, null);
  }

  static Assistant assistant(String text) {
    return new Assistant(text, List.of(), null);
  }

  static Assistant assistant(String text, List<ToolCall> toolCalls) {
    return new Assistant(text, toolCalls, null);
  }

  static Tool tool(String toolCallId, String content) {
    return new Tool(toolCallId, content);
  }

  /** Instructions for the model. */
  record System(String content) implements Message {
    public System {
      Objects.requireNonNull(content, "content");
    }

    @Override
    public String role() {
      return "system";
    }

    @Override
    public String text() {
      return content;
    }
  }

  /** A user turn; {@code name} is the optional participant name. */
  record User(List<ContentPart> content, String name) implements Message {
    public User {
      content = List.copyOf(content);
    }

    @Override
    public String role() {
      return "user";
    }

    /** The text parts joined, images left out. */
    @Override
    public String text() {
      StringBuilder sb = new StringBuilder();
      for (ContentPart part : content) {
        if (part instanceof ContentPart.Text t) {
          sb.append(t.text());
        }
      }
      return sb.toString();
    }

    public boolean hasImages() {
      return content.stream().anyMatch(p -> p instanceof ContentPart.Image);
    }
  }

  /**
   * A model turn: text (may be null when the turn is only tool calls) and tool calls. {@code reasoning} is
   * the model's visible reasoning where the provider returns it; it is never sent back upstream.
   */
  record Assistant(String content, List<ToolCall> toolCalls, String reasoning) implements Message {
    public Assistant {
      toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    }

    @Override
    public String role() {
      return "assistant";
    }

    @Override
    public String text() {
      return content == null ? "" : content;
    }
  }

  /** The result of one tool call, answering the call with id {@code toolCallId}. */
  record Tool(String toolCallId, String content) implements Message {
    public Tool {
      Objects.requireNonNull(toolCallId, "toolCallId");
      Objects.requireNonNull(content, "content");
    }

    @Override
    public String role() {
      return "tool";
    }

    @Override
    public String text() {
      return content;
    }
  }
}
