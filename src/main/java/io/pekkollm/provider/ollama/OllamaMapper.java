package io.pekkollm.provider.ollama;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.provider.EmbeddingJson;
import io.pekkollm.model.EmbeddingRequest;
import io.pekkollm.model.EmbeddingResponse;
import io.pekkollm.model.ContentPart;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Message;
import io.pekkollm.model.ModelInfo;
import io.pekkollm.model.ResponseFormat;
import io.pekkollm.model.ToolCall;
import io.pekkollm.model.ToolCallDelta;
import io.pekkollm.model.ToolChoice;
import io.pekkollm.model.ToolDefinition;
import io.pekkollm.model.Usage;
import io.pekkollm.util.Json;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Translates between this library's model and Ollama's {@code /api/chat} wire format (see Ollama's
 * {@code docs/api.md}). Stateless apart from {@link Reader}, which holds what one response needs across its
 * lines.
 */
final class OllamaMapper {
  /**
   * Top-level request fields a caller may pass through {@link ChatRequest#extraBody()} (plus {@code options},
   * merged under the ones this library sets); other extras are OpenAI-only and dropped.
   */
  private static final Set<String> PASS_THROUGH = Set.of("keep_alive", "think");

  private OllamaMapper() {}

  // ---------------------------------------------------------------- request

  /** The {@code /api/embed} body: {@code input} as an array, {@code dimensions} when set. */
  static ObjectNode embeddingBody(EmbeddingRequest request) {
    EmbeddingJson.requireTexts("ollama", request);
    ObjectNode o = Json.object();
    o.put("model", request.model());
    ArrayNode input = o.putArray("input");
    request.texts().forEach(input::add);
    if (request.dimensions() != null) {
      o.put("dimensions", request.dimensions());
    }
    return o;
  }

  /** An {@code /api/embed} answer: {@code embeddings} in input order, {@code prompt_eval_count} the input tokens. */
  static EmbeddingResponse readEmbeddings(String provider, EmbeddingRequest request, JsonNode root, String body) {
    int tokens = root.path("prompt_eval_count").isNumber() ? root.path("prompt_eval_count").asInt() : -1;
    return EmbeddingJson.response(provider, request, Json.text(root, "model"),
        EmbeddingJson.vectors(provider, root.path("embeddings"), body), tokens, body);
  }

  static ObjectNode toRequest(ChatRequest request, boolean stream, String keepAlive) {
    ObjectNode o = Json.object();
    o.put("model", request.model());
    ArrayNode msgs = o.putArray("messages");
    Map<String, String> toolNames = new HashMap<>();
    for (Message m : request.messages()) {
      msgs.add(message(m, toolNames));
    }
    List<ToolDefinition> tools = toolsToSend(request);
    if (!tools.isEmpty()) {
      ArrayNode ts = o.putArray("tools");
      for (ToolDefinition t : tools) {
        ObjectNode fn = ts.addObject().put("type", "function").putObject("function");
        fn.put("name", t.name());
        if (t.description() != null) {
          fn.put("description", t.description());
        }
        fn.set("parameters", t.parameters() != null ? t.parameters() : emptyObjectSchema());
      }
    }
    ResponseFormat rf = request.responseFormat();
    if (rf != null && rf.type() == ResponseFormat.Type.JSON_OBJECT) {
      o.put("format", "json");
    } else if (rf != null && rf.type() == ResponseFormat.Type.JSON_SCHEMA) {
      o.set("format", rf.schema());
    }
    ObjectNode options = Json.object();
    JsonNode extraOptions = request.extraBody().get("options");
    if (extraOptions != null && extraOptions.isObject()) {
      options.setAll((ObjectNode) extraOptions);
    }
    if (request.temperature() != null) {
      options.put("temperature", request.temperature());
    }
    if (request.topP() != null) {
      options.put("top_p", request.topP());
    }
    if (request.maxTokens() != null) {
      options.put("num_predict", request.maxTokens());
    }
    if (!request.stop().isEmpty()) {
      ArrayNode stop = options.putArray("stop");
      request.stop().forEach(stop::add);
    }
    if (request.seed() != null) {
      options.put("seed", request.seed());
    }
    if (request.presencePenalty() != null) {
      options.put("presence_penalty", request.presencePenalty());
    }
    if (request.frequencyPenalty() != null) {
      options.put("frequency_penalty", request.frequencyPenalty());
    }
    if (!options.isEmpty()) {
      o.set("options", options);
    }
    if (keepAlive != null && !keepAlive.isBlank()) {
      o.put("keep_alive", keepAlive);
    }
    request.extraBody().forEach((k, v) -> {
      if (PASS_THROUGH.contains(k)) {
        o.set(k, v);
      }
    });
    o.put("stream", stream);
    return o;
  }

