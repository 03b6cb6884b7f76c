package io.pekkollm.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A chat request. {@code model} is {@code provider/model} (e.g. {@code openai/gpt-4o-mini}) when it enters the
 * library; providers receive a copy whose model is their own id. Optional fields are null when not set, and a
 * provider sends only what was set.
 *
 * <p>Immutable and thread-safe; build with {@link #builder(String)} and derive with {@link #toBuilder()} or the
 * {@code withX} methods.
 */
public final class ChatRequest {
  private final String model;
  private final List<Message> messages;
  private final Double temperature;
  private final Double topP;
  private final Integer maxTokens;
  private final List<String> stop;
  private final Long seed;
  private final Double presencePenalty;
  private final Double frequencyPenalty;
  private final List<ToolDefinition> tools;
  private final ToolChoice toolChoice;
  private final Boolean parallelToolCalls;
  private final ResponseFormat responseFormat;
  private final String user;
  private final Map<String, String> metadata;
  private final Map<String, JsonNode> extraBody;
  private final TruncationStrategy truncation;
  private final CacheOptions cache;
  private final RetryOptions retry;
  private final String owner;

  private ChatRequest(Builder b) {
    this.model = Objects.requireNonNull(b.model, "model");
    this.messages = List.copyOf(b.messages);
    this.temperature = b.temperature;
    this.topP = b.topP;
    this.maxTokens = b.maxTokens;
    this.stop = b.stop == null ? List.of() : List.copyOf(b.stop);
    this.seed = b.seed;
    this.presencePenalty = b.presencePenalty;
    this.frequencyPenalty = b.frequencyPenalty;
    this.tools = b.tools == null ? List.of() : List.copyOf(b.tools);
    this.toolChoice = b.toolChoice;
    this.parallelToolCalls = b.parallelToolCalls;
    this.responseFormat = b.responseFormat;
    this.user = b.user;
    this.metadata = b.metadata == null ? Map.of() : Map.copyOf(b.metadata);
    this.extraBody = b.extraBody == null ? Map.of() : Map.copyOf(b.extraBody);
    this.truncation = b.truncation;
    this.cache = b.cache;
    this.retry = b.retry;
    this.owner = b.owner;
  }

  public static Builder builder(String model) {
    return new Builder(model);
  }

  public Builder toBuilder() {
    Builder b = new Builder(model);
    b.messages.addAll(messages);
    b.temperature = temperature;
    b.topP = topP;
    b.maxTokens = maxTokens;
    b.stop = stop;
    b.seed = seed;
    b.presencePenalty = presencePenalty;
    b.frequencyPenalty = frequencyPenalty;
    b.tools = tools;
    b.toolChoice = toolChoice;
    b.parallelToolCalls = parallelToolCalls;
    b.responseFormat = responseFormat;
    b.user = user;
    b.metadata = metadata;
    b.extraBody = extraBody;
    b.truncation = truncation;
    b.cache = cache;
    b.retry = retry;
    b.owner = owner;
    return b;
  }

  public ChatRequest withModel(String newModel) {
    return toBuilder().model(newModel).build();
  }

  public ChatRequest withMessages(List<Message> newMessages) {
    return toBuilder().messages(newMessages).build();
  }

  public ChatRequest withMaxTokens(Integer newMaxTokens) {
    return toBuilder().maxTokens(newMaxTokens).build();
  }

  public ChatRequest withTruncation(TruncationStrategy newTruncation) {
    return toBuilder().truncation(newTruncation).build();
  }

  public ChatRequest withCache(CacheOptions newCache) {
    return toBuilder().cache(newCache).build();
  }

  public String model() { return model; }
  public List<Message> messages() { return messages; }
  public Double temperature() { return temperature; }
  public Double topP() { return topP; }
  public Integer maxTokens() { return maxTokens; }
  public List<String> stop() { return stop; }
  public Long seed() { return seed; }
  public Double presencePenalty() { return presencePenalty; }
  public Double frequencyPenalty() { return frequencyPenalty; }
  public List<ToolDefinition> tools() { return tools; }
  public ToolChoice toolChoice() { return toolChoice; }
  public Boolean parallelToolCalls() { return parallelToolCalls; }
  public ResponseFormat responseFormat() { return responseFormat; }
  public String user() { return user; }
  /** Caller's key/value tags; never sent upstream except to providers that accept metadata. */
  public Map<String, String> metadata() { return metadata; }
  /**
   * Provider-specific fields passed through unchanged to OpenAI-compatible upstreams (for example
   * {@code reasoning_effort} or {@code logit_bias}).
   */
  public Map<String, JsonNode> extraBody() { return extraBody; }
  /**
   * How to shorten the request when it does not fit the model's context window; null (the default) rejects
   * it with CONTEXT_LENGTH_EXCEEDED instead. Never sent upstream.
   */
  public TruncationStrategy truncation() { return truncation; }
  /**
   * How this request uses the response cache; null (the default) follows {@code pekko-llm.cache.mode}. Never
   * sent upstream and not part of the cache key.
   */
  public CacheOptions cache() { return cache; }
  /**
   * This request's retry budget, overriding the provider's {@code retry.max-attempts}; null (the default) uses
   * the provider's. Never sent upstream.
   */
  public RetryOptions retry() { return retry; }
  /**
   * Who owns what this call leaves in the journal (its stream, for {@code GET /v1/streams/{id}} and resume): a
   * virtual key's id, or null (the default) for no owner. The gateway sets it for calls made with a virtual key,
   * so one key cannot read another's streams. Never sent upstream and not part of the cache key.
   */
  public String owner() { return owner; }

  /** The text of the last user message, or "" when there is none. */
  public String lastUserText() {
    for (int i = messages.size() - 1; i >= 0; i--) {
      if (messages.get(i) instanceof Message.User u) {
        return u.text();
      }
    }
    return "";
  }

  @Override
  public String toString() {
    return "ChatRequest{model=" + model + ", messages=" + messages.size() + ", maxTokens=" + maxTokens
        + ", tools=" + tools.size() + "}";
  }

  /** Builder for {@link ChatRequest}; not thread-safe. */
  public static final class Builder {
    private String model;
    private final List<Message> messages = new ArrayList<>();
    private Double temperature;
    private Double topP;
    private Integer maxTokens;
    private List<String> stop;
    private Long seed;
    private Double presencePenalty;
    private Double frequencyPenalty;
    private List<ToolDefinition> tools;
    private ToolChoice toolChoice;
    private Boolean parallelToolCalls;
    private ResponseFormat responseFormat;
    private String user;
    private Map<String, String> metadata;
    private Map<String, JsonNode> extraBody;
    private TruncationStrategy truncation;
    private CacheOptions cache;
    private RetryOptions retry;
    private String owner;

    private Builder(String model) {
      this.model = model;
    }

    public Builder model(String value) { this.model = value; return this; }
    public Builder addMessage(Message m) { this.messages.add(Objects.requireNonNull(m)); return this; }
    public Builder messages(List<Message> ms) { this.messages.clear(); this.messages.addAll(ms); return this; }
    public Builder system(String text) { return addMessage(Message.system(text)); }
    public Builder user(String text) { return addMessage(Message.user(text)); }
    public Builder assistant(String text) { return addMessage(Message.assistant(text)); }
    public Builder temperature(Double value) { this.temperature = value; return this; }
    public Builder topP(Double value) { this.topP = value; return this; }
    public Builder maxTokens(Integer value) { this.maxTokens = value; return this; }
    public Builder stop(List<String> value) { this.stop = value; return this; }
    public Builder seed(Long value) { this.seed = value; return this; }
    public Builder presencePenalty(Double value) { this.presencePenalty = value; return this; }
    public Builder frequencyPenalty(Double value) { this.frequencyPenalty = value; return this; }
    public Builder tools(List<ToolDefinition> value) { this.tools = value; return this; }
    public Builder toolChoice(ToolChoice value) { this.toolChoice = value; return this; }
    public Builder parallelToolCalls(Boolean value) { this.parallelToolCalls = value; return this; }
    public Builder responseFormat(ResponseFormat value) { this.responseFormat = value; return this; }
    public Builder userId(String value) { this.user = value; return this; }
    public Builder metadata(Map<String, String> value) { this.metadata = value; return this; }
    /** See {@link ChatRequest#truncation()}; null rejects a request that does not fit. */
    public Builder truncation(TruncationStrategy value) { this.truncation = value; return this; }
    /** See {@link ChatRequest#cache()}; null follows the configured cache mode. */
    public Builder cache(CacheOptions value) { this.cache = value; return this; }
    /** See {@link ChatRequest#retry()}; {@link RetryOptions#NONE} opts out of retries, null uses the provider's. */
    public Builder retry(RetryOptions value) { this.retry = value; return this; }
    /** See {@link ChatRequest#owner()}. */
    public Builder owner(String value) { this.owner = value; return this; }

    public Builder extraBody(Map<String, JsonNode> value) {
      this.extraBody = value == null ? null : new LinkedHashMap<>(value);
      return this;
    }

    public ChatRequest build() {
      return new ChatRequest(this);
    }
  }
}
