package io.pekkollm.recovery;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ContentPart;
import io.pekkollm.model.Message;
import io.pekkollm.model.ResponseFormat;
import io.pekkollm.model.ToolCall;
import io.pekkollm.model.ToolChoice;
import io.pekkollm.model.ToolDefinition;
import io.pekkollm.util.Json;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The request of a journalled stream, as stored in its {@code Started} event (a JSON string), so a resume can
 * send it again. A persisted schema, owned by the journal: it changes only with a migration, never because the
 * gateway's parser or a provider's mapper did. It reads without the gateway's checks (a request built in Java
 * was never checked by them), and a defect in it is an {@link IllegalArgumentException}.
 *
 * <p>Version 1, unchanged since the first journal (it was the OpenAI request body then): one JSON object with
 * the request's pass-through fields first, then
 * <pre>{@code
 * "model": "provider/model", "messages": [message...],
 * "temperature", "top_p", "max_tokens", "stop": [string...], "seed", "presence_penalty", "frequency_penalty",
 * "tools": [{"type": "function", "function": {"name", "description"?, "parameters"?, "strict"?}}],
 * "tool_choice": "auto" | "none" | "required" | {"type": "function", "function": {"name"}},
 * "parallel_tool_calls", "response_format": {"type": "text" | "json_object" | "json_schema",
 *                                            "json_schema"?: {"name", "schema", "strict"?}},
 * "user", "metadata": {string: string}
 * }</pre>
 * each optional but {@code model} and {@code messages}; a message is {@code {"role": "system", "content"}},
 * {@code {"role": "user", "content": string | [{"type": "text", "text"} | {"type": "image_url", "image_url":
 * {"url", "detail"?}}], "name"?}} (a {@code data:} URL is base64 image data), {@code {"role": "assistant",
 * "content": string | null, "tool_calls"?: [{"id", "type": "function", "function": {"name", "arguments"}}]}}
 * or {@code {"role": "tool", "tool_call_id", "content"}}. The library's own options (truncation, cache, retry)
 * are not stored. Stateless and thread-safe.
 */
final class StoredRequest {
  /** The fields of the schema; every other top-level field is a pass-through field. */
  private static final Set<String> FIELDS = Set.of("model", "messages", "temperature", "top_p", "max_tokens",
      "stop", "seed", "presence_penalty", "frequency_penalty", "tools", "tool_choice", "parallel_tool_calls",
      "response_format", "user", "metadata");
  /** Never written, but read and dropped as the first reader did, so such a pass-through field stays out. */
  private static final Set<String> IGNORED = Set.of("stream", "stream_options", "n", "max_completion_tokens",
      "truncation", "cache", "retry");

  private StoredRequest() {}

