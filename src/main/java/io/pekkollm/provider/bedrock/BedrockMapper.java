package io.pekkollm.provider.bedrock;

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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Translates between this library's model and the Bedrock Converse API ({@code Converse} /
 * {@code ConverseStream}): the request (system prompts as a top-level list, strictly alternating
 * user/assistant turns with tool results inside user turns, content blocks), the stream events and the
 * complete response. Stateless apart from {@link StreamReader}.
 */
final class BedrockMapper {
  /**
   * Top-level Converse fields a caller may pass through {@link ChatRequest#extraBody()} (for example
   * {@code additionalModelRequestFields} for model-specific parameters); Bedrock rejects unknown fields, so
   * other (OpenAI-only) extras are dropped.
   */
  private static final Set<String> PASS_THROUGH = Set.of("additionalModelRequestFields",
      "additionalModelResponseFieldPaths", "guardrailConfig", "performanceConfig", "promptVariables",
      "requestMetadata", "serviceTier");
  /** Converse has no JSON mode without a schema; the model is asked in the system prompt instead. */
  static final String JSON_OBJECT_INSTRUCTION = "Respond with a single valid JSON object and nothing else.";

  private BedrockMapper() {}

  // ---------------------------------------------------------------- request

  /** Whether {@code model} is one of Cohere's embed models on Bedrock ({@code cohere.embed-...}). */
  static boolean isCohereEmbedding(String model) {
    return model.startsWith("cohere.embed") || model.contains(".cohere.embed");
  }

  /**
   * The {@code InvokeModel} body of an embedding call: Cohere's ({@code texts}, {@code input_type}) for Cohere
   * embed models, Titan's ({@code inputText}, {@code dimensions}) for every other model (one text a call).
   */
  static ObjectNode embeddingBody(EmbeddingRequest request) {
    EmbeddingJson.requireTexts("bedrock", request);
    ObjectNode o = Json.object();
    if (isCohereEmbedding(request.model())) {
      var texts = o.putArray("texts");
      request.texts().forEach(texts::add);
      o.put("input_type", request.inputType() == null ? "search_document" : request.inputType());
      return o;
    }
    if (request.size() != 1) {
      throw new IllegalStateException("Titan embeds one text a call, not " + request.size());
    }
    o.put("inputText", request.texts().get(0));
    if (request.dimensions() != null) {
      o.put("dimensions", request.dimensions());
    }
    return o;
  }

  /** Titan's {@code embedding} + {@code inputTextTokenCount}, or Cohere's {@code embeddings} (floats). */
  static EmbeddingResponse readEmbeddings(String provider, EmbeddingRequest request, JsonNode root, String body) {
    if (root.has("embedding")) {
      int tokens = root.path("inputTextTokenCount").isNumber() ? root.path("inputTextTokenCount").asInt() : -1;
      return EmbeddingJson.response(provider, request, null,
          List.of(EmbeddingJson.floats(provider, root.path("embedding"), body)), tokens, body);
    }
    JsonNode e = root.path("embeddings");
    return EmbeddingJson.response(provider, request, null,
        EmbeddingJson.vectors(provider, e.isObject() ? e.path("float") : e, body), -1, body);
  }

