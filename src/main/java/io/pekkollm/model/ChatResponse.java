package io.pekkollm.model;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A complete answer: the chunks of one call folded together. {@code model} is the {@code provider/model} that
 * served it; {@code providerModel} what the provider said it ran (may be a dated version). {@link #cost()} is
 * present when the model catalog knows every price the usage needs; {@link #truncation()} when the request was
 * shortened to fit the context window.
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
  private final Cost cost;
  private final TruncationReport truncation;
  private final CacheStatus cacheStatus;

  public ChatResponse(String id, String model, String providerModel, String text, String reasoning,
      List<ToolCall> toolCalls, FinishReason finishReason, Usage usage) {
    this(id, model, providerModel, text, reasoning, toolCalls, finishReason, usage, null, null);
  }

  public ChatResponse(String id, String model, String providerModel, String text, String reasoning,
      List<ToolCall> toolCalls, FinishReason finishReason, Usage usage, Cost cost, TruncationReport truncation) {
    this(id, model, providerModel, text, reasoning, toolCalls, finishReason, usage, cost, truncation, null);
  }

  public ChatResponse(String id, String model, String providerModel, String text, String reasoning,
      List<ToolCall> toolCalls, FinishReason finishReason, Usage usage, Cost cost, TruncationReport truncation,
      CacheStatus cacheStatus) {
    this.id = id;
    this.model = model;
    this.providerModel = providerModel;
    this.text = text == null ? "" : text;
    this.reasoning = reasoning;
    this.toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    this.finishReason = finishReason;
    this.usage = usage;
    this.cost = cost;
    this.truncation = truncation;
    this.cacheStatus = cacheStatus;
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
  /** The call's cost in USD; empty when there is no usage or the catalog lacks a price it needs. */
  public Optional<Cost> cost() { return Optional.ofNullable(cost); }
  /** What truncation did to the request; empty when it was sent whole. */
  public Optional<TruncationReport> truncation() { return Optional.ofNullable(truncation); }
  /**
   * How the response cache served this call; empty when the request did not use the cache. Usage and cost
   * describe the answer as it was produced: a HIT or COALESCED call made no upstream call of its own.
   */
  public Optional<CacheStatus> cacheStatus() { return Optional.ofNullable(cacheStatus); }

  public ChatResponse withModel(String newModel) {
    return new ChatResponse(id, newModel, providerModel, text, reasoning, toolCalls, finishReason, usage, cost,
        truncation, cacheStatus);
  }

  public ChatResponse withCost(Cost newCost) {
    return new ChatResponse(id, model, providerModel, text, reasoning, toolCalls, finishReason, usage, newCost,
        truncation, cacheStatus);
  }

  public ChatResponse withTruncation(TruncationReport newTruncation) {
    return new ChatResponse(id, model, providerModel, text, reasoning, toolCalls, finishReason, usage, cost,
        newTruncation, cacheStatus);
  }

  public ChatResponse withCacheStatus(CacheStatus newCacheStatus) {
    return new ChatResponse(id, model, providerModel, text, reasoning, toolCalls, finishReason, usage, cost,
        truncation, newCacheStatus);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ChatResponse r && Objects.equals(r.id, id) && Objects.equals(r.model, model)
        && Objects.equals(r.providerModel, providerModel) && r.text.equals(text)
        && Objects.equals(r.reasoning, reasoning) && r.toolCalls.equals(toolCalls)
        && Objects.equals(r.finishReason, finishReason) && Objects.equals(r.usage, usage)
        && Objects.equals(r.cost, cost) && Objects.equals(r.truncation, truncation)
        && Objects.equals(r.cacheStatus, cacheStatus);
  }

  @Override
  public int hashCode() {
    return Objects.hash(id, model, text, toolCalls, finishReason, usage);
  }

  @Override
  public String toString() {
    return "ChatResponse{model=" + model + ", finish=" + finishReason + ", text=" + text.length() + " chars, toolCalls="
        + toolCalls.size() + ", usage=" + usage + (cost == null ? "" : ", cost=" + cost.total().toPlainString())
        + (truncation == null ? "" : ", truncated=" + truncation.messagesDropped())
        + (cacheStatus == null ? "" : ", cache=" + cacheStatus.outcome()) + "}";
  }
}
