package io.pekkollm.provider.anthropic;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
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
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Translation between the common model and Anthropic's Messages API, both ways. Stateless and thread-safe.
 *
 * <p>Requests: system messages become the top-level {@code system}; tool results become {@code tool_result}
 * blocks of a user turn; consecutive turns of the same role are merged (the API wants user and assistant to
 * alternate); a trailing assistant message is sent as a prefill, which the answer continues (the response
 * holds only the continuation, as Anthropic returns it).
 *
 * <p>JSON mode: Anthropic has no {@code response_format}. A JSON request is sent as one forced tool whose
 * input schema is the requested schema (any object for JSON mode); {@link JsonToolUnwrapper} turns that tool's
 * input back into the answer text. This cannot be combined with the caller's own tools, and is refused then.
 *
 * <p>Thinking blocks (enabled through {@code extraBody.thinking}) are read as reasoning but not sent back:
 * the common model keeps no signature, so a tool loop with extended thinking needs Anthropic's own API.
 *
 * <p>Not sent, because the Messages API has no such parameter: {@code seed}, {@code presence_penalty},
 * {@code frequency_penalty}. From {@link ChatRequest#extraBody()} only Anthropic's own {@code top_k},
 * {@code thinking} and {@code service_tier} are passed on (an OpenAI-only field would be rejected).
 */
final class AnthropicMapper {
  /** The forced tool's name in JSON mode without a schema. */
  static final String JSON_OBJECT_TOOL = "json_response";

  private static final Set<String> PASS_THROUGH = Set.of("top_k", "thinking", "service_tier");
  /** The {@link ChatRequest#extraBody()} key whose text goes in the {@code anthropic-beta} header, not the body. */
  static final String BETA_FIELD = "anthropic_beta";
  /** The {@link ChatRequest#extraBody()} key whose text goes in the {@code anthropic-version} header. */
  static final String VERSION_FIELD = "anthropic_version";

  private AnthropicMapper() {}

  // ---------------------------------------------------------------- requests

  /**
   * The Messages API body for {@code request}. {@code defaultMaxTokens} is used when the request sets none:
   * {@code max_tokens} is mandatory there. Throws {@link LlmException} (INVALID_REQUEST) for what Anthropic
   * cannot express.
   */
  static ObjectNode toRequest(ChatRequest request, boolean stream, int defaultMaxTokens) {
    ObjectNode o = Json.object();
    request.extraBody().forEach((k, v) -> {
      if (PASS_THROUGH.contains(k)) {
        o.set(k, v);
      }
    });
    o.put("model", request.model());
    o.put("max_tokens", request.maxTokens() != null ? request.maxTokens() : defaultMaxTokens);
    writeSystem(o, request.messages());
    o.set("messages", messages(request.messages()));
    if (request.temperature() != null) {
      o.put("temperature", request.temperature());
    }
    if (request.topP() != null) {
      o.put("top_p", request.topP());
    }
    if (!request.stop().isEmpty()) {
      ArrayNode s = o.putArray("stop_sequences");
      request.stop().forEach(s::add);
    }
    writeTools(o, request);
    if (request.user() != null) {
      o.putObject("metadata").put("user_id", request.user());
    }
    if (stream) {
      o.put("stream", true);
    }
    return o;
  }

  /** The forced tool standing in for JSON mode, or null when the request wants free text. */
  static String jsonToolName(ChatRequest request) {
    ResponseFormat rf = request.responseFormat();
    if (rf == null || rf.type() == ResponseFormat.Type.TEXT) {
      return null;
    }
    return rf.type() == ResponseFormat.Type.JSON_SCHEMA ? toolName(rf.schemaName()) : JSON_OBJECT_TOOL;
  }

  /** Tool names must match {@code ^[a-zA-Z0-9_-]{1,64}$}; a schema name may hold other characters. */
  private static String toolName(String schemaName) {
    String cleaned = schemaName.replaceAll("[^a-zA-Z0-9_-]", "_");
    if (cleaned.isEmpty()) {
      return JSON_OBJECT_TOOL;
    }
    return cleaned.length() > 64 ? cleaned.substring(0, 64) : cleaned;
  }

  private static void writeSystem(ObjectNode o, List<Message> messages) {
    List<String> system = new ArrayList<>();
    for (Message m : messages) {
      if (m instanceof Message.System s) {
        system.add(s.content());
      }
    }
    if (system.size() == 1) {
      o.put("system", system.get(0));
    } else if (system.size() > 1) {
      // Kept as separate blocks rather than joined, so each instruction stays as the caller wrote it.
      ArrayNode blocks = o.putArray("system");
      system.forEach(t -> blocks.addObject().put("type", "text").put("text", t));
    }
  }

  /** One turn being built: tool results are kept apart because the API wants them first in a user turn. */
  private static final class Turn {
    final String role;
    final List<ObjectNode> toolResults = new ArrayList<>();
    final List<ObjectNode> blocks = new ArrayList<>();

    Turn(String role) {
      this.role = role;
    }

    List<ObjectNode> all() {
      List<ObjectNode> out = new ArrayList<>(toolResults);
      out.addAll(blocks);
      return out;
    }
  }

  private static ArrayNode messages(List<Message> messages) {
    List<Turn> turns = new ArrayList<>();
    for (int i = 0; i < messages.size(); i++) {
      Message m = messages.get(i);
      String path = "messages[" + i + "]";
      if (m instanceof Message.System) {
        continue;
      }
      String role = m instanceof Message.Assistant ? "assistant" : "user";
      Turn turn = turns.isEmpty() || !turns.get(turns.size() - 1).role.equals(role) ? null : turns.get(turns.size() - 1);
      if (turn == null) {
        turn = new Turn(role);
        turns.add(turn);
      }
      if (m instanceof Message.User u) {
        for (ContentPart p : u.content()) {
          turn.blocks.add(userPart(p));
        }
      } else if (m instanceof Message.Tool t) {
        turn.toolResults.add(Json.object().put("type", "tool_result").put("tool_use_id", t.toolCallId())
            .put("content", t.content()));
      } else if (m instanceof Message.Assistant a) {
        // The API rejects empty text blocks; an assistant turn of only tool calls has none.
        if (a.content() != null && !a.content().isEmpty()) {
          turn.blocks.add(textBlock(a.content()));
        }
        for (ToolCall call : a.toolCalls()) {
          ObjectNode block = Json.object().put("type", "tool_use").put("id", call.id()).put("name", call.name());
          block.set("input", toolInput(call, path));
          turn.blocks.add(block);
        }
      }
    }
    trimPrefill(turns);
    ArrayNode out = Json.MAPPER.createArrayNode();
    for (Turn t : turns) {
      List<ObjectNode> blocks = t.all();
      if (blocks.isEmpty()) {
        continue;
      }
      ObjectNode msg = out.addObject().put("role", t.role);
      if (blocks.size() == 1 && "text".equals(Json.text(blocks.get(0), "type"))) {
        msg.put("content", blocks.get(0).get("text").asText());
      } else {
        ArrayNode content = msg.putArray("content");
        blocks.forEach(content::add);
      }
    }
    return out;
  }

  /**
   * A trailing assistant turn is a prefill. The API answers 400 "final assistant content cannot end with
   * trailing whitespace", so the trailing whitespace of its last text block is removed (and a block left empty
   * is dropped, since empty text blocks are rejected too).
   */
  private static void trimPrefill(List<Turn> turns) {
    if (turns.isEmpty() || !turns.get(turns.size() - 1).role.equals("assistant")) {
      return;
    }
    List<ObjectNode> blocks = turns.get(turns.size() - 1).blocks;
    if (blocks.isEmpty()) {
      return;
    }
    ObjectNode last = blocks.get(blocks.size() - 1);
    if (!"text".equals(Json.text(last, "type"))) {
      return;
    }
    String trimmed = last.get("text").asText().stripTrailing();
    if (trimmed.isEmpty()) {
      blocks.remove(blocks.size() - 1);
    } else {
      last.put("text", trimmed);
    }
  }

  private static ObjectNode textBlock(String text) {
    return Json.object().put("type", "text").put("text", text);
  }

  private static ObjectNode userPart(ContentPart p) {
    if (p instanceof ContentPart.Text t) {
      return textBlock(t.text());
    }
    ContentPart.Image img = (ContentPart.Image) p;
    ObjectNode block = Json.object().put("type", "image");
    ObjectNode source = block.putObject("source");
    if (img.base64Data() != null) {
      source.put("type", "base64").put("media_type", img.mediaType() == null ? "image/png" : img.mediaType())
          .put("data", img.base64Data());
    } else {
      source.put("type", "url").put("url", img.url());
    }
    return block;
  }

  /** A tool call's arguments as the JSON object {@code tool_use.input} must be. */
  private static JsonNode toolInput(ToolCall call, String path) {
    if (call.arguments().isBlank()) {
      return Json.object();
    }
    JsonNode args;
    try {
      args = Json.parse(call.arguments());
    } catch (java.io.IOException e) {
      args = null;
    }
    if (args == null || !args.isObject()) {
      throw LlmException.invalidRequest(path + ".tool_calls: the arguments of call '" + call.id()
          + "' must be a JSON object for Anthropic (tool_use.input)", path + ".tool_calls");
    }
    return args;
  }

  private static void writeTools(ObjectNode o, ChatRequest request) {
    String jsonTool = jsonToolName(request);
    if (jsonTool != null && !request.tools().isEmpty()) {
      throw LlmException.invalidRequest("anthropic has no JSON mode; pekko-llm emulates it with a forced tool, "
          + "which cannot be combined with 'tools'. Drop response_format or the tools", "response_format");
    }
    if (jsonTool != null) {
      ResponseFormat rf = request.responseFormat();
      ObjectNode tool = o.putArray("tools").addObject().put("name", jsonTool);
      if (rf.type() == ResponseFormat.Type.JSON_SCHEMA) {
        tool.put("description", "Respond with a JSON value matching the schema '" + rf.schemaName() + "'.");
        tool.set("input_schema", rf.schema());
      } else {
        tool.put("description", "Respond with a JSON object.");
        tool.putObject("input_schema").put("type", "object");
      }
      o.putObject("tool_choice").put("type", "tool").put("name", jsonTool);
      return;
    }
    if (request.tools().isEmpty()) {
      // tool_choice without tools is an error upstream; there is nothing to choose from anyway.
      return;
    }
    ArrayNode tools = o.putArray("tools");
    for (ToolDefinition t : request.tools()) {
      ObjectNode tool = tools.addObject().put("name", t.name());
      if (t.description() != null) {
        tool.put("description", t.description());
      }
      if (t.parameters() != null) {
        tool.set("input_schema", t.parameters());
      } else {
        // input_schema is required; a function without parameters takes an empty object.
        tool.putObject("input_schema").put("type", "object").putObject("properties");
      }
    }
    ToolChoice tc = request.toolChoice();
    ObjectNode choice = null;
    if (tc != null) {
      choice = o.putObject("tool_choice");
      switch (tc.mode()) {
        case AUTO -> choice.put("type", "auto");
        case NONE -> choice.put("type", "none");
        case REQUIRED -> choice.put("type", "any");
        case FUNCTION -> choice.put("type", "tool").put("name", tc.functionName());
      }
    }
    if (Boolean.FALSE.equals(request.parallelToolCalls()) && (tc == null || tc.mode() != ToolChoice.Mode.NONE)) {
      if (choice == null) {
        choice = o.putObject("tool_choice").put("type", "auto");
      }
      choice.put("disable_parallel_tool_use", true);
    }
  }

  // ---------------------------------------------------------------- responses

  /** A complete (non-streamed) {@code message} as one chunk. */
  static ChatChunk fromMessage(JsonNode message) {
    String id = Json.text(message, "id");
    String model = Json.text(message, "model");
    StringBuilder text = new StringBuilder();
    StringBuilder thinking = null;
    List<ToolCallDelta> calls = new ArrayList<>();
    for (JsonNode block : message.path("content")) {
      String type = Json.text(block, "type");
      if ("text".equals(type)) {
        text.append(block.path("text").asText(""));
      } else if ("thinking".equals(type)) {
        thinking = thinking == null ? new StringBuilder() : thinking;
        thinking.append(block.path("thinking").asText(""));
      } else if ("tool_use".equals(type)) {
        JsonNode input = block.get("input");
        calls.add(new ToolCallDelta(calls.size(), Json.text(block, "id"), Json.text(block, "name"),
            input == null || input.isNull() ? "{}" : Json.write(input)));
      }
      // Other blocks (redacted_thinking, server tool results) have nothing the common model can carry.
    }
    return new ChatChunk(id, model, text.length() == 0 && !calls.isEmpty() ? null : text.toString(),
        thinking == null ? null : thinking.toString(), calls, finishReason(Json.text(message, "stop_reason")),
        usage(message.path("usage"), null));
  }

  /**
   * Maps {@code stop_reason}: end_turn and stop_sequence → stop, max_tokens and
   * model_context_window_exceeded → length, tool_use → tool_calls, refusal → content_filter; any other value
   * (e.g. pause_turn) is kept as an open value.
   */
  static FinishReason finishReason(String stopReason) {
    if (stopReason == null) {
      return null;
    }
    return switch (stopReason) {
      case "end_turn", "stop_sequence" -> FinishReason.STOP;
      case "max_tokens", "model_context_window_exceeded" -> FinishReason.LENGTH;
      case "tool_use" -> FinishReason.TOOL_CALLS;
      case "refusal" -> FinishReason.CONTENT_FILTER;
      default -> FinishReason.of(stopReason);
    };
  }

  /**
   * Usage from a {@code usage} object, over {@code previous} (stream usage is cumulative and a later report
   * may leave fields out). Anthropic's {@code input_tokens} excludes cache reads and writes; the common
   * {@link Usage} counts them inside the input (as OpenAI does), so they are added.
   */
  static Usage usage(JsonNode u, Counts previous) {
    Counts c = counts(u, previous);
    return c == null ? null : c.toUsage();
  }

  /** Running token counts of one message. */
  record Counts(int input, int output, int cacheRead, int cacheWrite) {
    Usage toUsage() {
      return new Usage(input + cacheRead + cacheWrite, output, cacheRead, cacheWrite, 0);
    }
  }

  static Counts counts(JsonNode u, Counts previous) {
    if (u == null || !u.isObject()) {
      return previous;
    }
    Counts p = previous == null ? new Counts(0, 0, 0, 0) : previous;
    return new Counts(intOr(u, "input_tokens", p.input()), intOr(u, "output_tokens", p.output()),
        intOr(u, "cache_read_input_tokens", p.cacheRead()), intOr(u, "cache_creation_input_tokens", p.cacheWrite()));
  }

  private static int intOr(JsonNode node, String field, int fallback) {
    JsonNode v = node.get(field);
    return v != null && v.isNumber() ? v.asInt() : fallback;
  }

  /** Models from a {@code GET /v1/models} page. */
  static List<ModelInfo> models(String provider, JsonNode page) {
    List<ModelInfo> out = new ArrayList<>();
    for (JsonNode m : page.path("data")) {
      String id = Json.text(m, "id");
      if (id != null) {
        out.add(new ModelInfo(provider + "/" + id, provider, epochSeconds(Json.text(m, "created_at")), "anthropic"));
      }
    }
    return out;
  }

  private static long epochSeconds(String rfc3339) {
    if (rfc3339 == null) {
      return 0;
    }
    try {
      return Instant.parse(rfc3339).getEpochSecond();
    } catch (DateTimeParseException e) {
      return 0;
    }
  }
}
