package io.pekkollm.http;

import static io.pekkollm.wire.openai.JsonFields.optBool;
import static io.pekkollm.wire.openai.JsonFields.optDouble;
import static io.pekkollm.wire.openai.JsonFields.optInt;
import static io.pekkollm.wire.openai.JsonFields.optPositiveInt;
import static io.pekkollm.wire.openai.JsonFields.requireText;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.ContentPart;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Message;
import io.pekkollm.model.ToolCall;
import io.pekkollm.model.ToolChoice;
import io.pekkollm.model.ToolDefinition;
import io.pekkollm.model.Usage;
import io.pekkollm.util.Json;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The gateway's side of Anthropic's Messages API: it reads {@code POST /v1/messages} (and
 * {@code /v1/messages/count_tokens}) bodies into the core {@link ChatRequest}, and writes the {@code message}
 * answer and Anthropic's error body. The reverse of {@code provider.anthropic.AnthropicMapper}, which speaks the
 * same format to an upstream. Stateless and thread-safe.
 *
 * <p>What the core model cannot carry is refused with a 400 naming the field rather than dropped: PDF and URL
 * documents, images inside tool results, server tools. Thinking blocks of earlier turns are dropped (the core keeps
 * no signature, and no provider is sent reasoning back). {@code top_k}, {@code thinking} and the
 * {@code anthropic-beta} header are Anthropic's own: they travel in {@link ChatRequest#extraBody()} and
 * {@link MessagesRoutes} keeps them only for Anthropic upstreams. Unknown top-level fields are ignored.
 */
final class MessagesCodec {
  /** The {@link ChatRequest#extraBody()} keys only an Anthropic upstream understands. */
  static final List<String> ANTHROPIC_ONLY = List.of("top_k", "thinking", "anthropic_beta", "anthropic_version");

  private MessagesCodec() {}

  /** A parsed request: the core request, and whether the client asked for the event stream. */
  record ParsedRequest(ChatRequest request, boolean stream) {}

  // ---------------------------------------------------------------- requests

  /**
   * Reads a Messages request body. {@code countTokens}: the body of {@code count_tokens}, which has no
   * {@code max_tokens}. Throws {@link LlmException} (INVALID_REQUEST) naming the field at fault.
   */
  static ParsedRequest readRequest(JsonNode body, boolean countTokens) {
    if (body == null || !body.isObject()) {
      throw LlmException.invalidRequest("the request body must be a JSON object", null);
    }
    String model = requireText(body, "model");
    if (model.isBlank()) {
      throw LlmException.invalidRequest("'model' must not be empty", "model");
    }
    Integer maxTokens = optPositiveInt(body, "max_tokens");
    if (maxTokens == null && !countTokens) {
      throw LlmException.invalidRequest("'max_tokens' is required", "max_tokens");
    }
    ChatRequest.Builder b = ChatRequest.builder(model).maxTokens(countTokens ? null : maxTokens);
    readSystem(body.get("system"), b);
    JsonNode msgs = body.get("messages");
    if (msgs == null || msgs.isNull()) {
      throw LlmException.invalidRequest("'messages' is required", "messages");
    }
    if (!msgs.isArray() || msgs.isEmpty()) {
      throw LlmException.invalidRequest("'messages' must be a non-empty array of messages", "messages");
    }
    for (int i = 0; i < msgs.size(); i++) {
      readMessage(msgs.get(i), "messages[" + i + "]", b);
    }
    b.temperature(optDouble(body, "temperature", 0, 1));
    b.topP(optDouble(body, "top_p", 0, 1));
    b.stop(readStrings(body.get("stop_sequences"), "stop_sequences"));
    List<ToolDefinition> tools = readTools(body.get("tools"));
    b.tools(tools);
    readToolChoice(body.get("tool_choice"), b);
    JsonNode metadata = body.get("metadata");
    if (metadata != null && !metadata.isNull()) {
      if (!metadata.isObject()) {
        throw LlmException.invalidRequest("'metadata' must be an object", "metadata");
      }
      b.userId(text(metadata, "user_id", "metadata.user_id", false));
    }
    Map<String, JsonNode> extra = new LinkedHashMap<>();
    Integer topK = optInt(body, "top_k");
    if (topK != null) {
      if (topK < 0) {
        throw LlmException.invalidRequest("'top_k' must be at least 0", "top_k");
      }
      extra.put("top_k", body.get("top_k"));
    }
    JsonNode thinking = body.get("thinking");
    if (thinking != null && !thinking.isNull()) {
      String type = thinking.isObject() ? Json.text(thinking, "type") : null;
      if (type == null) {
        throw LlmException.invalidRequest("'thinking' must be an object with a 'type' (enabled, disabled)", "thinking");
      }
      if ("enabled".equals(type)) {
        Integer budget = optInt(thinking, "budget_tokens");
        if (budget == null || budget < 1) {
          throw LlmException.invalidRequest("'thinking.budget_tokens' must be a positive integer",
              "thinking.budget_tokens");
        }
      }
      extra.put("thinking", thinking);
    }
    b.extraBody(extra);
    Boolean stream = optBool(body, "stream");
    return new ParsedRequest(b.build(), stream != null && stream && !countTokens);
  }

