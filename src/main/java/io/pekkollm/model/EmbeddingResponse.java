package io.pekkollm.model;

import java.util.List;

/**
 * Embeddings of a request's inputs, one vector per input in input order. {@code model} is the
 * {@code provider/model} that served (a provider's own answer names its own model id); {@code usage} counts input
 * tokens only (estimated, four characters a token, for providers that do not report them); {@code cost} is null
 * when the catalog does not price the model; {@code cacheStatus} says how the response cache served it (null when
 * the request did not use the cache). The vectors are not copied: do not change them.
 */
public record EmbeddingResponse(String model, List<float[]> vectors, Usage usage, Cost cost,
    CacheStatus cacheStatus) {

  public EmbeddingResponse {
    vectors = List.copyOf(vectors);
  }

  /** A response that did not use the cache. */
  public EmbeddingResponse(String model, List<float[]> vectors, Usage usage, Cost cost) {
    this(model, vectors, usage, cost, null);
  }

  /** This response with {@code newModel} and {@code newCost}. */
  public EmbeddingResponse with(String newModel, Cost newCost) {
    return new EmbeddingResponse(newModel, vectors, usage, newCost, cacheStatus);
  }

  /** This response as the cache served it. */
  public EmbeddingResponse withCacheStatus(CacheStatus status) {
    return new EmbeddingResponse(model, vectors, usage, cost, status);
  }

  /** How the response cache served this response; empty when the request did not use it. */
  public java.util.Optional<CacheStatus> cache() {
    return java.util.Optional.ofNullable(cacheStatus);
  }
}