  /**
   * Ollama cannot force a tool call: {@code none} sends no tools, a named function sends only that one, and
   * {@code required} sends them all (the model may still answer in text).
   */
  private static List<ToolDefinition> toolsToSend(ChatRequest request) {
    ToolChoice choice = request.toolChoice();
    if (choice == null) {
      return request.tools();
    }
    return switch (choice.mode()) {
      case NONE -> List.of();
      case FUNCTION -> request.tools().stream().filter(t -> t.name().equals(choice.functionName())).toList();
      default -> request.tools();
    };
  }

  private static ObjectNode message(Message m, Map<String, String> toolNames) {
    ObjectNode o = Json.object().put("role", m.role());
    if (m instanceof Message.System s) {
      o.put("content", s.content());
    } else if (m instanceof Message.User u) {
      StringBuilder text = new StringBuilder();
      ArrayNode images = null;
      for (ContentPart p : u.content()) {
        if (p instanceof ContentPart.Text t) {
          if (!text.isEmpty()) {
            text.append('\n');
          }
          text.append(t.text());
        } else if (p instanceof ContentPart.Image img) {
          if (img.base64Data() == null) {
            // /api/chat takes raw base64 only; fetching URLs on the caller's behalf would be a surprise.
            throw LlmException.invalidRequest("Ollama accepts images only as base64 data (a data: URL), not "
                + "as a link: " + abbreviate(img.url()), "messages");
          }
          if (images == null) {
            images = Json.object().arrayNode();
          }
          images.add(img.base64Data());
        }
      }
      o.put("content", text.toString());
      if (images != null) {
        o.set("images", images);
      }
    } else if (m instanceof Message.Assistant a) {
      o.put("content", a.text());
      if (!a.toolCalls().isEmpty()) {
        ArrayNode calls = o.putArray("tool_calls");
        for (ToolCall tc : a.toolCalls()) {
          if (tc.id() != null) {
            toolNames.put(tc.id(), tc.name());
          }
          ObjectNode fn = calls.addObject().putObject("function");
          fn.put("name", tc.name());
          fn.set("arguments", argumentsObject(tc));
        }
      }
    } else if (m instanceof Message.Tool t) {
      o.put("content", t.content());
      // Ollama matches results to calls by tool name (it has no call ids); recover it from the call.
      String name = toolNames.get(t.toolCallId());
      if (name != null) {
        o.put("tool_name", name);
      }
    }
    return o;
  }

  /** Ollama wants tool arguments as a JSON object, not the JSON text OpenAI uses. */
  private static JsonNode argumentsObject(ToolCall tc) {
    if (tc.arguments().isBlank()) {
      return Json.object();
    }
    try {
      JsonNode args = Json.parse(tc.arguments());
      if (args != null && args.isObject()) {
        return args;
      }
    } catch (java.io.IOException e) {
      // reported below
    }
    throw LlmException.invalidRequest("the arguments of tool call '" + tc.name()
        + "' must be a JSON object for Ollama, got: " + abbreviate(tc.arguments()), "messages");
  }

