package io.pekkollm.model;

import java.util.List;

/**
 * One increment of a streamed answer. Any field may be absent (null, or empty list): a chunk can carry only
 * text, only a tool-call fragment, only the finish reason, only usage, or several of them.
 * {@code id} and {@code model} are what the provider reported, when it did.
 *
 * <p>Immutable and thread-safe.
 */
public record ChatChunk(String id, String model, String textDelta, String reasoningDelta,
    List<ToolCallDelta> toolCalls, FinishReason finishReason, Usage usage) {

  public ChatChunk {
    toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
  }

  public static ChatChunk text(String text) {
    return new ChatChunk(null, null, text, null, List.of(), null, null);
  }

  public static ChatChunk finish(FinishReason reason, Usage usage) {
    return new ChatChunk(null, null, null, null, List.of(), reason, usage);
  }

  /** True when the chunk carries nothing a caller could use. */
  public boolean isEmpty() {
    return (textDelta == null || textDelta.isEmpty()) && (reasoningDelta == null || reasoningDelta.isEmpty())
        && toolCalls.isEmpty() && finishReason == null && usage == null;
  }

  public ChatChunk withModel(String newModel) {
    return new ChatChunk(id, newModel, textDelta, reasoningDelta, toolCalls, finishReason, usage);
  }
}