  private static void readSystem(JsonNode system, ChatRequest.Builder b) {
    if (system == null || system.isNull()) {
      return;
    }
    if (system.isTextual()) {
      if (!system.asText().isEmpty()) {
        b.system(system.asText());
      }
      return;
    }
    if (!system.isArray()) {
      throw LlmException.invalidRequest("'system' must be a string or an array of text blocks", "system");
    }
    for (int i = 0; i < system.size(); i++) {
      String path = "system[" + i + "]";
      JsonNode block = requireBlock(system.get(i), path);
      if (!"text".equals(Json.text(block, "type"))) {
        throw LlmException.invalidRequest("'" + path + ".type' must be text", path + ".type");
      }
      b.system(text(block, "text", path + ".text", true));
    }
  }

  private static void readMessage(JsonNode m, String path, ChatRequest.Builder b) {
    if (m == null || !m.isObject()) {
      throw LlmException.invalidRequest("'" + path + "' must be an object with 'role' and 'content'", path);
    }
    String role = text(m, "role", path + ".role", true);
    if (!role.equals("user") && !role.equals("assistant")) {
      throw LlmException.invalidRequest("'" + path + ".role' must be user or assistant, not " + role, path + ".role");
    }
    JsonNode content = m.get("content");
    if (content == null || content.isNull()) {
      throw LlmException.invalidRequest("'" + path + ".content' is required", path + ".content");
    }
    if (content.isTextual()) {
      b.addMessage(role.equals("user") ? Message.user(content.asText()) : Message.assistant(content.asText()));
      return;
    }
    if (!content.isArray() || content.isEmpty()) {
      throw LlmException.invalidRequest("'" + path + ".content' must be a string or a non-empty array of content "
          + "blocks", path + ".content");
    }
    if (role.equals("user")) {
      readUserBlocks(content, path + ".content", b);
    } else {
      readAssistantBlocks(content, path + ".content", b);
    }
  }

  private static void readUserBlocks(JsonNode content, String path, ChatRequest.Builder b) {
    List<ContentPart> parts = new ArrayList<>();
    for (int j = 0; j < content.size(); j++) {
      String p = path + "[" + j + "]";
      JsonNode block = requireBlock(content.get(j), p);
      String type = text(block, "type", p + ".type", true);
      switch (type) {
        case "text" -> parts.add(ContentPart.text(text(block, "text", p + ".text", true)));
        case "image" -> parts.add(image(block, p));
        case "document" -> parts.add(ContentPart.text(document(block, p)));
        // Tool results go first, as their own messages: the core model (like OpenAI's) answers each call in a
        // tool message, and each provider mapper puts them back where its API wants them.
        case "tool_result" -> b.addMessage(Message.tool(text(block, "tool_use_id", p + ".tool_use_id", true),
            toolResult(block, p)));
        default -> throw unknownBlock(type, p, "text, image, document, tool_result");
      }
    }
    if (!parts.isEmpty()) {
      b.addMessage(Message.user(parts));
    }
  }

