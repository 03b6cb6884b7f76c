package io.pekkollm.model;

import java.util.List;
import java.util.Objects;

/**
 * A complete answer: the chunks of one call folded together. {@code model} is the {@code provider/model} that
 * served it; {@code providerModel} what the provider said it ran (may be a dated version).
 *
 * <p>Immutable and thread-safe.
 */
public final class ChatResponse {
  private final String id;
  private final String model;
  private final String providerModel;
  private final String text;
  private final String reasoning;
  private final List<ToolCall> toolCalls;
  private final FinishReason finishReason;
  private final Usage usage;

  public ChatResponse(String id, String model, String providerModel, String text, String reasoning,
      List<ToolCall> toolCalls, FinishReason finishReason, Usage usage) {
    this.id = id;
    this.model = model;
    this.providerModel = providerModel;
    this.text = text == null ? "" : text;
    this.reasoning = reasoning;
    this.toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    this.finishReason = finishReason;
    this.usage = usage;
  }

  public String id() { return id; }
  public String model() { return model; }
  public String providerModel() { return providerModel; }
  /** The answer text; "" when the model only called tools. */
  public String text() { return text; }
  /** Visible reasoning, where the provider returns it; null otherwise. */
  public String reasoning() { return reasoning; }
  public List<ToolCall> toolCalls() { return toolCalls; }
  public FinishReason finishReason() { return finishReason; }
  /** Token usage, or null when the provider reported none. */
  public Usage usage() { return usage; }

  public ChatResponse withModel(String newModel) {
    return new ChatResponse(id, newModel, providerModel, text, reasoning, toolCalls, finishReason, usage);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ChatResponse r && Objects.equals(r.id, id) && Objects.equals(r.model, model)
        && Objects.equals(r.providerModel, providerModel) && r.text.equals(text)
        && Objects.equals(r.reasoning, reasoning) && r.toolCalls.equals(toolCalls)
        && Objects.equals(r.finishReason, finishReason) && Objects.equals(r.usage, usage);
  }

  @Override
  public int hashCode() {
    return Objects.hash(id, model, text, toolCalls, finishReason, usage);
  }

  @Override
  public String toString() {
    return "ChatResponse{model=" + model + ", finish=" + finishReason + ", text=" + text.length() + " chars, toolCalls="
        + toolCalls.size() + ", usage=" + usage + "}";
  }
}
