package io.pekkollm.http;

import static io.pekkollm.wire.openai.JsonFields.optBool;
import static io.pekkollm.wire.openai.JsonFields.optDouble;
import static io.pekkollm.wire.openai.JsonFields.optInt;
import static io.pekkollm.wire.openai.JsonFields.optLong;
import static io.pekkollm.wire.openai.JsonFields.optPositiveInt;
import static io.pekkollm.wire.openai.JsonFields.optText;
import static io.pekkollm.wire.openai.JsonFields.requireText;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.model.CacheOptions;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.Cost;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.ResponseFormat;
import io.pekkollm.model.RetryOptions;
import io.pekkollm.model.ToolCall;
import io.pekkollm.model.ToolCallDelta;
import io.pekkollm.model.ToolChoice;
import io.pekkollm.model.ToolDefinition;
import io.pekkollm.model.TruncationStrategy;
import io.pekkollm.model.Usage;
import io.pekkollm.util.Json;
import io.pekkollm.wire.openai.OpenAiMessages;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The gateway's side of OpenAI Chat Completions: it reads request bodies, the gateway's own fields included
 * ({@code truncation}, {@code cache}, {@code retry}, never sent upstream), checking OpenAI's documented
 * ranges, and it writes {@code chat.completion} answers, {@code chat.completion.chunk} events and OpenAI's
 * error body. What it reads is the gateway's API, free to change; what the journal stores is
 * {@code recovery.StoredRequest}. Stateless and thread-safe.
 */
final class ChatCompletionsCodec {
  private static final Set<String> KNOWN_REQUEST_FIELDS = Set.of("model", "messages", "temperature", "top_p",
      "max_tokens", "max_completion_tokens", "stop", "seed", "presence_penalty", "frequency_penalty", "tools",
      "tool_choice", "parallel_tool_calls", "response_format", "user", "metadata", "stream", "stream_options", "n",
      "truncation", "cache", "retry", "validate_schema");

  private ChatCompletionsCodec() {}

  // ---------------------------------------------------------------- requests: read (gateway)

  /** What the gateway learned from a request body besides the {@link ChatRequest} itself. */
  record ParsedRequest(ChatRequest request, boolean stream, boolean includeUsage, boolean validateSchema) {}