  static ObjectNode toRequest(ChatRequest request) {
    ObjectNode o = Json.object();
    request.extraBody().forEach((k, v) -> {
      if (PASS_THROUGH.contains(k)) {
        o.set(k, v);
      }
    });
    ArrayNode system = Json.object().arrayNode();
    List<Turn> turns = new ArrayList<>();
    boolean toolBlocks = false;
    for (Message m : request.messages()) {
      if (m instanceof Message.System s) {
        // Converse takes system prompts apart from the turns, wherever they appeared.
        system.addObject().put("text", s.content());
        continue;
      }
      String role = m instanceof Message.Assistant ? "assistant" : "user";
      ArrayNode blocks = blocks(m);
      if (blocks.isEmpty()) {
        continue;
      }
      toolBlocks |= m instanceof Message.Tool || m instanceof Message.Assistant a && !a.toolCalls().isEmpty();
      Turn last = turns.isEmpty() ? null : turns.get(turns.size() - 1);
      if (last != null && last.role.equals(role)) {
        // Converse requires strictly alternating roles: consecutive turns of one role become one turn
        // (this is also how tool results, which are user content, join the user's next words).
        last.content.addAll(blocks);
      } else {
        turns.add(new Turn(role, blocks));
      }
    }
    ResponseFormat rf = request.responseFormat();
    if (rf != null && rf.type() == ResponseFormat.Type.JSON_OBJECT) {
      system.addObject().put("text", JSON_OBJECT_INSTRUCTION);
    }
    ArrayNode msgs = o.putArray("messages");
    for (Turn t : turns) {
      msgs.addObject().put("role", t.role).set("content", t.content);
    }
    if (!system.isEmpty()) {
      o.set("system", system);
    }
    ObjectNode inference = Json.object();
    if (request.maxTokens() != null) {
      inference.put("maxTokens", request.maxTokens());
    }
    if (request.temperature() != null) {
      inference.put("temperature", request.temperature());
    }
    if (request.topP() != null) {
      inference.put("topP", request.topP());
    }
    if (!request.stop().isEmpty()) {
      ArrayNode stop = inference.putArray("stopSequences");
      request.stop().forEach(stop::add);
    }
    if (!inference.isEmpty()) {
      o.set("inferenceConfig", inference);
    }
    ObjectNode toolConfig = toolConfig(request, toolBlocks);
    if (toolConfig != null) {
      o.set("toolConfig", toolConfig);
    }
    if (rf != null && rf.type() == ResponseFormat.Type.JSON_SCHEMA) {
      // Converse structured output: the schema travels as JSON text, not as an object.
      ObjectNode js = o.putObject("outputConfig").putObject("textFormat").put("type", "json_schema")
          .putObject("structure").putObject("jsonSchema");
      js.put("schema", Json.write(rf.schema()));
      js.put("name", rf.schemaName());
    }
    return o;
  }

  private record Turn(String role, ArrayNode content) {}

  private static ArrayNode blocks(Message m) {
    ArrayNode blocks = Json.object().arrayNode();
    if (m instanceof Message.User u) {
      for (ContentPart p : u.content()) {
        if (p instanceof ContentPart.Text t) {
          if (!t.text().isEmpty()) {
            blocks.addObject().put("text", t.text());
          }
        } else if (p instanceof ContentPart.Image img) {
          blocks.addObject().set("image", image(img));
        }
      }
    } else if (m instanceof Message.Assistant a) {
      // Bedrock rejects blank text blocks; an assistant turn of only tool calls has none.
      if (!a.text().isBlank()) {
        blocks.addObject().put("text", a.text());
      }
      for (ToolCall tc : a.toolCalls()) {
        ObjectNode use = blocks.addObject().putObject("toolUse");
        use.put("toolUseId", tc.id());
        use.put("name", tc.name());
        use.set("input", argumentsObject(tc));
      }
    } else if (m instanceof Message.Tool t) {
      ObjectNode result = blocks.addObject().putObject("toolResult");
      result.put("toolUseId", t.toolCallId());
      result.putArray("content").addObject().put("text", t.content());
    }
    return blocks;
  }

  private static ObjectNode image(ContentPart.Image img) {
    ObjectNode image = Json.object();
    if (img.base64Data() != null) {
      image.put("format", imageFormat(img.mediaType() == null ? "image/png" : img.mediaType()));
      image.putObject("source").put("bytes", img.base64Data());
      return image;
    }
    String url = img.url();
    if (url.startsWith("s3://")) {
      int dot = url.lastIndexOf('.');
      image.put("format", imageFormat("image/" + (dot < 0 ? "" : url.substring(dot + 1))));
      image.putObject("source").putObject("s3Location").put("uri", url);
      return image;
    }
    throw LlmException.invalidRequest("Bedrock accepts images as base64 data (a data: URL) or s3:// locations, "
        + "not as web links: " + (url.length() > 80 ? url.substring(0, 80) + "..." : url), "messages");
  }

  private static String imageFormat(String mediaType) {
    return switch (mediaType.toLowerCase(Locale.ROOT)) {
      case "image/png" -> "png";
      case "image/jpeg", "image/jpg" -> "jpeg";
      case "image/gif" -> "gif";
      case "image/webp" -> "webp";
      default -> throw LlmException.invalidRequest("Bedrock accepts png, jpeg, gif and webp images, not "
          + mediaType, "messages");
    };
  }

