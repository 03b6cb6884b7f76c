package io.pekkollm.http;

import static io.pekkollm.wire.openai.JsonFields.optBool;
import static io.pekkollm.wire.openai.JsonFields.optDouble;
import static io.pekkollm.wire.openai.JsonFields.optPositiveInt;
import static io.pekkollm.wire.openai.JsonFields.optText;
import static io.pekkollm.wire.openai.JsonFields.requireText;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.ContentPart;
import io.pekkollm.model.Cost;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Message;
import io.pekkollm.model.ResponseFormat;
import io.pekkollm.model.ToolCall;
import io.pekkollm.model.ToolChoice;
import io.pekkollm.model.ToolDefinition;
import io.pekkollm.model.Usage;
import io.pekkollm.util.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * OpenAI's Responses API shapes on the gateway: the {@code POST /v1/responses} request ({@code input} a string or
 * items: messages with {@code input_text} / {@code input_image} / {@code output_text} parts, {@code function_call},
 * {@code function_call_output}; {@code instructions}, function {@code tools}, {@code tool_choice},
 * {@code max_output_tokens}, {@code temperature}, {@code top_p}, {@code text.format}, {@code store},
 * {@code previous_response_id}, {@code stream}) read into the core's {@link ChatRequest}, and the response object
 * and output items written back. Stateless.
 */
final class ResponsesCodec {
  private ResponsesCodec() {}

  /**
   * A parsed request: its input as normalized items, the call's options (a request without messages), and what
   * the response object echoes.
   */
  record Parsed(String model, ArrayNode input, String instructions, ChatRequest options, boolean stream,
      boolean store, String previousResponseId, ObjectNode echo) {}

  static Parsed readRequest(JsonNode body) {
    if (body == null || !body.isObject()) {
      throw LlmException.invalidRequest("the request body must be a JSON object", null);
    }
    String model = requireText(body, "model");
    if (model.isBlank()) {
      throw LlmException.invalidRequest("'model' must not be empty; use provider/model, e.g. mock/echo", "model");
    }
    ArrayNode input = normalizeInput(body.get("input"));
    // Checked now, so bad items are a 400 before any stored response is looked up.
    messages(input);
    String instructions = optText(body, "instructions");
    ChatRequest.Builder b = ChatRequest.builder(model)
        .temperature(optDouble(body, "temperature", 0, 2))
        .topP(optDouble(body, "top_p", 0, 1))
        .maxTokens(optPositiveInt(body, "max_output_tokens"))
        .tools(readTools(body.get("tools")))
        .toolChoice(readToolChoice(body.get("tool_choice")))
        .parallelToolCalls(optBool(body, "parallel_tool_calls"))
        .responseFormat(readFormat(body.path("text").get("format")))
        .userId(optText(body, "user"))
        .retry(ChatCompletionsCodec.readRetry(body.get("retry")));
    if (body.has("text") && !body.get("text").isObject() && !body.get("text").isNull()) {
      throw LlmException.invalidRequest("'text' must be an object like {\"format\": {\"type\": \"json_schema\", ...}}",
          "text");
    }
    Boolean stream = optBool(body, "stream");
    Boolean store = optBool(body, "store");
    String previous = optText(body, "previous_response_id");
    ObjectNode echo = Json.object();
    echo.put("instructions", instructions);
    echo.set("tools", body.path("tools").isArray() ? body.get("tools") : Json.MAPPER.createArrayNode());
    echo.set("tool_choice", body.hasNonNull("tool_choice") ? body.get("tool_choice") : Json.MAPPER.valueToTree("auto"));
    echo.put("temperature", body.path("temperature").isNumber() ? body.get("temperature").asDouble() : 1.0);
    echo.put("top_p", body.path("top_p").isNumber() ? body.get("top_p").asDouble() : 1.0);
    echo.put("parallel_tool_calls", !Boolean.FALSE.equals(optBool(body, "parallel_tool_calls")));
    if (body.path("max_output_tokens").isInt()) {
      echo.put("max_output_tokens", body.get("max_output_tokens").asInt());
    } else {
      echo.putNull("max_output_tokens");
    }
    echo.set("text", body.path("text").isObject() ? body.get("text")
        : Json.object().set("format", Json.object().put("type", "text")));
    echo.set("metadata", body.path("metadata").isObject() ? body.get("metadata") : Json.object());
    echo.put("previous_response_id", previous);
    echo.put("store", !Boolean.FALSE.equals(store));
    return new Parsed(model, input, instructions, b.build(), Boolean.TRUE.equals(stream), !Boolean.FALSE.equals(store),
        previous, echo);
  }