  private static void readAssistantBlocks(JsonNode content, String path, ChatRequest.Builder b) {
    StringBuilder text = new StringBuilder();
    List<ToolCall> calls = new ArrayList<>();
    for (int j = 0; j < content.size(); j++) {
      String p = path + "[" + j + "]";
      JsonNode block = requireBlock(content.get(j), p);
      String type = text(block, "type", p + ".type", true);
      switch (type) {
        case "text" -> text.append(text(block, "text", p + ".text", true));
        case "tool_use" -> {
          JsonNode input = block.get("input");
          if (input != null && !input.isNull() && !input.isObject()) {
            throw LlmException.invalidRequest("'" + p + ".input' must be an object", p + ".input");
          }
          calls.add(new ToolCall(text(block, "id", p + ".id", true), text(block, "name", p + ".name", true),
              input == null || input.isNull() ? "{}" : Json.write(input)));
        }
        // Earlier reasoning: no provider takes it back without its signature, which the core does not keep.
        case "thinking", "redacted_thinking" -> { }
        default -> throw unknownBlock(type, p, "text, tool_use, thinking, redacted_thinking");
      }
    }
    b.addMessage(Message.assistant(text.length() == 0 && !calls.isEmpty() ? null : text.toString(), calls));
  }

  private static LlmException unknownBlock(String type, String path, String known) {
    return LlmException.invalidRequest("'" + path + ".type' " + type + " is not supported here; supported: " + known,
        path + ".type");
  }

  /** A block's {@code source} object, which must have a {@code type}. */
  private static JsonNode source(JsonNode block, String p) {
    JsonNode source = block.get("source");
    if (source == null || !source.isObject()) {
      throw LlmException.invalidRequest("'" + p + "' must be an object", p);
    }
    text(source, "type", p + ".type", true);
    return source;
  }

  private static ContentPart image(JsonNode block, String path) {
    String p = path + ".source";
    JsonNode source = source(block, p);
    String type = source.get("type").asText();
    return switch (type) {
      case "base64" -> ContentPart.imageBase64(text(source, "media_type", p + ".media_type", true),
          text(source, "data", p + ".data", true));
      case "url" -> ContentPart.imageUrl(text(source, "url", p + ".url", true));
      default -> throw LlmException.invalidRequest("'" + p + ".type' must be base64 or url, not " + type,
          p + ".type");
    };
  }

  /** A document the core can carry: plain text, or content blocks of text; PDFs and URLs cannot be. */
  private static String document(JsonNode block, String path) {
    String p = path + ".source";
    JsonNode source = source(block, p);
    String type = source.get("type").asText();
    String body;
    if (type.equals("text")) {
      body = text(source, "data", p + ".data", true);
    } else if (type.equals("content")) {
      body = textBlocks(source.get("content"), p + ".content");
    } else {
      throw LlmException.invalidRequest("'" + p + ".type' " + type + " is not supported: the gateway passes "
          + "documents on as text (source type text or content); send the document's text", p + ".type");
    }
    String title = block.path("title").isTextual() ? block.get("title").asText() : null;
    return title == null ? body : title + "\n\n" + body;
  }

  private static String toolResult(JsonNode block, String path) {
    JsonNode content = block.get("content");
    String text = content == null || content.isNull() ? ""
        : content.isTextual() ? content.asText() : textBlocks(content, path + ".content");
    // The core's tool message has no error flag; the text says it, so the model still learns the call failed.
    return optBool(block, "is_error") == Boolean.TRUE ? "Error: " + text : text;
  }