  /** Converse wants tool input as a JSON value (an object), not the JSON text OpenAI uses. */
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
    String a = tc.arguments();
    throw LlmException.invalidRequest("the arguments of tool call '" + tc.name()
        + "' must be a JSON object for Bedrock, got: " + (a.length() > 80 ? a.substring(0, 80) + "..." : a),
        "messages");
  }

  /**
   * Converse has no "none" tool choice. With {@code none} the tools are left out, unless the conversation
   * already holds tool calls or results: Bedrock then requires the tool list, so it is sent without a choice.
   */
  private static ObjectNode toolConfig(ChatRequest request, boolean historyHasToolBlocks) {
    if (request.tools().isEmpty()) {
      return null;
    }
    ToolChoice choice = request.toolChoice();
    if (choice != null && choice.mode() == ToolChoice.Mode.NONE && !historyHasToolBlocks) {
      return null;
    }
    ObjectNode tc = Json.object();
    ArrayNode tools = tc.putArray("tools");
    for (ToolDefinition t : request.tools()) {
      ObjectNode spec = tools.addObject().putObject("toolSpec");
      spec.put("name", t.name());
      if (t.description() != null) {
        spec.put("description", t.description());
      }
      JsonNode schema = t.parameters();
      if (schema == null) {
        ObjectNode empty = Json.object().put("type", "object");
        empty.putObject("properties");
        schema = empty;
      }
      spec.putObject("inputSchema").set("json", schema);
    }
    if (choice != null) {
      switch (choice.mode()) {
        case AUTO -> tc.putObject("toolChoice").putObject("auto");
        case REQUIRED -> tc.putObject("toolChoice").putObject("any");
        case FUNCTION -> tc.putObject("toolChoice").putObject("tool").put("name", choice.functionName());
        case NONE -> { } // tools sent only because the history needs them
      }
    }
    return tc;
  }

  /**
   * Percent-encodes one path segment as the AWS SDKs do (RFC 3986: only unreserved characters stay), so a
   * model id such as {@code anthropic.claude-3-haiku-20240307-v1:0} or an inference-profile ARN with
   * {@code /} stays one segment.
   */
  static String encodeSegment(String segment) {
    StringBuilder sb = new StringBuilder();
    for (byte b : segment.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xff);
      if (c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
          || c == '.' || c == '~') {
        sb.append(c);
      } else {
        sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return sb.toString();
  }

  // ---------------------------------------------------------------- responses

  /** Converse stop reasons mapped to the common set; unknown ones are kept as sent. */
  static FinishReason finishReason(String stopReason) {
    if (stopReason == null) {
      return null;
    }
    return switch (stopReason) {
      case "end_turn", "stop_sequence" -> FinishReason.STOP;
      case "max_tokens", "model_context_window_exceeded" -> FinishReason.LENGTH;
      case "tool_use" -> FinishReason.TOOL_CALLS;
      case "guardrail_intervened", "content_filtered" -> FinishReason.CONTENT_FILTER;
      default -> FinishReason.of(stopReason);
    };
  }

  /**
   * Usage from a Converse {@code usage} object. Like Anthropic's API, Bedrock counts prompt-cache reads and
   * writes apart from {@code inputTokens}; they are folded in because this library counts them as part of the
   * input. When {@code totalTokens} shows they are already included, they are not added twice.
   */
  static Usage usage(JsonNode u) {
    if (u == null || !u.isObject()) {
      return null;
    }
    int input = Json.intValue(u, "inputTokens");
    int output = Json.intValue(u, "outputTokens");
    int cacheRead = Json.intValue(u, "cacheReadInputTokens");
    int cacheWrite = Json.intValue(u, "cacheWriteInputTokens");
    boolean included = u.has("totalTokens") && Json.intValue(u, "totalTokens") == input + output;
    if (!included) {
      input += cacheRead + cacheWrite;
    }
    return new Usage(input, output, cacheRead, cacheWrite, 0);
  }

  /** A complete Converse response as one chunk. */
  static ChatChunk readResponse(JsonNode root) {
    StringBuilder text = new StringBuilder();
    StringBuilder reasoning = new StringBuilder();
    List<ToolCallDelta> calls = new ArrayList<>();
    for (JsonNode block : root.path("output").path("message").path("content")) {
      if (block.has("text")) {
        text.append(Json.text(block, "text"));
      } else if (block.has("toolUse")) {
        JsonNode use = block.get("toolUse");
        JsonNode input = use.get("input");
        calls.add(new ToolCallDelta(calls.size(), Json.text(use, "toolUseId"), Json.text(use, "name"),
            input == null || input.isNull() ? "{}" : Json.write(input)));
      } else if (block.has("reasoningContent")) {
        String t = Json.text(block.get("reasoningContent").path("reasoningText"), "text");
        reasoning.append(t == null ? "" : t);
      }
    }
    return new ChatChunk(null, null, text.isEmpty() ? null : text.toString(),
        reasoning.isEmpty() ? null : reasoning.toString(), calls, finishReason(Json.text(root, "stopReason")),
        usage(root.get("usage")));
  }

  /**
   * Reads the events of one ConverseStream. Content blocks are numbered across text, reasoning and tool use;
   * tool calls are renumbered densely (0, 1, ...) by the block they started in. Not thread-safe: one per
   * stream.
   */
  static final class StreamReader {
    private final Map<Integer, Integer> toolByBlock = new HashMap<>();
    private boolean stopped;

    /** The chunk for one event, or null for events that carry nothing (starts of text, stops). */
    ChatChunk read(String eventType, JsonNode event) {
      switch (eventType) {
        case "contentBlockStart" -> {
          JsonNode use = event.path("start").get("toolUse");
          if (use == null) {
            return null;
          }
          int index = toolIndex(event);
          return tools(new ToolCallDelta(index, Json.text(use, "toolUseId"), Json.text(use, "name"), ""));
        }
        case "contentBlockDelta" -> {
          JsonNode delta = event.path("delta");
          if (delta.has("text")) {
            return new ChatChunk(null, null, Json.text(delta, "text"), null, List.of(), null, null);
          }
          if (delta.has("toolUse")) {
            return tools(new ToolCallDelta(toolIndex(event), null, null, Json.text(delta.get("toolUse"), "input")));
          }
          if (delta.has("reasoningContent")) {
            // The signature (and redacted reasoning) only matter when sending reasoning back, which this
            // library does not do.
            String t = Json.text(delta.get("reasoningContent"), "text");
            return t == null ? null : new ChatChunk(null, null, null, t, List.of(), null, null);
          }
          return null;
        }
        case "messageStop" -> {
          stopped = true;
          return ChatChunk.finish(finishReason(Json.text(event, "stopReason")), null);
        }
        case "metadata" -> {
          Usage u = usage(event.get("usage"));
          return u == null ? null : ChatChunk.finish(null, u);
        }
        default -> {
          // messageStart, contentBlockStop, and event types added later: nothing a caller needs.
          return null;
        }
      }
    }

    /** True once {@code messageStop} arrived; {@code metadata} (usage) may follow it or be absent. */
    boolean isStopped() {
      return stopped;
    }

    private int toolIndex(JsonNode event) {
      int block = event.path("contentBlockIndex").asInt(0);
      return toolByBlock.computeIfAbsent(block, b -> toolByBlock.size());
    }

    private static ChatChunk tools(ToolCallDelta delta) {
      return new ChatChunk(null, null, null, null, List.of(delta), null, null);
    }
  }

  // ---------------------------------------------------------------- models

  /** The control plane's {@code GET /foundation-models}: {@code {"modelSummaries": [{"modelId", ...}]}}. */
  static List<ModelInfo> readModels(String provider, JsonNode root) {
    List<ModelInfo> out = new ArrayList<>();
    for (JsonNode m : root.path("modelSummaries")) {
      String id = Json.text(m, "modelId");
      boolean text = false;
      for (JsonNode mod : m.path("outputModalities")) {
        text |= "TEXT".equals(mod.asText());
      }
      if (id != null && (text || !m.has("outputModalities"))) {
        out.add(new ModelInfo(provider + "/" + id, provider, 0, Json.text(m, "providerName")));
      }
    }
    return out;
  }
}
