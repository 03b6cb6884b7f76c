package io.pekkollm.provider.anthropic;

import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.ToolCallDelta;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Undoes the JSON-mode emulation (see {@link AnthropicMapper}): the arguments of the forced tool become the
 * answer text, and its {@code tool_use} stop becomes a plain stop, so callers see what an OpenAI JSON-mode
 * answer looks like. Works on streamed fragments and on a whole response alike.
 *
 * <p>One per response; not thread-safe.
 */
final class JsonToolUnwrapper {
  private final String toolName;
  private final Set<Integer> jsonCalls = new HashSet<>();

  JsonToolUnwrapper(String toolName) {
    this.toolName = toolName;
  }

  List<ChatChunk> apply(ChatChunk c) {
    if (c.toolCalls().isEmpty() && !FinishReason.TOOL_CALLS.equals(c.finishReason())) {
      return List.of(c);
    }
    StringBuilder text = new StringBuilder(c.textDelta() == null ? "" : c.textDelta());
    List<ToolCallDelta> kept = new ArrayList<>();
    for (ToolCallDelta d : c.toolCalls()) {
      if (toolName.equals(d.name())) {
        jsonCalls.add(d.index());
      }
      if (jsonCalls.contains(d.index())) {
        text.append(d.argumentsDelta());
      } else {
        kept.add(d);
      }
    }
    FinishReason finish = FinishReason.TOOL_CALLS.equals(c.finishReason()) && !jsonCalls.isEmpty()
        ? FinishReason.STOP : c.finishReason();
    ChatChunk out = new ChatChunk(c.id(), c.model(), text.length() == 0 ? null : text.toString(), c.reasoningDelta(),
        kept, finish, c.usage());
    return out.isEmpty() ? List.of() : List.of(out);
  }
}
