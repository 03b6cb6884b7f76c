package io.pekkollm.model;

import java.util.List;
import java.util.Objects;

/**
 * A request for embeddings of several inputs. {@code model} is {@code provider/model} (or a model group) when it
 * enters the library; providers receive a copy with their own model id. The inputs are texts, or (for
 * OpenAI-compatible providers only) token arrays; exactly one of {@link #texts()} and {@link #tokens()} is
 * non-empty. Optional fields are null when not set, and a provider sends only what was set.
 *
 * <p>Immutable and thread-safe; build with {@link #builder(String)}, derive with {@link #toBuilder()}.
 */
public final class EmbeddingRequest {
  private final String model;
  private final List<String> texts;
  private final List<List<Integer>> tokens;
  private final Integer dimensions;
  private final String user;
  private final String inputType;
  private final RetryOptions retry;
  private final CacheOptions cache;

  private EmbeddingRequest(Builder b) {
    this.model = Objects.requireNonNull(b.model, "model");
    this.texts = b.texts == null ? List.of() : List.copyOf(b.texts);
    this.tokens = b.tokens == null ? List.of() : b.tokens.stream().map(List::copyOf).toList();
    if (texts.isEmpty() == tokens.isEmpty()) {
      throw LlmException.invalidRequest("'input' must be a non-empty string, array of strings or array of token "
          + "arrays", "input");
    }
    this.dimensions = b.dimensions;
    this.user = b.user;
    this.inputType = b.inputType;
    this.retry = b.retry;
    this.cache = b.cache;
  }

  public static Builder builder(String model) {
    return new Builder(model);
  }

  public Builder toBuilder() {
    return new Builder(model).texts(texts.isEmpty() ? null : texts).tokens(tokens.isEmpty() ? null : tokens)
        .dimensions(dimensions).user(user).inputType(inputType).retry(retry).cache(cache);
  }

  public EmbeddingRequest withModel(String newModel) {
    return toBuilder().model(newModel).build();
  }

  /** The inputs {@code from} (inclusive) to {@code to} (exclusive), in a request otherwise the same. */
  public EmbeddingRequest slice(int from, int to) {
    return texts.isEmpty() ? toBuilder().tokens(tokens.subList(from, to)).build()
        : toBuilder().texts(texts.subList(from, to)).build();
  }

  public String model() { return model; }
  /** The text inputs; empty when the inputs are token arrays. */
  public List<String> texts() { return texts; }
  /** The token-array inputs; empty when the inputs are texts. */
  public List<List<Integer>> tokens() { return tokens; }
  /** How many inputs. */
  public int size() { return texts.isEmpty() ? tokens.size() : texts.size(); }
  /** The vector length asked for (models that can shorten theirs); null: the model's own. */
  public Integer dimensions() { return dimensions; }
  /** The end user's id, passed to providers that take one. */
  public String user() { return user; }
  /**
   * What the vectors are for, for providers that ask: Cohere's {@code input_type} ({@code search_document},
   * {@code search_query}, {@code classification}, {@code clustering}); Gemini's task type is derived from it.
   * Null: {@code search_document}.
   */
  public String inputType() { return inputType; }
  /** This request's retry budget; null uses the provider's. Never sent upstream. */
  public RetryOptions retry() { return retry; }
  /**
   * How this request uses the response cache, as {@link ChatRequest#cache()}: null follows
   * {@code pekko-llm.cache.mode}. Never sent upstream.
   */
  public CacheOptions cache() { return cache; }

  @Override
  public String toString() {
    return "EmbeddingRequest{model=" + model + ", inputs=" + size() + ", dimensions=" + dimensions + "}";
  }

  /** Builder for {@link EmbeddingRequest}; not thread-safe. */
  public static final class Builder {
    private String model;
    private List<String> texts;
    private List<List<Integer>> tokens;
    private Integer dimensions;
    private String user;
    private String inputType;
    private RetryOptions retry;
    private CacheOptions cache;

    private Builder(String model) {
      this.model = model;
    }

    public Builder model(String value) { this.model = value; return this; }
    public Builder texts(List<String> value) { this.texts = value; return this; }
    public Builder tokens(List<List<Integer>> value) { this.tokens = value; return this; }
    public Builder dimensions(Integer value) { this.dimensions = value; return this; }
    public Builder user(String value) { this.user = value; return this; }
    public Builder inputType(String value) { this.inputType = value; return this; }
    public Builder retry(RetryOptions value) { this.retry = value; return this; }
    public Builder cache(CacheOptions value) { this.cache = value; return this; }

    /** Fails with INVALID_REQUEST (param {@code input}) unless exactly one of texts and tokens is non-empty. */
    public EmbeddingRequest build() {
      return new EmbeddingRequest(this);
    }
  }
}
