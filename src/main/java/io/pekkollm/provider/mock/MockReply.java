package io.pekkollm.provider.mock;

import io.pekkollm.model.FinishReason;
import io.pekkollm.model.ToolCall;
import io.pekkollm.model.Usage;
import java.util.List;

/**
 * What a {@link MockProvider} answers: text and/or tool calls, a finish reason and usage (null usage means
 * "estimate": about four characters per token).
 */
public record MockReply(String text, List<ToolCall> toolCalls, FinishReason finishReason, Usage usage) {
  public MockReply {
    text = text == null ? "" : text;
    toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
  }

  public static MockReply text(String text) {
    return new MockReply(text, List.of(), FinishReason.STOP, null);
  }

  public static MockReply toolCalls(List<ToolCall> calls) {
    return new MockReply("", calls, FinishReason.TOOL_CALLS, null);
  }
}
