package io.pekkollm.provider;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.model.EmbeddingRequest;
import io.pekkollm.model.EmbeddingResponse;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Usage;
import java.util.ArrayList;
import java.util.List;

/**
 * What every provider's embedding answer needs: vectors read from JSON number arrays, the count check, and a
 * token estimate for providers that report none. Stateless.
 */
public final class EmbeddingJson {
  private EmbeddingJson() {}

  /** The numbers of {@code array} as floats; a malformed-response error naming {@code provider} otherwise. */
  public static float[] floats(String provider, JsonNode array, String body) {
    if (array == null || !array.isArray() || array.isEmpty()) {
      throw ErrorClassifier.malformed(provider, "an embedding is not a non-empty array of numbers", body, null);
    }
    float[] out = new float[array.size()];
    for (int i = 0; i < out.length; i++) {
      JsonNode n = array.get(i);
      if (!n.isNumber()) {
        throw ErrorClassifier.malformed(provider, "an embedding holds a non-number", body, null);
      }
      out[i] = n.floatValue();
    }
    return out;
  }

  /** Each element of {@code arrays} read by {@link #floats}. */
  public static List<float[]> vectors(String provider, JsonNode arrays, String body) {
    List<float[]> out = new ArrayList<>();
    if (arrays != null && arrays.isArray()) {
      arrays.forEach(a -> out.add(floats(provider, a, body)));
    }
    return out;
  }

  /**
   * The answer to {@code request}: fails as a malformed response unless there is one vector per input.
   * {@code inputTokens} below 0: estimated, four characters a token.
   */
  public static EmbeddingResponse response(String provider, EmbeddingRequest request, String model,
      List<float[]> vectors, int inputTokens, String body) {
    if (vectors.size() != request.size()) {
      throw ErrorClassifier.malformed(provider, "the answer has " + vectors.size() + " embeddings for "
          + request.size() + " inputs", body, null);
    }
    int tokens = inputTokens >= 0 ? inputTokens : estimateTokens(request);
    return new EmbeddingResponse(model == null ? request.model() : model, vectors, Usage.of(tokens, 0), null);
  }

  /** Four characters a token (at least one a text); a token array counts its length. */
  public static int estimateTokens(EmbeddingRequest request) {
    long n = 0;
    for (String t : request.texts()) {
      n += Math.max(1, (t.length() + 3) / 4);
    }
    for (List<Integer> t : request.tokens()) {
      n += t.size();
    }
    return (int) Math.min(Integer.MAX_VALUE, n);
  }

  /** Fails with INVALID_REQUEST (param {@code input}) when {@code request}'s inputs are token arrays. */
  public static void requireTexts(String provider, EmbeddingRequest request) {
    if (!request.tokens().isEmpty()) {
      throw LlmException.invalidRequest("provider '" + provider + "' embeds texts only: token-array input is "
          + "for OpenAI-compatible providers", "input");
    }
  }
}