  /** The request to send: the instructions, the stored conversation {@code history}, then the new input. */
  static ChatRequest chatRequest(Parsed p, ArrayNode history) {
    List<Message> ms = new ArrayList<>();
    if (p.instructions() != null && !p.instructions().isEmpty()) {
      ms.add(Message.system(p.instructions()));
    }
    ArrayNode all = Json.MAPPER.createArrayNode();
    all.addAll(history);
    all.addAll(p.input());
    ms.addAll(messages(all));
    if (ms.isEmpty()) {
      throw LlmException.invalidRequest("'input' must hold at least one item", "input");
    }
    return p.options().toBuilder().messages(ms).build();
  }

  private static ArrayNode normalizeInput(JsonNode input) {
    ArrayNode out = Json.MAPPER.createArrayNode();
    if (input == null || input.isNull()) {
      throw LlmException.invalidRequest("'input' is required: a string or an array of input items", "input");
    }
    if (input.isTextual()) {
      ObjectNode m = out.addObject().put("type", "message").put("role", "user");
      m.putArray("content").addObject().put("type", "input_text").put("text", input.asText());
      return out;
    }
    if (!input.isArray()) {
      throw LlmException.invalidRequest("'input' must be a string or an array of input items", "input");
    }
    for (int i = 0; i < input.size(); i++) {
      JsonNode item = input.get(i);
      if (!item.isObject()) {
        throw LlmException.invalidRequest("input[" + i + "] must be an object", "input");
      }
      ObjectNode copy = item.deepCopy();
      if (!copy.has("type") && copy.has("role")) {
        copy.put("type", "message");
      }
      out.add(copy);
    }
    return out;
  }

