package io.pekkollm.provider.openai;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.model.CacheOptions;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.ContentPart;
import io.pekkollm.model.Cost;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Message;
import io.pekkollm.model.ResponseFormat;
import io.pekkollm.model.RetryOptions;
import io.pekkollm.model.ToolCall;
import io.pekkollm.model.ToolCallDelta;
import io.pekkollm.model.ToolChoice;
import io.pekkollm.model.ToolDefinition;
import io.pekkollm.model.TruncationStrategy;
import io.pekkollm.model.Usage;
import io.pekkollm.util.Json;
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
 * The OpenAI Chat Completions wire format, both ways: requests (read by the gateway, written to upstreams),
 * chunks and complete responses (read from upstreams, written by the gateway). One codec, so the gateway and
 * the OpenAI provider cannot drift apart. Stateless and thread-safe.
 *
 * <p>Quirks of OpenAI-compatible hosts are read here too: {@code reasoning_content} / {@code reasoning}
 * deltas (DeepSeek, xAI, vLLM), Groq's {@code x_groq.usage}, DeepSeek's {@code prompt_cache_hit_tokens},
 * Mistral's tool-call deltas without {@code index}, and error objects inside stream chunks (OpenRouter).
 */
public final class OpenAiCodec {
  private static final Set<String> KNOWN_REQUEST_FIELDS = Set.of("model", "messages", "temperature", "top_p",
      "max_tokens", "max_completion_tokens", "stop", "seed", "presence_penalty", "frequency_penalty", "tools",
      "tool_choice", "parallel_tool_calls", "response_format", "user", "metadata", "stream", "stream_options", "n",
      "truncation", "cache", "retry");

  private OpenAiCodec() {}

  // ---------------------------------------------------------------- requests: read (gateway)

  /** What the gateway learned from a request body besides the {@link ChatRequest} itself. */
  public record ParsedRequest(ChatRequest request, boolean stream, boolean includeUsage) {}