  private static ObjectNode emptyObjectSchema() {
    ObjectNode schema = Json.object().put("type", "object");
    schema.putObject("properties");
    return schema;
  }

  private static String abbreviate(String s) {
    return s == null ? "null" : s.length() > 80 ? s.substring(0, 80) + "..." : s;
  }

  // ---------------------------------------------------------------- response

  /**
   * Reads the lines of one response (a streamed one, or the single object of a non-streamed one). Tool calls
   * are numbered across lines, and a turn that called tools finishes with {@code tool_calls} even though
   * Ollama says {@code stop}. Not thread-safe: one per response.
   */
  static final class Reader {
    private int toolCalls;
    private boolean done;

    ChatChunk read(JsonNode line) {
      String model = Json.text(line, "model");
      JsonNode msg = line.path("message");
      String text = Json.text(msg, "content");
      String thinking = Json.text(msg, "thinking");
      List<ToolCallDelta> calls = List.of();
      JsonNode tcs = msg.get("tool_calls");
      if (tcs != null && tcs.isArray() && !tcs.isEmpty()) {
        calls = new ArrayList<>(tcs.size());
        for (JsonNode tc : tcs) {
          JsonNode fn = tc.path("function");
          String name = Json.text(fn, "name");
          JsonNode argNode = fn.get("arguments");
          String args = argNode == null || argNode.isNull() ? "{}"
              : argNode.isTextual() ? argNode.asText() : Json.write(argNode);
          int index = toolCalls++;
          String id = Json.text(tc, "id");
          calls.add(new ToolCallDelta(index, id != null ? id : callId(line, index, name, args), name, args));
        }
      }
      FinishReason finish = null;
      Usage usage = null;
      if (line.path("done").asBoolean(false)) {
        done = true;
        finish = finishReason(Json.text(line, "done_reason"));
        // Ollama reports counts only on the final line.
        if (line.has("prompt_eval_count") || line.has("eval_count")) {
          usage = Usage.of(Json.intValue(line, "prompt_eval_count"), Json.intValue(line, "eval_count"));
        }
      }
      return new ChatChunk(null, model, emptyToNull(text), emptyToNull(thinking), calls, finish, usage);
    }

    boolean isDone() {
      return done;
    }

    private FinishReason finishReason(String doneReason) {
      if (doneReason == null || doneReason.equals("stop")) {
        return toolCalls > 0 ? FinishReason.TOOL_CALLS : FinishReason.STOP;
      }
      return doneReason.equals("length") ? FinishReason.LENGTH : FinishReason.of(doneReason);
    }
  }

  /**
   * Ollama's tool calls have no ids, but OpenAI clients need one to answer the call. The id is derived from
   * the line (its timestamp, the call's position and content), so the same response always gives the same
   * ids and different turns practically never share one.
   */
  private static String callId(JsonNode line, int index, String name, String args) {
    String seed = Json.text(line, "model") + '|' + Json.text(line, "created_at") + '|' + index + '|' + name + '|'
        + args;
    return "call_" + UUID.nameUUIDFromBytes(seed.getBytes(StandardCharsets.UTF_8)).toString().replace("-", "")
        .substring(0, 24);
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  // ---------------------------------------------------------------- models

  /** {@code GET /api/tags}: the locally installed models. */
  static List<ModelInfo> readTags(String provider, JsonNode root) {
    List<ModelInfo> out = new ArrayList<>();
    for (JsonNode m : root.path("models")) {
      String name = Json.text(m, "name");
      if (name == null) {
        name = Json.text(m, "model");
      }
      if (name != null) {
        out.add(new ModelInfo(provider + "/" + name, provider, epochSeconds(Json.text(m, "modified_at")),
            "ollama"));
      }
    }
    return out;
  }

  private static long epochSeconds(String timestamp) {
    if (timestamp == null) {
      return 0;
    }
    try {
      return OffsetDateTime.parse(timestamp).toEpochSecond();
    } catch (DateTimeParseException e) {
      return 0;
    }
  }
}