  /** {@code request} as a stored JSON string. */
  static String write(ChatRequest request) {
    ObjectNode o = Json.object();
    // Pass-through fields first: the schema's own fields win over pass-through fields of the same name.
    request.extraBody().forEach(o::set);
    o.put("model", request.model());
    ArrayNode msgs = o.putArray("messages");
    request.messages().forEach(m -> msgs.add(writeMessage(m)));
    putIfSet(o, "temperature", request.temperature());
    putIfSet(o, "top_p", request.topP());
    if (request.maxTokens() != null) {
      o.put("max_tokens", request.maxTokens());
    }
    if (!request.stop().isEmpty()) {
      ArrayNode s = o.putArray("stop");
      request.stop().forEach(s::add);
    }
    if (request.seed() != null) {
      o.put("seed", request.seed());
    }
    putIfSet(o, "presence_penalty", request.presencePenalty());
    putIfSet(o, "frequency_penalty", request.frequencyPenalty());
    if (!request.tools().isEmpty()) {
      ArrayNode tools = o.putArray("tools");
      for (ToolDefinition t : request.tools()) {
        ObjectNode fn = tools.addObject().put("type", "function").putObject("function").put("name", t.name());
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
    ToolChoice tc = request.toolChoice();
    if (tc != null) {
      if (tc.mode() == ToolChoice.Mode.FUNCTION) {
        o.putObject("tool_choice").put("type", "function").putObject("function").put("name", tc.functionName());
      } else {
        o.put("tool_choice", tc.mode().name().toLowerCase(java.util.Locale.ROOT));
      }
    }
    if (request.parallelToolCalls() != null) {
      o.put("parallel_tool_calls", request.parallelToolCalls());
    }
    ResponseFormat rf = request.responseFormat();
    if (rf != null) {
      ObjectNode r = o.putObject("response_format");
      switch (rf.type()) {
        case TEXT -> r.put("type", "text");
        case JSON_OBJECT -> r.put("type", "json_object");
        case JSON_SCHEMA -> {
          ObjectNode js = r.put("type", "json_schema").putObject("json_schema").put("name", rf.schemaName());
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
    // Stream and stream options were removed here when the schema was the upstream body; they are never written.
    o.remove("stream");
    o.remove("stream_options");
    if (!request.metadata().isEmpty()) {
      ObjectNode md = o.putObject("metadata");
      request.metadata().forEach(md::put);
    }
    return Json.write(o);
  }

  /** Reads a request written by {@link #write}. */
  static ChatRequest read(String stored) {
    JsonNode o;
    try {
      o = Json.parse(stored);
    } catch (IOException e) {
      throw new IllegalArgumentException("the stored request is not JSON: " + e.getMessage(), e);
    }
    if (o == null || !o.isObject()) {
      throw new IllegalArgumentException("the stored request is not a JSON object");
    }
    String model = text(o, "model");
    if (model == null || !o.path("messages").isArray()) {
      throw new IllegalArgumentException("the stored request has no model or no messages");
    }
    ChatRequest.Builder b = ChatRequest.builder(model);
    for (JsonNode m : o.get("messages")) {
      b.addMessage(readMessage(m));
    }
    b.temperature(number(o, "temperature"));
    b.topP(number(o, "top_p"));
    // The first reader preferred max_completion_tokens; it is never written, but kept in that order.
    JsonNode maxTokens = o.hasNonNull("max_completion_tokens") ? o.get("max_completion_tokens") : o.get("max_tokens");
    b.maxTokens(maxTokens == null || maxTokens.isNull() ? null : maxTokens.asInt());
    b.seed(o.hasNonNull("seed") ? o.get("seed").asLong() : null);
    b.presencePenalty(number(o, "presence_penalty"));
    b.frequencyPenalty(number(o, "frequency_penalty"));
    JsonNode stop = o.get("stop");
    if (stop != null && !stop.isNull()) {
      List<String> s = new ArrayList<>();
      if (stop.isArray()) {
        stop.forEach(x -> s.add(x.asText()));
      } else {
        s.add(stop.asText());
      }
      b.stop(s);
    }
    b.tools(readTools(o.get("tools")));
    b.toolChoice(readToolChoice(o.get("tool_choice")));
    b.parallelToolCalls(o.hasNonNull("parallel_tool_calls") ? o.get("parallel_tool_calls").asBoolean() : null);
    b.responseFormat(readResponseFormat(o.get("response_format")));
    b.userId(text(o, "user"));
    JsonNode md = o.get("metadata");
    if (md != null && md.isObject()) {
      Map<String, String> m = new LinkedHashMap<>();
      md.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue().asText()));
      b.metadata(m);
    }
    Map<String, JsonNode> extra = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> it = o.fields();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!FIELDS.contains(e.getKey()) && !IGNORED.contains(e.getKey())) {
        extra.put(e.getKey(), e.getValue());
      }
    }
    b.extraBody(extra);
    return b.build();
  }

  private static ObjectNode writeMessage(Message m) {
    ObjectNode o = Json.object().put("role", m.role());
    if (m instanceof Message.System s) {
      o.put("content", s.content());
    } else if (m instanceof Message.User u) {
      if (u.content().size() == 1 && u.content().get(0) instanceof ContentPart.Text t) {
        o.put("content", t.text());
      } else {
        ArrayNode parts = o.putArray("content");
        for (ContentPart p : u.content()) {
          if (p instanceof ContentPart.Text t) {
            parts.addObject().put("type", "text").put("text", t.text());
          } else if (p instanceof ContentPart.Image img) {
            ObjectNode iu = parts.addObject().put("type", "image_url").putObject("image_url").put("url", img.asUrl());
            if (img.detail() != null) {
              iu.put("detail", img.detail());
            }
          }
        }
      }
      if (u.name() != null) {
        o.put("name", u.name());
      }
    } else if (m instanceof Message.Assistant a) {
      o.put("content", a.content());
      if (!a.toolCalls().isEmpty()) {
        ArrayNode tcs = o.putArray("tool_calls");
        for (ToolCall tc : a.toolCalls()) {
          ObjectNode c = tcs.addObject().put("id", tc.id()).put("type", "function");
          c.putObject("function").put("name", tc.name()).put("arguments", tc.arguments());
        }
      }
    } else if (m instanceof Message.Tool t) {
      o.put("tool_call_id", t.toolCallId()).put("content", t.content());
    }
    return o;
  }

  private static Message readMessage(JsonNode m) {
    String role = text(m, "role");
    JsonNode content = m.get("content");
    if (role == null) {
      throw new IllegalArgumentException("a stored message has no role");
    }
    return switch (role) {
      // "developer" was read as system by the first reader; it is never written.
      case "system", "developer" -> Message.system(joinedText(content));
      case "user" -> new Message.User(readParts(content), text(m, "name"));
      case "assistant" -> {
        List<ToolCall> calls = new ArrayList<>();
        for (JsonNode tc : m.path("tool_calls")) {
          JsonNode fn = tc.path("function");
          calls.add(new ToolCall(text(tc, "id"), text(fn, "name"), text(fn, "arguments")));
        }
        yield new Message.Assistant(content == null || content.isNull() ? null : joinedText(content), calls, null);
      }
      case "tool" -> Message.tool(text(m, "tool_call_id"), joinedText(content));
      default -> throw new IllegalArgumentException("a stored message has the unknown role '" + role + "'");
    };
  }

  private static String joinedText(JsonNode content) {
    if (content == null || content.isNull()) {
      throw new IllegalArgumentException("a stored message has no content");
    }
    if (!content.isArray()) {
      return content.asText();
    }
    StringBuilder sb = new StringBuilder();
    content.forEach(p -> sb.append(p.path("text").asText("")));
    return sb.toString();
  }

  private static List<ContentPart> readParts(JsonNode content) {
    if (content == null || content.isNull()) {
      throw new IllegalArgumentException("a stored user message has no content");
    }
    if (!content.isArray()) {
      return List.of(ContentPart.text(content.asText()));
    }
    List<ContentPart> parts = new ArrayList<>();
    for (JsonNode p : content) {
      if ("image_url".equals(text(p, "type"))) {
        JsonNode iu = p.path("image_url");
        String url = iu.isTextual() ? iu.asText() : text(iu, "url");
        if (url == null) {
          throw new IllegalArgumentException("a stored image part has no url");
        }
        ContentPart.Image img = image(url);
        String detail = text(iu, "detail");
        parts.add(detail == null ? img : img.withDetail(detail));
      } else {
        parts.add(ContentPart.text(p.path("text").asText("")));
      }
    }
    return parts;
  }

  /** A {@code data:<media>;base64,<data>} URL is base64 image data again, as it was before it was stored. */
  private static ContentPart.Image image(String url) {
    int semi = url.indexOf(";base64,");
    if (url.startsWith("data:") && semi > 5) {
      return ContentPart.imageBase64(url.substring(5, semi), url.substring(semi + 8));
    }
    return ContentPart.imageUrl(url);
  }

  private static List<ToolDefinition> readTools(JsonNode tools) {
    if (tools == null || !tools.isArray()) {
      return null;
    }
    List<ToolDefinition> out = new ArrayList<>();
    for (JsonNode t : tools) {
      JsonNode fn = t.path("function");
      JsonNode params = fn.get("parameters");
      out.add(new ToolDefinition(text(fn, "name"), text(fn, "description"),
          params == null || params.isNull() ? null : params,
          fn.hasNonNull("strict") ? fn.get("strict").asBoolean() : null));
    }
    return out;
  }

  private static ToolChoice readToolChoice(JsonNode tc) {
    if (tc == null || tc.isNull()) {
      return null;
    }
    if (tc.isObject()) {
      return ToolChoice.function(text(tc.path("function"), "name"));
    }
    return switch (tc.asText()) {
      case "auto" -> ToolChoice.AUTO;
      case "none" -> ToolChoice.NONE;
      case "required" -> ToolChoice.REQUIRED;
      default -> throw new IllegalArgumentException("a stored tool_choice is '" + tc.asText() + "'");
    };
  }

  private static ResponseFormat readResponseFormat(JsonNode rf) {
    if (rf == null || !rf.isObject()) {
      return null;
    }
    String type = text(rf, "type");
    if ("json_schema".equals(type)) {
      JsonNode js = rf.path("json_schema");
      return ResponseFormat.jsonSchema(text(js, "name"), js.get("schema"),
          js.hasNonNull("strict") ? js.get("strict").asBoolean() : null);
    }
    return "json_object".equals(type) ? ResponseFormat.JSON_OBJECT : ResponseFormat.TEXT;
  }

  private static void putIfSet(ObjectNode o, String field, Double value) {
    if (value != null) {
      o.put(field, value);
    }
  }

  private static Double number(JsonNode o, String field) {
    JsonNode v = o.get(field);
    return v == null || v.isNull() ? null : v.asDouble();
  }

  private static String text(JsonNode node, String field) {
    return Json.text(node, field);
  }
}