  /**
   * Reads an OpenAI Chat Completions request body. Throws {@link LlmException} of kind INVALID_REQUEST naming
   * the field at fault. Fields this library does not model are kept in {@link ChatRequest#extraBody()}.
   */
  public static ParsedRequest readRequest(JsonNode body) {
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
      b.addMessage(readMessage(msgs.get(i), "messages[" + i + "]"));
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
    return new ParsedRequest(b.build(), stream != null && stream, includeUsage);
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
  private static RetryOptions readRetry(JsonNode r) {
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

  /**
   * Reads one message in OpenAI's shape; {@code path} names it in errors (e.g. {@code messages[2]}). Throws
   * {@link LlmException} of kind INVALID_REQUEST naming the field at fault.
   */
  public static Message readMessage(JsonNode m, String path) {
    if (m == null || !m.isObject()) {
      throw LlmException.invalidRequest(path + " must be an object with 'role' and 'content'", path);
    }
    JsonNode roleNode = m.get("role");
    if (roleNode == null || !roleNode.isTextual()) {
      throw LlmException.invalidRequest(path + ".role is required: system, developer, user, assistant or tool",
          path + ".role");
    }
    String role = roleNode.asText();
    JsonNode content = m.get("content");
    switch (role) {
      case "system", "developer": {
        return Message.system(contentText(content, path));
      }
      case "user": {
        if (content == null || content.isNull()) {
          throw LlmException.invalidRequest(path + ".content is required for a user message", path + ".content");
        }
        return new Message.User(readParts(content, path + ".content"), optText(m, "name"));
      }
      case "assistant": {
        List<ToolCall> calls = new ArrayList<>();
        JsonNode tcs = m.get("tool_calls");
        if (tcs != null && !tcs.isNull()) {
          if (!tcs.isArray()) {
            throw LlmException.invalidRequest(path + ".tool_calls must be an array", path + ".tool_calls");
          }
          for (int i = 0; i < tcs.size(); i++) {
            JsonNode tc = tcs.get(i);
            JsonNode fn = tc.path("function");
            if (!fn.isObject() || !fn.path("name").isTextual()) {
              throw LlmException.invalidRequest(path + ".tool_calls[" + i + "].function.name is required",
                  path + ".tool_calls");
            }
            calls.add(new ToolCall(Json.text(tc, "id"), fn.get("name").asText(), Json.text(fn, "arguments")));
          }
        }
        String text = content == null || content.isNull() ? null : contentText(content, path);
        if (text == null && calls.isEmpty()) {
          throw LlmException.invalidRequest(path + " (assistant) needs content or tool_calls", path + ".content");
        }
        return new Message.Assistant(text, calls, null);
      }
      case "tool": {
        String id = optText(m, "tool_call_id");
        if (id == null) {
          throw LlmException.invalidRequest(path + ".tool_call_id is required for a tool message",
              path + ".tool_call_id");
        }
        return Message.tool(id, contentText(content, path));
      }
      default:
        throw LlmException.invalidRequest(path + ".role '" + role
            + "' is not supported: use system, developer, user, assistant or tool", path + ".role");
    }
  }

  private static String contentText(JsonNode content, String path) {
    if (content == null || content.isNull()) {
      throw LlmException.invalidRequest(path + ".content is required", path + ".content");
    }
    if (content.isTextual()) {
      return content.asText();
    }
    if (content.isArray()) {
      StringBuilder sb = new StringBuilder();
      for (ContentPart p : readParts(content, path + ".content")) {
        if (p instanceof ContentPart.Text t) {
          sb.append(t.text());
        } else {
          throw LlmException.invalidRequest(path + ".content may only hold text parts for this role",
              path + ".content");
        }
      }
      return sb.toString();
    }
    throw LlmException.invalidRequest(path + ".content must be a string or an array of content parts",
        path + ".content");
  }

  private static List<ContentPart> readParts(JsonNode content, String path) {
    if (content.isTextual()) {
      return List.of(ContentPart.text(content.asText()));
    }
    if (!content.isArray()) {
      throw LlmException.invalidRequest(path + " must be a string or an array of content parts", path);
    }
    List<ContentPart> parts = new ArrayList<>();
    for (int i = 0; i < content.size(); i++) {
      JsonNode p = content.get(i);
      String type = Json.text(p, "type");
      if ("text".equals(type) && p.path("text").isTextual()) {
        parts.add(ContentPart.text(p.get("text").asText()));
      } else if ("image_url".equals(type)) {
        JsonNode iu = p.get("image_url");
        String url = iu == null ? null : iu.isTextual() ? iu.asText() : Json.text(iu, "url");
        if (url == null) {
          throw LlmException.invalidRequest(path + "[" + i + "].image_url.url is required", path);
        }
        ContentPart.Image img = parseImageUrl(url);
        String detail = iu.isObject() ? Json.text(iu, "detail") : null;
        parts.add(detail == null ? img : img.withDetail(detail));
      } else {
        throw LlmException.invalidRequest(path + "[" + i + "] has unsupported type '" + type
            + "': use text or image_url", path);
      }
    }
    return parts;
  }

  /** A {@code data:<media>;base64,<data>} URL becomes base64 data, so non-OpenAI providers can use it. */
  static ContentPart.Image parseImageUrl(String url) {
    if (url.startsWith("data:")) {
      int semi = url.indexOf(";base64,");
      if (semi > 5) {
        return ContentPart.imageBase64(url.substring(5, semi), url.substring(semi + 8));
      }
    }
    return ContentPart.imageUrl(url);
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
      JsonNode params = fn.get("parameters");
      if (params != null && !params.isNull() && !params.isObject()) {
        throw LlmException.invalidRequest("tools[" + i + "].function.parameters must be a JSON Schema object", "tools");
      }
      out.add(new ToolDefinition(fn.get("name").asText(), Json.text(fn, "description"),
          params == null || params.isNull() ? null : params, optBool(fn, "strict")));
    }
    return out;
  }

  private static ToolChoice readToolChoice(JsonNode tc) {
    if (tc == null || tc.isNull()) {
      return null;
    }
    if (tc.isTextual()) {
      return switch (tc.asText()) {
        case "auto" -> ToolChoice.AUTO;
        case "none" -> ToolChoice.NONE;
        case "required" -> ToolChoice.REQUIRED;
        default -> throw LlmException.invalidRequest("'tool_choice' must be auto, none, required or a function object",
            "tool_choice");
      };
    }
    String name = Json.text(tc.path("function"), "name");
    if (tc.isObject() && name != null) {
      return ToolChoice.function(name);
    }
    throw LlmException.invalidRequest("'tool_choice' must be auto, none, required or a function object",
        "tool_choice");
  }

  private static ResponseFormat readResponseFormat(JsonNode rf) {
    if (rf == null || rf.isNull()) {
      return null;
    }
    if (!rf.isObject()) {
      throw LlmException.invalidRequest("'response_format' must be an object", "response_format");
    }
    String type = Json.text(rf, "type");
    if ("text".equals(type)) {
      return ResponseFormat.TEXT;
    }
    if ("json_object".equals(type)) {
      return ResponseFormat.JSON_OBJECT;
    }
    if ("json_schema".equals(type)) {
      JsonNode js = rf.path("json_schema");
      if (!js.path("name").isTextual() || !js.path("schema").isObject()) {
        throw LlmException.invalidRequest("response_format.json_schema needs 'name' and a 'schema' object",
            "response_format");
      }
      return ResponseFormat.jsonSchema(js.get("name").asText(), js.get("schema"), optBool(js, "strict"));
    }
    throw LlmException.invalidRequest("response_format.type must be text, json_object or json_schema",
        "response_format");
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

  // ---------------------------------------------------------------- requests: write (to upstreams)

  /**
   * Writes {@code request} for an OpenAI-compatible upstream. {@code maxTokensField} is
   * {@code max_completion_tokens} for OpenAI itself and {@code max_tokens} for most compatible hosts.
   */
  public static ObjectNode writeRequest(ChatRequest request, boolean stream, boolean includeUsage,
      String maxTokensField) {
    ObjectNode o = Json.object();
    // Pass-through fields first: fields this library models always win over them.
    request.extraBody().forEach(o::set);
    o.put("model", request.model());
    ArrayNode msgs = o.putArray("messages");
    for (Message m : request.messages()) {
      msgs.add(writeMessage(m));
    }
    if (request.temperature() != null) {
      o.put("temperature", request.temperature());
    }
    if (request.topP() != null) {
      o.put("top_p", request.topP());
    }
    if (request.maxTokens() != null) {
      o.put(maxTokensField, request.maxTokens());
    }
    if (!request.stop().isEmpty()) {
      ArrayNode s = o.putArray("stop");
      request.stop().forEach(s::add);
    }
    if (request.seed() != null) {
      o.put("seed", request.seed());
    }
    if (request.presencePenalty() != null) {
      o.put("presence_penalty", request.presencePenalty());
    }
    if (request.frequencyPenalty() != null) {
      o.put("frequency_penalty", request.frequencyPenalty());
    }
    if (!request.tools().isEmpty()) {
      ArrayNode tools = o.putArray("tools");
      for (ToolDefinition t : request.tools()) {
        ObjectNode fn = tools.addObject().put("type", "function").putObject("function");
        fn.put("name", t.name());
        if (t.description() != null) {
          fn.put("description", t.description());
        }
        if (t.parameters() != null) {
          fn.set("parameters", t.parameters());
        }
        if (t.strict() != null) {
          fn.put("strict", t.strict());
        }
      }
    }
    if (request.toolChoice() != null) {
      ToolChoice tc = request.toolChoice();
      if (tc.mode() == ToolChoice.Mode.FUNCTION) {
        o.putObject("tool_choice").put("type", "function").putObject("function").put("name", tc.functionName());
      } else {
        o.put("tool_choice", tc.toString());
      }
    }
    if (request.parallelToolCalls() != null) {
      o.put("parallel_tool_calls", request.parallelToolCalls());
    }
    if (request.responseFormat() != null) {
      ResponseFormat rf = request.responseFormat();
      ObjectNode r = o.putObject("response_format");
      switch (rf.type()) {
        case TEXT -> r.put("type", "text");
        case JSON_OBJECT -> r.put("type", "json_object");
        case JSON_SCHEMA -> {
          r.put("type", "json_schema");
          ObjectNode js = r.putObject("json_schema").put("name", rf.schemaName());
          js.set("schema", rf.schema());
          if (rf.strict() != null) {
            js.put("strict", rf.strict());
          }
        }
      }
    }
    if (request.user() != null) {
      o.put("user", request.user());
    }
    o.put("stream", stream);
    if (stream && includeUsage) {
      o.putObject("stream_options").put("include_usage", true);
    } else {
      o.remove("stream_options");
    }
    return o;
  }

  /**
   * The request as stored in the recovery journal: the OpenAI JSON with the {@code provider/model} id and the
   * caller's metadata, so {@link #readStored} gives the same request back.
   */
  public static ObjectNode writeStored(ChatRequest request) {
    ObjectNode o = writeRequest(request, false, false, "max_tokens");
    o.remove("stream");
    if (!request.metadata().isEmpty()) {
      ObjectNode md = o.putObject("metadata");
      request.metadata().forEach(md::put);
    }
    return o;
  }

  /** Reads a request written by {@link #writeStored}. */
  public static ChatRequest readStored(JsonNode node) {
    return readRequest(node).request();
  }

  /**
   * Puts a user turn's {@code content} into {@code o} the OpenAI way: a plain string for one text part, else
   * an array of {@code text} and {@code image_url} parts. Shared by the APIs that took this shape (Cohere v2).
   */
  public static void writeUserContent(Message.User u, ObjectNode o) {
    if (u.content().size() == 1 && u.content().get(0) instanceof ContentPart.Text t) {
      o.put("content", t.text());
      return;
    }
    ArrayNode parts = o.putArray("content");
    for (ContentPart p : u.content()) {
      if (p instanceof ContentPart.Text t) {
        parts.addObject().put("type", "text").put("text", t.text());
      } else if (p instanceof ContentPart.Image img) {
        ObjectNode iu = parts.addObject().put("type", "image_url").putObject("image_url");
        iu.put("url", img.asUrl());
        if (img.detail() != null) {
          iu.put("detail", img.detail());
        }
      }
    }
  }

  /** Writes one message in OpenAI's shape (the inverse of {@link #readMessage}). */
  public static ObjectNode writeMessage(Message m) {
    ObjectNode o = Json.object().put("role", m.role());
    if (m instanceof Message.System s) {
      o.put("content", s.content());
    } else if (m instanceof Message.User u) {
      writeUserContent(u, o);
      if (u.name() != null) {
        o.put("name", u.name());
      }
    } else if (m instanceof Message.Assistant a) {
      if (a.content() == null) {
        o.putNull("content");
      } else {
        o.put("content", a.content());
      }
      if (!a.toolCalls().isEmpty()) {
        ArrayNode tcs = o.putArray("tool_calls");
        for (ToolCall tc : a.toolCalls()) {
          ObjectNode c = tcs.addObject();
          c.put("id", tc.id()).put("type", "function");
          c.putObject("function").put("name", tc.name()).put("arguments", tc.arguments());
        }
      }
    } else if (m instanceof Message.Tool t) {
      o.put("tool_call_id", t.toolCallId()).put("content", t.content());
    }
    return o;
  }

  // ---------------------------------------------------------------- responses: read (from upstreams)

  /**
   * Reads one streamed chunk ({@code chat.completion.chunk}). Error objects inside chunks are the caller's to
   * detect first (see {@code OpenAiProvider}).
   */
  public static ChatChunk readChunk(JsonNode node) {
    return readChoice(node, "delta");
  }

  /** Reads a complete {@code chat.completion} as one chunk, so it folds like a stream. */
  public static ChatChunk readCompletion(JsonNode node) {
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

  // ---------------------------------------------------------------- responses: write (gateway)

  /** Writes one {@code chat.completion.chunk} for the gateway's SSE stream. Usage is sent separately. */
  public static String writeChunk(ChatChunk c, String id, String model, long created, boolean first) {
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
  public static String writeUsageChunk(Usage usage, String id, String model, long created) {
    return writeUsageChunk(usage, null, id, model, created);
  }

  /** The final usage chunk with the call's cost in {@code usage.cost} (USD) when {@code cost} is not null. */
  public static String writeUsageChunk(Usage usage, Cost cost, String id, String model, long created) {
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
  public static String writeResponse(ChatResponse r, String id, long created) {
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
  public static String writeError(String message, String type, String param, String code) {
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

  private interface Writer {
    void write(JsonGenerator g) throws IOException;
  }

  private static String generate(Writer w) {
    StringWriter sw = new StringWriter(256);
    try (JsonGenerator g = Json.MAPPER.getFactory().createGenerator(sw)) {
      w.write(g);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return sw.toString();
  }

  // ---------------------------------------------------------------- small readers with clear errors

  private static String requireText(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      throw LlmException.invalidRequest("'" + field + "' is required", field);
    }
    if (!v.isTextual()) {
      throw LlmException.invalidRequest("'" + field + "' must be a string", field);
    }
    return v.asText();
  }

  private static String optText(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      throw LlmException.invalidRequest("'" + field + "' must be a string", field);
    }
    return v.asText();
  }

  private static Double optDouble(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isNumber()) {
      throw LlmException.invalidRequest("'" + field + "' must be a number, not " + v.getNodeType().name().toLowerCase(),
          field);
    }
    return v.asDouble();
  }

  /** A number in {@code [min, max]}; infinity and NaN are never in range. */
  private static Double optDouble(JsonNode body, String field, double min, double max) {
    Double v = optDouble(body, field);
    if (v != null && !(v >= min && v <= max)) {
      throw LlmException.invalidRequest("'" + field + "' must be a finite number between " + plain(min) + " and "
          + plain(max) + (Double.isFinite(v) ? ", not " + body.get(field).asText() : ""), field);
    }
    return v;
  }

  private static String plain(double d) {
    return d == Math.rint(d) ? Long.toString((long) d) : Double.toString(d);
  }

  private static Integer optPositiveInt(JsonNode body, String field) {
    Integer v = optInt(body, field);
    if (v != null && v < 1) {
      throw LlmException.invalidRequest("'" + field + "' must be at least 1", field);
    }
    return v;
  }

  private static Integer optInt(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      throw LlmException.invalidRequest("'" + field + "' must be an integer", field);
    }
    return v.asInt();
  }

  private static Long optLong(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw LlmException.invalidRequest("'" + field + "' must be an integer", field);
    }
    return v.asLong();
  }

  private static Boolean optBool(JsonNode body, String field) {
    JsonNode v = body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isBoolean()) {
      throw LlmException.invalidRequest("'" + field + "' must be true or false", field);
    }
    return v.asBoolean();
  }
}
