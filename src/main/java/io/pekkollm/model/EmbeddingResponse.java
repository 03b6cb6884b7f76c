package io.pekkollm.model;

import java.util.List;

/**
 * Embeddings of a request's inputs, one vector per input in input order. {@code model} is the
 * {@code provider/model} that served (a provider's own answer names its own model id); {@code usage} counts input
 * tokens only (estimated, four characters a token, for providers that do not report them); {@code cost} is null
 * when the catalog does not price the model. The vectors are not copied: do not change them.
 */
public record EmbeddingResponse(String model, List<float[]> vectors, Usage usage, Cost cost) {

  public EmbeddingResponse {
    vectors = List.copyOf(vectors);
  }

  /** This response with {@code newModel} and {@code newCost}. */
  public EmbeddingResponse with(String newModel, Cost newCost) {
    return new EmbeddingResponse(newModel, vectors, usage, newCost);
  }
}