  /**
   * Reads an OpenAI Chat Completions request body. Throws {@link LlmException} of kind INVALID_REQUEST naming
   * the field at fault. Fields this library does not model are kept in {@link ChatRequest#extraBody()}.
   */
  static ParsedRequest readRequest(JsonNode body) {
    if (body == null || !body.isObject()) {
      throw LlmException.invalidRequest("the request body must be a JSON object", null);
    }
    String model = requireText(body, "model");
    if (model.isBlank()) {
      throw LlmException.invalidRequest("'model' must not be empty; use provider/model, e.g. mock/echo", "model");
    }
    JsonNode msgs = body.get("messages");
    if (msgs == null || msgs.isNull()) {
      throw LlmException.invalidRequest("'messages' is required", "messages");
    }
    if (!msgs.isArray()) {
      throw LlmException.invalidRequest("'messages' must be an array of message objects", "messages");
    }
    if (msgs.isEmpty()) {
      throw LlmException.invalidRequest("'messages' must contain at least one message", "messages");
    }
    ChatRequest.Builder b = ChatRequest.builder(model);
    for (int i = 0; i < msgs.size(); i++) {
      b.addMessage(OpenAiMessages.readMessage(msgs.get(i), "messages[" + i + "]"));
    }
    // The ranges are OpenAI's documented ones, checked here so a bad value is a 400 naming the field, not an
    // upstream error after admission (or, on a lenient host, a silently clamped value).
    b.temperature(optDouble(body, "temperature", 0, 2));
    b.topP(optDouble(body, "top_p", 0, 1));
    Integer maxCompletionTokens = optPositiveInt(body, "max_completion_tokens");
    Integer maxTokens = optPositiveInt(body, "max_tokens");
    b.maxTokens(maxCompletionTokens != null ? maxCompletionTokens : maxTokens);
    b.seed(optLong(body, "seed"));
    b.presencePenalty(optDouble(body, "presence_penalty", -2, 2));
    b.frequencyPenalty(optDouble(body, "frequency_penalty", -2, 2));
    b.stop(readStop(body.get("stop")));
    b.tools(readTools(body.get("tools")));
    b.toolChoice(readToolChoice(body.get("tool_choice")));
    b.parallelToolCalls(optBool(body, "parallel_tool_calls"));
    b.responseFormat(readResponseFormat(body.get("response_format")));
    b.userId(optText(body, "user"));
    b.metadata(readMetadata(body.get("metadata")));
    Integer n = optInt(body, "n");
    if (n != null && n < 1) {
      throw LlmException.invalidRequest("'n' must be at least 1", "n");
    }
    if (n != null && n != 1) {
      throw LlmException.invalidRequest("'n' other than 1 is not supported; send separate requests", "n");
    }
    Boolean stream = optBool(body, "stream");
    JsonNode so = body.get("stream_options");
    if (so != null && !so.isNull() && !so.isObject()) {
      throw LlmException.invalidRequest("'stream_options' must be an object", "stream_options");
    }
    boolean includeUsage = so != null && so.path("include_usage").asBoolean(false);
    // The gateway's own extension: how to fit a request that exceeds the context window. Never sent upstream.
    String truncation = optText(body, "truncation");
    b.truncation(truncation == null ? null : TruncationStrategy.of(truncation));
    // The gateway's own extension too: how the response cache treats this request. Never sent upstream.
    b.cache(readCache(body.get("cache")));
    b.retry(readRetry(body.get("retry")));
    Map<String, JsonNode> extra = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = body.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!KNOWN_REQUEST_FIELDS.contains(e.getKey())) {
        checkPassThrough(e.getKey(), e.getValue());
        extra.put(e.getKey(), e.getValue());
      }
      // JSON has no infinity, but 1e400 parses as one: none may reach an upstream (tool schemas included).
      if (!e.getKey().equals("messages")) {
        requireFinite(e.getKey(), e.getValue());
      }
    }
    b.extraBody(extra);
    ChatRequest request = b.build();
    // The gateway's own extension: validate the answer against response_format's schema (repairing it by asking
    // again), so any provider answers schema-valid JSON or a 422. Never sent upstream.
    boolean validate = Boolean.TRUE.equals(optBool(body, "validate_schema"));
    if (validate && (request.responseFormat() == null
        || request.responseFormat().type() != ResponseFormat.Type.JSON_SCHEMA)) {
      throw LlmException.invalidRequest("'validate_schema' needs a response_format of type json_schema",
          "validate_schema");
    }
    if (validate && stream != null && stream) {
      throw LlmException.invalidRequest("'validate_schema' needs the whole answer: send it with stream: false",
          "validate_schema");
    }
    return new ParsedRequest(request, stream != null && stream, includeUsage, validate);
  }

  /**
   * Checks a field passed through to the upstream as it came: the ones OpenAI documents a range for
   * ({@code top_logprobs} 0..20, {@code logprobs} a boolean, {@code logit_bias} values -100..100).
   */
  private static void checkPassThrough(String field, JsonNode v) {
    if (v.isNull()) {
      return;
    }
    switch (field) {
      case "top_logprobs" -> {
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 0 || v.asInt() > 20) {
          throw LlmException.invalidRequest("'top_logprobs' must be an integer between 0 and 20", field);
        }
      }
      case "logprobs" -> {
        if (!v.isBoolean()) {
          throw LlmException.invalidRequest("'logprobs' must be true or false", field);
        }
      }
      case "logit_bias" -> {
        if (!v.isObject()) {
          throw LlmException.invalidRequest("'logit_bias' must be an object of token ids to numbers", field);
        }
        v.fields().forEachRemaining(e -> {
          JsonNode bias = e.getValue();
          if (!bias.isNumber() || !(bias.asDouble() >= -100 && bias.asDouble() <= 100)) {
            throw LlmException.invalidRequest("'logit_bias' values must be numbers between -100 and 100",
                field + "." + e.getKey());
          }
        });
      }
      default -> { }
    }
  }

  private static void requireFinite(String path, JsonNode v) {
    if (v.isFloatingPointNumber() && !Double.isFinite(v.asDouble())) {
      throw LlmException.invalidRequest("'" + path + "' must be a finite number", path);
    }
    if (v.isContainerNode()) {
      Iterator<Map.Entry<String, JsonNode>> fields = v.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> e = fields.next();
        requireFinite(path + "." + e.getKey(), e.getValue());
      }
      if (v.isArray()) {
        for (int i = 0; i < v.size(); i++) {
          requireFinite(path + "[" + i + "]", v.get(i));
        }
      }
    }
  }

  /**
   * The {@code cache} extension: {@code true} (cache with the default TTL), {@code false} (bypass), or an object
   * {@code {"ttl_seconds": n, "no_cache": bool}}; absent or null follows the configured mode.
   */
  static CacheOptions readCache(JsonNode c) {
    if (c == null || c.isNull()) {
      return null;
    }
    if (c.isBoolean()) {
      return c.booleanValue() ? CacheOptions.use() : CacheOptions.skip();
    }
    if (!c.isObject()) {
      throw LlmException.invalidRequest("'cache' must be true, false or an object like {\"ttl_seconds\": 600}",
          "cache");
    }
    JsonNode noCache = c.get("no_cache");
    if (noCache != null && !noCache.isNull() && !noCache.isBoolean()) {
      throw LlmException.invalidRequest("'cache.no_cache' must be a boolean", "cache.no_cache");
    }
    if (noCache != null && noCache.asBoolean(false)) {
      return CacheOptions.skip();
    }
    JsonNode ttl = c.get("ttl_seconds");
    if (ttl == null || ttl.isNull()) {
      return CacheOptions.use();
    }
    if (!ttl.isIntegralNumber() || ttl.asLong() < 1) {
      throw LlmException.invalidRequest("'cache.ttl_seconds' must be a positive integer", "cache.ttl_seconds");
    }
    return CacheOptions.ttl(java.time.Duration.ofSeconds(ttl.asLong()));
  }

  /**
   * The gateway's retry extension: {@code false} (never retry), {@code true} or absent (the provider's policy),
   * or {@code {"max_attempts": n}} with n attempts in all, the first included (0 reads as 1).
   */
  static RetryOptions readRetry(JsonNode r) {
    if (r == null || r.isNull() || (r.isBoolean() && r.asBoolean())) {
      return null;
    }
    if (r.isBoolean()) {
      return RetryOptions.NONE;
    }
    JsonNode n = r.isObject() ? r.get("max_attempts") : null;
    if (n == null || !n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() < 0) {
      throw LlmException.invalidRequest("'retry' must be false, true or {\"max_attempts\": n} with n >= 0 attempts "
          + "in all (0 and 1: never retry)", "retry");
    }
    return RetryOptions.maxAttempts(n.asInt());
  }

  private static List<String> readStop(JsonNode stop) {
    if (stop == null || stop.isNull()) {
      return null;
    }
    if (stop.isTextual()) {
      return List.of(stop.asText());
    }
    if (stop.isArray()) {
      List<String> out = new ArrayList<>();
      for (JsonNode s : stop) {
        if (!s.isTextual()) {
          throw LlmException.invalidRequest("'stop' must be a string or an array of strings", "stop");
        }
        out.add(s.asText());
      }
      return out;
    }
    throw LlmException.invalidRequest("'stop' must be a string or an array of strings", "stop");
  }

  private static List<ToolDefinition> readTools(JsonNode tools) {
    if (tools == null || tools.isNull()) {
      return null;
    }
    if (!tools.isArray()) {
      throw LlmException.invalidRequest("'tools' must be an array", "tools");
    }
    List<ToolDefinition> out = new ArrayList<>();
    for (int i = 0; i < tools.size(); i++) {
      JsonNode t = tools.get(i);
      JsonNode fn = t.path("function");
      if (!"function".equals(Json.text(t, "type")) || !fn.path("name").isTextual()) {
        throw LlmException.invalidRequest("tools[" + i + "] must be {\"type\": \"function\", \"function\": {\"name\": ...}}",
            "tools");
      }
      out.add(toolDefinition(fn, "tools[" + i + "].function"));
    }
    return out;
  }

  /** A function tool from {@code fn} ({@code name}, {@code description}, {@code parameters}, {@code strict}). */
  static ToolDefinition toolDefinition(JsonNode fn, String path) {
    JsonNode params = fn.get("parameters");
    if (params != null && !params.isNull() && !params.isObject()) {
      throw LlmException.invalidRequest(path + ".parameters must be a JSON Schema object", "tools");
    }
    return new ToolDefinition(fn.get("name").asText(), Json.text(fn, "description"),
        params == null || params.isNull() ? null : params, optBool(fn, "strict"));
  }

  private static ToolChoice readToolChoice(JsonNode tc) {
    return toolChoice(tc, Json.text(tc == null ? null : tc.path("function"), "name"),
        "'tool_choice' must be auto, none, required or a function object");
  }

  /**
   * A {@code tool_choice}: null when absent, {@code auto | none | required}, or the function {@code functionName}
   * (read by the caller from its API's object form; null when the object names none). Else a 400 with
   * {@code message}. Shared by the Chat Completions and Responses shapes.
   */
  static ToolChoice toolChoice(JsonNode tc, String functionName, String message) {
    if (tc == null || tc.isNull()) {
      return null;
    }
    if (tc.isTextual()) {
      return switch (tc.asText()) {
        case "auto" -> ToolChoice.AUTO;
        case "none" -> ToolChoice.NONE;
        case "required" -> ToolChoice.REQUIRED;
        default -> throw LlmException.invalidRequest(message, "tool_choice");
      };
    }
    if (tc.isObject() && functionName != null) {
      return ToolChoice.function(functionName);
    }
    throw LlmException.invalidRequest(message, "tool_choice");
  }

  private static ResponseFormat readResponseFormat(JsonNode rf) {
    if (rf == null || rf.isNull()) {
      return null;
    }
    if (!rf.isObject()) {
      throw LlmException.invalidRequest("'response_format' must be an object", "response_format");
    }
    return responseFormat(Json.text(rf, "type"), rf.path("json_schema"), "response_format");
  }

  /**
   * A response format of {@code type} ({@code text}, {@code json_object}, {@code json_schema} with {@code name},
   * {@code schema} and {@code strict} in {@code schema}); else a 400 naming {@code param}. Shared by the Chat
   * Completions ({@code response_format}) and Responses ({@code text.format}) shapes.
   */
  static ResponseFormat responseFormat(String type, JsonNode schema, String param) {
    if ("text".equals(type)) {
      return ResponseFormat.TEXT;
    }
    if ("json_object".equals(type)) {
      return ResponseFormat.JSON_OBJECT;
    }
    if ("json_schema".equals(type)) {
      if (!schema.path("name").isTextual() || !schema.path("schema").isObject()) {
        throw LlmException.invalidRequest(param + " of type json_schema needs 'name' and a 'schema' object", param);
      }
      return ResponseFormat.jsonSchema(schema.get("name").asText(), schema.get("schema"), optBool(schema, "strict"));
    }
    throw LlmException.invalidRequest(param + ".type must be text, json_object or json_schema", param);
  }

  private static Map<String, String> readMetadata(JsonNode md) {
    if (md == null || md.isNull()) {
      return null;
    }
    if (!md.isObject()) {
      throw LlmException.invalidRequest("'metadata' must be an object of strings", "metadata");
    }
    Map<String, String> out = new LinkedHashMap<>();
    md.fields().forEachRemaining(e -> {
      if (!e.getValue().isValueNode()) {
        throw LlmException.invalidRequest("'metadata' values must be strings", "metadata");
      }
      out.put(e.getKey(), e.getValue().asText());
    });
    return out;
  }

  // ---------------------------------------------------------------- responses: write (gateway)

  /** Writes one {@code chat.completion.chunk} for the gateway's SSE stream. Usage is sent separately. */
  static String writeChunk(ChatChunk c, String id, String model, long created, boolean first) {
    return generate(g -> {
      g.writeStartObject();
      header(g, id, "chat.completion.chunk", created, model);
      g.writeArrayFieldStart("choices");
      g.writeStartObject();
      g.writeNumberField("index", 0);
      g.writeObjectFieldStart("delta");
      if (first) {
        g.writeStringField("role", "assistant");
      }
      if (c.textDelta() != null) {
        g.writeStringField("content", c.textDelta());
      }
      if (c.reasoningDelta() != null) {
        g.writeStringField("reasoning_content", c.reasoningDelta());
      }
      if (!c.toolCalls().isEmpty()) {
        g.writeArrayFieldStart("tool_calls");
        for (ToolCallDelta t : c.toolCalls()) {
          g.writeStartObject();
          g.writeNumberField("index", t.index());
          if (t.id() != null) {
            g.writeStringField("id", t.id());
            g.writeStringField("type", "function");
          }
          g.writeObjectFieldStart("function");
          if (t.name() != null) {
            g.writeStringField("name", t.name());
          }
          g.writeStringField("arguments", t.argumentsDelta());
          g.writeEndObject();
          g.writeEndObject();
        }
        g.writeEndArray();
      }
      g.writeEndObject();
      g.writeNullField("logprobs");
      if (c.finishReason() != null) {
        g.writeStringField("finish_reason", c.finishReason().value());
      } else {
        g.writeNullField("finish_reason");
      }
      g.writeEndObject();
      g.writeEndArray();
      g.writeEndObject();
    });
  }

  /** The final usage chunk ({@code choices: []}), sent when the client asked for {@code include_usage}. */
  static String writeUsageChunk(Usage usage, String id, String model, long created) {
    return writeUsageChunk(usage, null, id, model, created);
  }

  /** The final usage chunk with the call's cost in {@code usage.cost} (USD) when {@code cost} is not null. */
  static String writeUsageChunk(Usage usage, Cost cost, String id, String model, long created) {
    return generate(g -> {
      g.writeStartObject();
      header(g, id, "chat.completion.chunk", created, model);
      g.writeArrayFieldStart("choices");
      g.writeEndArray();
      writeUsage(g, usage, cost);
      g.writeEndObject();
    });
  }

  /** Writes a complete {@code chat.completion}. */
  static String writeResponse(ChatResponse r, String id, long created) {
    return generate(g -> {
      g.writeStartObject();
      header(g, id, "chat.completion", created, r.model());
      g.writeArrayFieldStart("choices");
      g.writeStartObject();
      g.writeNumberField("index", 0);
      g.writeObjectFieldStart("message");
      g.writeStringField("role", "assistant");
      if (r.text().isEmpty() && !r.toolCalls().isEmpty()) {
        g.writeNullField("content");
      } else {
        g.writeStringField("content", r.text());
      }
      if (r.reasoning() != null) {
        g.writeStringField("reasoning_content", r.reasoning());
      }
      g.writeNullField("refusal");
      if (!r.toolCalls().isEmpty()) {
        g.writeArrayFieldStart("tool_calls");
        for (ToolCall t : r.toolCalls()) {
          g.writeStartObject();
          g.writeStringField("id", t.id());
          g.writeStringField("type", "function");
          g.writeObjectFieldStart("function");
          g.writeStringField("name", t.name());
          g.writeStringField("arguments", t.arguments());
          g.writeEndObject();
          g.writeEndObject();
        }
        g.writeEndArray();
      }
      g.writeEndObject();
      g.writeNullField("logprobs");
      FinishReason fr = r.finishReason() != null ? r.finishReason()
          : r.toolCalls().isEmpty() ? FinishReason.STOP : FinishReason.TOOL_CALLS;
      g.writeStringField("finish_reason", fr.value());
      g.writeEndObject();
      g.writeEndArray();
      if (r.usage() != null) {
        writeUsage(g, r.usage(), r.cost().orElse(null));
      }
      g.writeEndObject();
    });
  }

  /** OpenAI's error body: {@code {"error": {"message", "type", "param", "code"}}}. */
  static String writeError(String message, String type, String param, String code) {
    return generate(g -> {
      g.writeStartObject();
      g.writeObjectFieldStart("error");
      g.writeStringField("message", message == null ? "" : message);
      g.writeStringField("type", type);
      if (param == null) {
        g.writeNullField("param");
      } else {
        g.writeStringField("param", param);
      }
      if (code == null) {
        g.writeNullField("code");
      } else {
        g.writeStringField("code", code);
      }
      g.writeEndObject();
      g.writeEndObject();
    });
  }

  private static void header(JsonGenerator g, String id, String object, long created, String model)
      throws IOException {
    g.writeStringField("id", id);
    g.writeStringField("object", object);
    g.writeNumberField("created", created);
    g.writeStringField("model", model);
  }

  /** OpenAI's usage object; {@code cost} in USD, as OpenRouter reports it, when known. */
  private static void writeUsage(JsonGenerator g, Usage u, Cost cost) throws IOException {
    g.writeObjectFieldStart("usage");
    g.writeNumberField("prompt_tokens", u.inputTokens());
    g.writeNumberField("completion_tokens", u.outputTokens());
    g.writeNumberField("total_tokens", u.totalTokens());
    if (cost != null) {
      g.writeFieldName("cost");
      // Plain notation: tiny costs would otherwise print as 7.5E-8, which some JSON clients mishandle.
      g.writeNumber(cost.total().toPlainString());
    }
    g.writeObjectFieldStart("prompt_tokens_details");
    g.writeNumberField("cached_tokens", u.cachedInputTokens());
    g.writeEndObject();
    g.writeObjectFieldStart("completion_tokens_details");
    g.writeNumberField("reasoning_tokens", u.reasoningTokens());
    g.writeEndObject();
    g.writeEndObject();
  }

  interface Writer {
    void write(JsonGenerator g) throws IOException;
  }

  static String generate(Writer w) {
    StringWriter sw = new StringWriter(256);
    try (JsonGenerator g = Json.MAPPER.getFactory().createGenerator(sw)) {
      w.write(g);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return sw.toString();
  }
}
