package io.pekkollm.cache;

import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ToolCallDelta;
import io.pekkollm.util.Json;
import io.pekkollm.wire.openai.OpenAiRequestBody;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Cache keys and entry sizes. A key is the lower-case hex SHA-256 of the request's canonical JSON: the OpenAI
 * request body (provider/model id, messages, tools, tool choice, sampling parameters, stop, max tokens, seed,
 * response format and provider-specific extra fields) with object keys sorted, without {@code user},
 * {@code metadata}, {@code stream} or the library's own options (truncation, cache). Two requests that differ
 * only in those, or in the key order of a JSON schema, share an entry. Stateless and thread-safe.
 */
public final class CacheKeys {
  private static final ObjectWriter CANONICAL = Json.MAPPER.writer().with(JsonNodeFeature.WRITE_PROPERTIES_SORTED);

  private CacheKeys() {}

  /** The key of {@code request}, whose model is the {@code provider/model} id it is sent to. */
  public static String of(ChatRequest request) {
    ObjectNode body = OpenAiRequestBody.write(request, "max_tokens");
    body.remove("stream");
    body.remove("stream_options");
    body.remove("user");
    body.remove("metadata");
    return hash(body);
  }

  /**
   * The key of embedding {@code request}, whose model is the {@code provider/model} id it is sent to: the canonical
   * JSON of {@code {"embeddings": {"model", "input" | "tokens", "dimensions", "input_type"}}}, without {@code user},
   * the retry and cache options, and the answer's encoding (float or base64 is how the gateway writes the same
   * vectors). Never the key of a chat request.
   */
  public static String of(io.pekkollm.model.EmbeddingRequest request) {
    ObjectNode body = Json.object();
    ObjectNode e = body.putObject("embeddings").put("model", request.model());
    if (request.texts().isEmpty()) {
      com.fasterxml.jackson.databind.node.ArrayNode tokens = e.putArray("tokens");
      request.tokens().forEach(t -> {
        com.fasterxml.jackson.databind.node.ArrayNode a = tokens.addArray();
        t.forEach(a::add);
      });
    } else {
      com.fasterxml.jackson.databind.node.ArrayNode input = e.putArray("input");
      request.texts().forEach(input::add);
    }
    if (request.dimensions() != null) {
      e.put("dimensions", request.dimensions());
    }
    if (request.inputType() != null) {
      e.put("input_type", request.inputType());
    }
    return hash(body);
  }

  private static String hash(ObjectNode body) {
    try {
      byte[] canonical = CANONICAL.writeValueAsBytes(body);
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(canonical));
    } catch (NoSuchAlgorithmException | com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException("cannot compute a cache key", e);
    }
  }

  /** An estimate of the heap an embedding answer holds, in the units of {@link #estimateBytes(String, List)}. */
  public static long estimateBytes(String key, io.pekkollm.model.EmbeddingResponse r) {
    long n = 256 + 2L * key.length() + chars(r.model());
    for (float[] v : r.vectors()) {
      n += 16 + 4L * v.length;
    }
    return n;
  }

  /** True when {@code key} has the shape of a key (64 lower-case hex digits). */
  public static boolean isKey(String key) {
    if (key == null || key.length() != 64) {
      return false;
    }
    for (int i = 0; i < key.length(); i++) {
      char c = key.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  /**
   * An estimate of the heap an answer of these chunks holds: a fixed overhead per entry and chunk, two bytes
   * per character of text, reasoning and tool-call fields. Bounds ({@code max-bytes}) are in these units.
   */
  static long estimateBytes(String key, List<ChatChunk> chunks) {
    long n = 256 + 2L * key.length();
    for (ChatChunk c : chunks) {
      n += 96 + chars(c.id()) + chars(c.model()) + chars(c.textDelta()) + chars(c.reasoningDelta());
      for (ToolCallDelta t : c.toolCalls()) {
        n += 48 + chars(t.id()) + chars(t.name()) + chars(t.argumentsDelta());
      }
      if (c.usage() != null) {
        n += 40;
      }
    }
    return n;
  }

  private static long chars(String s) {
    return s == null ? 0 : 2L * s.length();
  }
}
