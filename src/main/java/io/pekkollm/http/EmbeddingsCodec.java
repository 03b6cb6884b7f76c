package io.pekkollm.http;

import static io.pekkollm.wire.openai.JsonFields.optText;
import static io.pekkollm.wire.openai.JsonFields.requireText;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.model.EmbeddingRequest;
import io.pekkollm.model.EmbeddingResponse;
import io.pekkollm.model.LlmException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * OpenAI's embeddings shapes on the gateway: the {@code POST /v1/embeddings} request ({@code input} a string, an
 * array of strings, one token array or an array of token arrays; {@code dimensions}, {@code encoding_format}
 * {@code float | base64}, {@code user}; extensions {@code input_type}, {@code retry} and {@code cache}, as on chat
 * completions) and the list answer,
 * whose base64 vectors are little-endian float32 as OpenAI's. Stateless.
 */
final class EmbeddingsCodec {
  private EmbeddingsCodec() {}

  /** A parsed request and whether its vectors are answered base64. */
  record Parsed(EmbeddingRequest request, boolean base64) {}

  static Parsed readRequest(JsonNode body) {
    if (body == null || !body.isObject()) {
      throw LlmException.invalidRequest("the request body must be a JSON object", null);
    }
    String model = requireText(body, "model");
    if (model.isBlank()) {
      throw LlmException.invalidRequest("'model' must not be empty; use provider/model, e.g. openai/text-embedding-3-small",
          "model");
    }
    EmbeddingRequest.Builder b = EmbeddingRequest.builder(model);
    readInput(body.get("input"), b);
    JsonNode dims = body.get("dimensions");
    if (dims != null && !dims.isNull()) {
      if (!dims.isIntegralNumber() || !dims.canConvertToInt() || dims.asInt() < 1) {
        throw LlmException.invalidRequest("'dimensions' must be a positive integer", "dimensions");
      }
      b.dimensions(dims.asInt());
    }
    String format = optText(body, "encoding_format");
    if (format != null && !format.equals("float") && !format.equals("base64")) {
      throw LlmException.invalidRequest("'encoding_format' must be 'float' or 'base64', not '" + format + "'",
          "encoding_format");
    }
    b.user(optText(body, "user")).inputType(optText(body, "input_type"))
        .retry(ChatCompletionsCodec.readRetry(body.get("retry")))
        .cache(ChatCompletionsCodec.readCache(body.get("cache")));
    return new Parsed(b.build(), "base64".equals(format));
  }

  private static void readInput(JsonNode input, EmbeddingRequest.Builder b) {
    if (input == null || input.isNull()) {
      throw LlmException.invalidRequest("'input' is required: a string, an array of strings or of token arrays",
          "input");
    }
    if (input.isTextual()) {
      b.texts(List.of(nonEmpty(input, "input")));
      return;
    }
    if (!input.isArray() || input.isEmpty()) {
      throw LlmException.invalidRequest("'input' must be a non-empty string or a non-empty array", "input");
    }
    JsonNode first = input.get(0);
    if (first.isTextual()) {
      List<String> texts = new ArrayList<>(input.size());
      for (int i = 0; i < input.size(); i++) {
        if (!input.get(i).isTextual()) {
          throw LlmException.invalidRequest("'input[" + i + "]' must be a string like the other inputs", "input");
        }
        texts.add(nonEmpty(input.get(i), "input[" + i + "]"));
      }
      b.texts(texts);
    } else if (first.isIntegralNumber()) {
      b.tokens(List.of(tokens(input, "input")));
    } else if (first.isArray()) {
      List<List<Integer>> all = new ArrayList<>(input.size());
      for (int i = 0; i < input.size(); i++) {
        all.add(tokens(input.get(i), "input[" + i + "]"));
      }
      b.tokens(all);
    } else {
      throw LlmException.invalidRequest("'input' must hold strings, token ids or token arrays", "input");
    }
  }

  private static String nonEmpty(JsonNode text, String path) {
    if (text.asText().isEmpty()) {
      throw LlmException.invalidRequest("'" + path + "' must not be an empty string", "input");
    }
    return text.asText();
  }

  private static List<Integer> tokens(JsonNode arr, String path) {
    if (!arr.isArray() || arr.isEmpty()) {
      throw LlmException.invalidRequest("'" + path + "' must be a non-empty array of token ids", "input");
    }
    List<Integer> out = new ArrayList<>(arr.size());
    for (JsonNode t : arr) {
      if (!t.isIntegralNumber() || !t.canConvertToInt() || t.asInt() < 0) {
        throw LlmException.invalidRequest("'" + path + "' must hold non-negative integer token ids", "input");
      }
      out.add(t.asInt());
    }
    return out;
  }

  /** The list answer; {@code usage.cost} (USD) when priced. */
  static String writeResponse(EmbeddingResponse r, boolean base64) {
    return ChatCompletionsCodec.generate(g -> {
      // Each float in its shortest decimal that reads back as the same float (0.1f is 0.1, not 0.10000000149),
      // by Jackson's Schubfach writer: one conversion per number, where Float.toString and a double round trip
      // took three and most of the CPU of an embeddings answer.
      g.enable(com.fasterxml.jackson.core.StreamWriteFeature.USE_FAST_DOUBLE_WRITER.mappedFeature());
      g.writeStartObject();
      g.writeStringField("object", "list");
      g.writeArrayFieldStart("data");
      for (int i = 0; i < r.vectors().size(); i++) {
        float[] v = r.vectors().get(i);
        g.writeStartObject();
        g.writeStringField("object", "embedding");
        g.writeNumberField("index", i);
        g.writeFieldName("embedding");
        if (base64) {
          g.writeString(base64(v));
        } else {
          g.writeStartArray();
          for (float f : v) {
            g.writeNumber(f);
          }
          g.writeEndArray();
        }
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeStringField("model", r.model());
      g.writeObjectFieldStart("usage");
      int tokens = r.usage() == null ? 0 : r.usage().inputTokens();
      g.writeNumberField("prompt_tokens", tokens);
      g.writeNumberField("total_tokens", tokens);
      if (r.cost() != null) {
        g.writeFieldName("cost");
        g.writeNumber(r.cost().total().toPlainString());
      }
      g.writeEndObject();
      g.writeEndObject();
    });
  }

  /** OpenAI's base64 form: the floats as little-endian IEEE 754 float32, base64-encoded. */
  static String base64(float[] v) {
    ByteBuffer buf = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : v) {
      buf.putFloat(f);
    }
    return Base64.getEncoder().encodeToString(buf.array());
  }
}
