package io.pekkollm.provider.openai;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.EmbeddingRequest;
import io.pekkollm.model.EmbeddingResponse;
import io.pekkollm.provider.EmbeddingJson;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.ToolCallDelta;
import io.pekkollm.model.Usage;
import io.pekkollm.util.Json;
import io.pekkollm.wire.openai.OpenAiRequestBody;
import java.util.ArrayList;
import java.util.List;

/**
 * Translation between the library's model and an OpenAI-compatible upstream: the request body it is sent, and
 * the chunks and complete answers it gives back. Quirks of compatible hosts are read here: {@code
 * reasoning_content} / {@code reasoning} deltas (DeepSeek, xAI, vLLM), Groq's {@code x_groq.usage}, DeepSeek's
 * {@code prompt_cache_hit_tokens}, and Mistral's tool-call deltas without {@code index}. Stateless.
 */
final class OpenAiMapper {
  private OpenAiMapper() {}

  /**
   * The upstream request body. {@code maxTokensField} is {@code max_completion_tokens} for OpenAI itself and
   * {@code max_tokens} for most compatible hosts; {@code includeUsage} asks a stream for its usage chunk.
   */
  static ObjectNode requestBody(ChatRequest request, boolean stream, boolean includeUsage, String maxTokensField) {
    ObjectNode o = OpenAiRequestBody.write(request, maxTokensField);
    o.put("stream", stream);
    if (stream && includeUsage) {
      o.putObject("stream_options").put("include_usage", true);
    } else {
      o.remove("stream_options");
    }
    return o;
  }

  /**
   * The body of {@code POST /embeddings}: the inputs as an array (of strings or of token arrays), floats asked
   * for (the gateway encodes base64 itself), {@code dimensions} and {@code user} when set.
   */
  static ObjectNode embeddingBody(EmbeddingRequest request) {
    ObjectNode o = Json.object();
    o.put("model", request.model());
    var input = o.putArray("input");
    request.texts().forEach(input::add);
    request.tokens().forEach(t -> {
      var arr = input.addArray();
      t.forEach(arr::add);
    });
    o.put("encoding_format", "float");
    if (request.dimensions() != null) {
      o.put("dimensions", request.dimensions());
    }
    if (request.user() != null) {
      o.put("user", request.user());
    }
    return o;
  }

  /** An embeddings answer ({@code data[].embedding} placed by {@code data[].index}, {@code usage.prompt_tokens}). */
  static EmbeddingResponse readEmbeddings(String provider, EmbeddingRequest request, JsonNode root, String body) {
    JsonNode data = root.path("data");
    float[][] byIndex = new float[data.size()][];
    int next = 0;
    for (JsonNode d : data) {
      int i = d.path("index").isInt() ? d.path("index").asInt() : next;
      if (i < 0 || i >= byIndex.length || byIndex[i] != null) {
        throw io.pekkollm.provider.ErrorClassifier.malformed(provider, "embedding index " + i + " is out of place",
            body, null);
      }
      byIndex[i] = EmbeddingJson.floats(provider, d.path("embedding"), body);
      next++;
    }
    JsonNode usage = root.path("usage");
    int tokens = usage.path("prompt_tokens").isNumber() ? usage.path("prompt_tokens").asInt() : -1;
    return EmbeddingJson.response(provider, request, Json.text(root, "model"), List.of(byIndex), tokens, body);
  }

  // ---------------------------------------------------------------- responses: read (from upstreams)

  /**
   * Reads one streamed chunk ({@code chat.completion.chunk}). Error objects inside chunks are the caller's to
   * detect first (see {@code OpenAiProvider}).
   */
  static ChatChunk readChunk(JsonNode node) {
    return readChoice(node, "delta");
  }

  /** Reads a complete {@code chat.completion} as one chunk, so it folds like a stream. */
  static ChatChunk readCompletion(JsonNode node) {
    return readChoice(node, "message");
  }

  private static ChatChunk readChoice(JsonNode node, String field) {
    JsonNode choices = node.get("choices");
    JsonNode choice = choices != null && choices.isArray() && !choices.isEmpty() ? choices.get(0) : null;
    JsonNode d = choice == null ? null : choice.get(field);
    String text = null;
    String reasoning = null;
    List<ToolCallDelta> calls = List.of();
    if (d != null && d.isObject()) {
      text = Json.text(d, "content");
      reasoning = Json.text(d, "reasoning_content");
      if (reasoning == null) {
        reasoning = Json.text(d, "reasoning");
      }
      JsonNode tcs = d.get("tool_calls");
      if (tcs != null && tcs.isArray() && !tcs.isEmpty()) {
        calls = new ArrayList<>(tcs.size());
        for (int i = 0; i < tcs.size(); i++) {
          JsonNode tc = tcs.get(i);
          JsonNode fn = tc.path("function");
          // Mistral sends whole tool calls without "index": their position is the index.
          int index = tc.has("index") ? tc.get("index").asInt() : i;
          calls.add(new ToolCallDelta(index, Json.text(tc, "id"), Json.text(fn, "name"), Json.text(fn, "arguments")));
        }
      }
    }
    FinishReason finish = choice == null ? null : FinishReason.of(Json.text(choice, "finish_reason"));
    return new ChatChunk(Json.text(node, "id"), Json.text(node, "model"), text, reasoning, calls, finish,
        readUsage(node));
  }

  /** Usage from {@code usage}, or Groq's {@code x_groq.usage}; null when absent. */
  static Usage readUsage(JsonNode node) {
    JsonNode u = node.get("usage");
    if (u == null || !u.isObject()) {
      JsonNode xg = node.path("x_groq").get("usage");
      u = xg != null && xg.isObject() ? xg : null;
    }
    if (u == null) {
      return null;
    }
    int cached = Json.intValue(u.path("prompt_tokens_details"), "cached_tokens");
    if (cached == 0) {
      cached = Json.intValue(u, "prompt_cache_hit_tokens");
    }
    return new Usage(Json.intValue(u, "prompt_tokens"), Json.intValue(u, "completion_tokens"), cached, 0,
        Json.intValue(u.path("completion_tokens_details"), "reasoning_tokens"));
  }
}