  /** The core's messages for Responses items; consecutive assistant output and function calls form one turn. */
  static List<Message> messages(ArrayNode items) {
    List<Message> out = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      JsonNode item = items.get(i);
      String path = "input[" + i + "]";
      String type = Json.text(item, "type");
      if (type == null) {
        throw LlmException.invalidRequest(path + " needs a 'type' (message, function_call, function_call_output) "
            + "or a 'role'", "input");
      }
      switch (type) {
        case "message" -> out.add(message(item, path, out));
        case "function_call" -> {
          String callId = text(item, "call_id", path);
          ToolCall call = new ToolCall(callId, text(item, "name", path),
              item.path("arguments").isTextual() ? item.get("arguments").asText() : "{}");
          if (!out.isEmpty() && out.get(out.size() - 1) instanceof Message.Assistant a) {
            List<ToolCall> calls = new ArrayList<>(a.toolCalls());
            calls.add(call);
            out.set(out.size() - 1, new Message.Assistant(a.content(), calls, a.reasoning()));
          } else {
            out.add(Message.assistant("", List.of(call)));
          }
        }
        case "function_call_output" -> {
          JsonNode output = item.get("output");
          String text = output == null || output.isNull() ? null : output.isTextual() ? output.asText()
              : output.isArray() ? joinedText(output) : null;
          if (text == null) {
            throw LlmException.invalidRequest(path + ".output must be a string", "input");
          }
          out.add(Message.tool(text(item, "call_id", path), text));
        }
        case "reasoning" -> { }
        default -> throw LlmException.invalidRequest(path + " has unsupported type '" + type
            + "': use message, function_call or function_call_output", "input");
      }
    }
    return out;
  }

  private static Message message(JsonNode item, String path, List<Message> before) {
    String role = text(item, "role", path);
    JsonNode content = item.get("content");
    if (content == null || !(content.isTextual() || content.isArray())) {
      throw LlmException.invalidRequest(path + ".content must be a string or an array of content parts", "input");
    }
    switch (role) {
      case "system", "developer" -> {
        return Message.system(plainText(content, path));
      }
      case "assistant" -> {
        return Message.assistant(plainText(content, path));
      }
      case "user" -> {
        return Message.user(parts(content, path));
      }
      default -> throw LlmException.invalidRequest(path + ".role must be user, assistant, system or developer, not '"
          + role + "'", "input");
    }
  }

  private static List<ContentPart> parts(JsonNode content, String path) {
    if (content.isTextual()) {
      return List.of(ContentPart.text(content.asText()));
    }
    List<ContentPart> parts = new ArrayList<>();
    for (int i = 0; i < content.size(); i++) {
      JsonNode p = content.get(i);
      String type = Json.text(p, "type");
      if (("input_text".equals(type) || "output_text".equals(type)) && p.path("text").isTextual()) {
        parts.add(ContentPart.text(p.get("text").asText()));
      } else if ("input_image".equals(type)) {
        String url = p.path("image_url").isTextual() ? p.get("image_url").asText() : null;
        if (url == null) {
          throw LlmException.invalidRequest(path + ".content[" + i + "].image_url is required (a URL or a data: URL;"
              + " file_id is not supported)", "input");
        }
        ContentPart.Image img = ContentPart.imageUrl(url);
        String detail = Json.text(p, "detail");
        parts.add(detail == null ? img : img.withDetail(detail));
      } else {
        throw LlmException.invalidRequest(path + ".content[" + i + "] has unsupported type '" + type
            + "': use input_text or input_image", "input");
      }
    }
    return parts;
  }

  private static String plainText(JsonNode content, String path) {
    if (content.isTextual()) {
      return content.asText();
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < content.size(); i++) {
      JsonNode p = content.get(i);
      String type = Json.text(p, "type");
      if (!("input_text".equals(type) || "output_text".equals(type) || "refusal".equals(type))
          || !(p.path("text").isTextual() || p.path("refusal").isTextual())) {
        throw LlmException.invalidRequest(path + ".content[" + i + "] must be a text part for this role", "input");
      }
      sb.append(p.path("text").isTextual() ? p.get("text").asText() : p.get("refusal").asText());
    }
    return sb.toString();
  }

  private static String joinedText(JsonNode parts) {
    StringBuilder sb = new StringBuilder();
    parts.forEach(p -> sb.append(p.path("text").asText("")));
    return sb.toString();
  }

  private static String text(JsonNode item, String field, String path) {
    JsonNode v = item.get(field);
    if (v == null || !v.isTextual() || v.asText().isEmpty()) {
      throw LlmException.invalidRequest(path + "." + field + " is required (a string)", "input");
    }
    return v.asText();
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
      if (!"function".equals(Json.text(t, "type")) || !t.path("name").isTextual()) {
        throw LlmException.invalidRequest("tools[" + i + "] must be {\"type\": \"function\", \"name\": ...}: only "
            + "function tools are supported", "tools");
      }
      out.add(ChatCompletionsCodec.toolDefinition(t, "tools[" + i + "]"));
    }
    return out;
  }

  private static ToolChoice readToolChoice(JsonNode tc) {
    return ChatCompletionsCodec.toolChoice(tc, tc != null && "function".equals(Json.text(tc, "type"))
        ? Json.text(tc, "name") : null, "'tool_choice' must be auto, none, required or {\"type\": \"function\", "
        + "\"name\": ...}");
  }

  private static ResponseFormat readFormat(JsonNode f) {
    if (f == null || f.isNull()) {
      return null;
    }
    return ChatCompletionsCodec.responseFormat(f.isObject() ? Json.text(f, "type") : null, f, "text");
  }

  // ---------------------------------------------------------------- writing

  static String newId(String prefix) {
    return prefix + "_" + UUID.randomUUID().toString().replace("-", "");
  }

  /** An assistant message item holding {@code text} (status {@code status}). */
  static ObjectNode messageItem(String id, String text, String status) {
    ObjectNode m = Json.object().put("type", "message").put("id", id).put("status", status).put("role", "assistant");
    ArrayNode content = m.putArray("content");
    if (text != null) {
      content.add(textPart(text));
    }
    return m;
  }

  static ObjectNode textPart(String text) {
    ObjectNode part = Json.object().put("type", "output_text").put("text", text);
    part.putArray("annotations");
    part.putArray("logprobs");
    return part;
  }

  static ObjectNode functionCallItem(String id, String callId, String name, String arguments, String status) {
    return Json.object().put("type", "function_call").put("id", id).put("call_id", callId).put("name", name)
        .put("arguments", arguments).put("status", status);
  }

  /** The output items of a whole answer: its text as one message (when any, or when there is nothing else), its calls. */
  static ArrayNode outputItems(ChatResponse r) {
    ArrayNode out = Json.MAPPER.createArrayNode();
    if ((r.text() != null && !r.text().isEmpty()) || r.toolCalls().isEmpty()) {
      out.add(messageItem(newId("msg"), r.text() == null ? "" : r.text(), "completed"));
    }
    for (ToolCall c : r.toolCalls()) {
      out.add(functionCallItem(newId("fc"), c.id() == null ? newId("call") : c.id(), c.name(),
          c.arguments() == null ? "" : c.arguments(), "completed"));
    }
    return out;
  }

  /** Status {@code incomplete} for an answer cut by its token limit or a content filter; null otherwise. */
  static String incompleteReason(FinishReason finish) {
    if (FinishReason.LENGTH.equals(finish)) {
      return "max_output_tokens";
    }
    return FinishReason.CONTENT_FILTER.equals(finish) ? "content_filter" : null;
  }

  /**
   * The response object: {@code status} in_progress, completed, incomplete ({@code incompleteReason} set) or
   * failed ({@code error} set); {@code usage} null while in progress.
   */
  static ObjectNode response(String id, long createdAt, String status, String model, Parsed p, ArrayNode output,
      Usage usage, Cost cost, ObjectNode error, String incompleteReason) {
    ObjectNode r = Json.object().put("id", id).put("object", "response").put("created_at", createdAt)
        .put("status", incompleteReason != null && "completed".equals(status) ? "incomplete" : status);
    if (error == null) {
      r.putNull("error");
    } else {
      r.set("error", error);
    }
    if (incompleteReason != null) {
      r.set("incomplete_details", Json.object().put("reason", incompleteReason));
    } else {
      r.putNull("incomplete_details");
    }
    r.put("model", model);
    r.set("output", output);
    r.setAll(p.echo());
    if (usage != null) {
      ObjectNode u = r.putObject("usage");
      u.put("input_tokens", usage.inputTokens());
      u.putObject("input_tokens_details").put("cached_tokens", usage.cachedInputTokens());
      u.put("output_tokens", usage.outputTokens());
      u.putObject("output_tokens_details").put("reasoning_tokens", usage.reasoningTokens());
      u.put("total_tokens", usage.totalTokens());
      if (cost != null) {
        u.put("cost", cost.total());
      }
    } else {
      r.putNull("usage");
    }
    return r;
  }

  /** The conversation a stored response ends: its history, its input and its output, as items. */
  static ArrayNode conversation(ArrayNode history, Parsed p, ArrayNode output) {
    ArrayNode all = Json.MAPPER.createArrayNode();
    all.addAll(history);
    all.addAll(p.input());
    all.addAll(output);
    return all;
  }
}