  private static String textBlocks(JsonNode blocks, String path) {
    if (blocks == null || !blocks.isArray()) {
      throw LlmException.invalidRequest("'" + path + "' must be a string or an array of text blocks", path);
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < blocks.size(); i++) {
      String p = path + "[" + i + "]";
      JsonNode block = requireBlock(blocks.get(i), p);
      String type = text(block, "type", p + ".type", true);
      if (!type.equals("text")) {
        throw LlmException.invalidRequest("'" + p + ".type' " + type + " is not supported here; only text blocks",
            p + ".type");
      }
      if (sb.length() > 0) {
        sb.append("\n");
      }
      sb.append(text(block, "text", p + ".text", true));
    }
    return sb.toString();
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
      String p = "tools[" + i + "]";
      JsonNode t = requireBlock(tools.get(i), p);
      String type = Json.text(t, "type");
      if (type != null && !type.equals("custom")) {
        throw LlmException.invalidRequest("'" + p + ".type' " + type + " is a server tool, which the gateway "
            + "cannot run for every provider; only custom tools (name, description, input_schema)", p + ".type");
      }
      JsonNode schema = t.get("input_schema");
      if (schema == null || !schema.isObject()) {
        throw LlmException.invalidRequest("'" + p + ".input_schema' must be a JSON Schema object", p + ".input_schema");
      }
      out.add(ToolDefinition.of(text(t, "name", p + ".name", true), text(t, "description", p + ".description", false),
          schema));
    }
    return out;
  }

  private static void readToolChoice(JsonNode tc, ChatRequest.Builder b) {
    if (tc == null || tc.isNull()) {
      return;
    }
    String type = tc.isObject() ? Json.text(tc, "type") : null;
    if (type == null) {
      throw LlmException.invalidRequest("'tool_choice' must be an object with 'type' auto, any, tool or none",
          "tool_choice");
    }
    switch (type) {
      case "auto" -> b.toolChoice(ToolChoice.AUTO);
      case "any" -> b.toolChoice(ToolChoice.REQUIRED);
      case "none" -> b.toolChoice(ToolChoice.NONE);
      case "tool" -> b.toolChoice(ToolChoice.function(text(tc, "name", "tool_choice.name", true)));
      default -> throw LlmException.invalidRequest("'tool_choice.type' must be auto, any, tool or none, not " + type,
          "tool_choice.type");
    }
    if (optBool(tc, "disable_parallel_tool_use") == Boolean.TRUE) {
      b.parallelToolCalls(false);
    }
  }

  private static List<String> readStrings(JsonNode v, String field) {
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isArray()) {
      throw LlmException.invalidRequest("'" + field + "' must be an array of strings", field);
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < v.size(); i++) {
      if (!v.get(i).isTextual()) {
        throw LlmException.invalidRequest("'" + field + "[" + i + "]' must be a string", field + "[" + i + "]");
      }
      out.add(v.get(i).asText());
    }
    return out;
  }

  private static JsonNode requireBlock(JsonNode block, String path) {
    if (block == null || !block.isObject()) {
      throw LlmException.invalidRequest("'" + path + "' must be an object", path);
    }
    return block;
  }

  /** The string {@code field} of {@code node}, named {@code path} in errors; null when optional and absent. */
  private static String text(JsonNode node, String field, String path, boolean required) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      if (required) {
        throw LlmException.invalidRequest("'" + path + "' is required", path);
      }
      return null;
    }
    if (!v.isTextual()) {
      throw LlmException.invalidRequest("'" + path + "' must be a string", path);
    }
    return v.asText();
  }

  // ---------------------------------------------------------------- responses

  /** A new message id, {@code msg_} and 24 random alphanumerics, as Anthropic's look. */
  static String newId() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    StringBuilder sb = new StringBuilder("msg_");
    for (int i = 0; i < 24; i++) {
      sb.append(alphabet.charAt(r.nextInt(alphabet.length())));
    }
    return sb.toString();
  }

  /** The {@code message} answer for {@code r}. */
  static String writeMessage(ChatResponse r, String id) {
    ObjectNode o = messageHeader(id, r.model());
    ArrayNode content = o.putArray("content");
    if (r.reasoning() != null && !r.reasoning().isEmpty()) {
      content.addObject().put("type", "thinking").put("thinking", r.reasoning()).put("signature", "");
    }
    if (!r.text().isEmpty() || r.toolCalls().isEmpty()) {
      content.addObject().put("type", "text").put("text", r.text());
    }
    for (ToolCall call : r.toolCalls()) {
      content.addObject().put("type", "tool_use").put("id", call.id()).put("name", call.name())
          .set("input", toolInput(call.arguments()));
    }
    FinishReason fr = r.finishReason() != null ? r.finishReason()
        : r.toolCalls().isEmpty() ? FinishReason.STOP : FinishReason.TOOL_CALLS;
    o.put("stop_reason", stopReason(fr));
    o.putNull("stop_sequence");
    o.set("usage", usage(r.usage()));
    return Json.write(o);
  }

  /** The start of a {@code message} object: id, type, role, model (content and the rest follow). */
  static ObjectNode messageHeader(String id, String model) {
    ObjectNode o = Json.object();
    o.put("id", id).put("type", "message").put("role", "assistant").put("model", model);
    return o;
  }

  /**
   * A tool call's arguments as the object {@code tool_use.input} must be: arguments that are not a JSON object
   * (a model can produce those) are wrapped as {@code {"arguments": text}} rather than failing the answer.
   */
  static JsonNode toolInput(String arguments) {
    if (arguments == null || arguments.isBlank()) {
      return Json.object();
    }
    try {
      JsonNode n = Json.parse(arguments);
      if (n != null && n.isObject()) {
        return n;
      }
    } catch (java.io.IOException e) {
      // falls through to the wrapped text
    }
    return Json.object().put("arguments", arguments);
  }

  /**
   * The core finish reason as Anthropic's {@code stop_reason}: stop → end_turn, length → max_tokens, tool_calls →
   * tool_use, content_filter → refusal; other values (pause_turn, ...) as they came.
   */
  static String stopReason(FinishReason fr) {
    if (fr == null) {
      return "end_turn";
    }
    return switch (fr.value()) {
      case "stop" -> "end_turn";
      case "length" -> "max_tokens";
      case "tool_calls" -> "tool_use";
      case "content_filter" -> "refusal";
      default -> fr.value();
    };
  }

  /**
   * Anthropic's usage object. Its {@code input_tokens} excludes the prompt-cache reads and writes, which the core
   * counts inside the input (as OpenAI does), so they are taken out again.
   */
  static ObjectNode usage(Usage u) {
    Usage x = u == null ? Usage.ZERO : u;
    ObjectNode o = Json.object();
    o.put("input_tokens", Math.max(0, x.inputTokens() - x.cachedInputTokens() - x.cacheWriteTokens()));
    o.put("cache_creation_input_tokens", x.cacheWriteTokens());
    o.put("cache_read_input_tokens", x.cachedInputTokens());
    o.put("output_tokens", x.outputTokens());
    return o;
  }

  // ---------------------------------------------------------------- errors

  /** Anthropic's error body: {@code {"type": "error", "error": {"type", "message"}}}. */
  static String writeError(String type, String message) {
    ObjectNode o = Json.object().put("type", "error");
    o.putObject("error").put("type", type).put("message", message == null ? "" : message);
    return Json.write(o);
  }

  /**
   * The status Anthropic would answer {@code e} with: the upstream's or the gateway's, except that overload is 529
   * (Anthropic's own status for it, which its SDKs map to their overloaded error).
   */
  static int status(LlmException e) {
    return e.kind() == ErrorKind.OVERLOADED ? 529 : e.httpStatus();
  }

  /** Anthropic's error type for a status (its documented list), so an SDK sees the types it knows. */
  static String errorType(int status) {
    return switch (status) {
      case 400, 422 -> "invalid_request_error";
      case 401 -> "authentication_error";
      case 402 -> "billing_error";
      case 403 -> "permission_error";
      case 404 -> "not_found_error";
      case 408, 504 -> "timeout_error";
      case 413 -> "request_too_large";
      case 429 -> "rate_limit_error";
      case 529 -> "overloaded_error";
      default -> "api_error";
    };
  }
}
