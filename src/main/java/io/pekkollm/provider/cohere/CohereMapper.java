package io.pekkollm.provider.cohere;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.provider.EmbeddingJson;
import io.pekkollm.model.EmbeddingRequest;
import io.pekkollm.model.EmbeddingResponse;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.Message;
import io.pekkollm.model.ModelInfo;
import io.pekkollm.model.ResponseFormat;
import io.pekkollm.model.ToolCall;
import io.pekkollm.model.ToolCallDelta;
import io.pekkollm.model.ToolChoice;
import io.pekkollm.model.ToolDefinition;
import io.pekkollm.model.Usage;
import io.pekkollm.util.Json;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Translates between this library's model and Cohere's v2 chat wire format ({@code POST /v2/chat}): the
 * request, the kebab-case stream events ({@code message-start}, {@code content-delta},
 * {@code tool-call-start|delta|end}, {@code message-end}, ...) and the complete response. Cohere's
 * {@code tool_plan} (the model's stated plan before it calls tools) and {@code thinking} content are reported
 * as reasoning. Stateless apart from {@link StreamReader}.
 */
final class CohereMapper {
  /**
   * Top-level request fields a caller may pass through {@link ChatRequest#extraBody()}; Cohere rejects
   * unknown fields, so other (OpenAI-only) extras are dropped.
   */
  private static final Set<String> PASS_THROUGH = Set.of("k", "documents", "citation_options", "safety_mode",
      "thinking", "strict_tools", "logprobs", "priority");

  private CohereMapper() {}

  // ---------------------------------------------------------------- request

  /**
   * The v2 {@code /embed} body: {@code texts}, {@code input_type} (required by v3+ models; default
   * {@code search_document}), float vectors, {@code output_dimension} when set.
   */
  static ObjectNode embeddingBody(EmbeddingRequest request) {
    EmbeddingJson.requireTexts("cohere", request);
    ObjectNode o = Json.object();
    o.put("model", request.model());
    ArrayNode texts = o.putArray("texts");
    request.texts().forEach(texts::add);
    o.put("input_type", request.inputType() == null ? "search_document" : request.inputType());
    o.putArray("embedding_types").add("float");
    if (request.dimensions() != null) {
      o.put("output_dimension", request.dimensions());
    }
    return o;
  }

  /**
   * A v2 embed answer: {@code embeddings.float} (or, from v1-style answers, {@code embeddings} itself) in input
   * order, {@code meta.billed_units.input_tokens} the input tokens.
   */
  static EmbeddingResponse readEmbeddings(String provider, EmbeddingRequest request, JsonNode root, String body) {
    JsonNode e = root.path("embeddings");
    JsonNode floats = e.isObject() ? e.path("float") : e;
    JsonNode billed = root.path("meta").path("billed_units").path("input_tokens");
    return EmbeddingJson.response(provider, request, null, EmbeddingJson.vectors(provider, floats, body),
        billed.isNumber() ? billed.asInt() : -1, body);
  }

  static ObjectNode toRequest(ChatRequest request, boolean stream) {
    ObjectNode o = Json.object();
    request.extraBody().forEach((k, v) -> {
      if (PASS_THROUGH.contains(k)) {
        o.set(k, v);
      }
    });
    o.put("model", request.model());
    ArrayNode msgs = o.putArray("messages");
    for (Message m : request.messages()) {
      msgs.add(message(m));
    }
    ToolChoice choice = request.toolChoice();
    List<ToolDefinition> tools = request.tools();
    if (choice != null && choice.mode() == ToolChoice.Mode.FUNCTION) {
      // Cohere can require a tool call but not name one: offer only the named tool and require it.
      tools = tools.stream().filter(t -> t.name().equals(choice.functionName())).toList();
    }
    if (!tools.isEmpty()) {
      ArrayNode ts = o.putArray("tools");
      for (ToolDefinition t : tools) {
        ObjectNode fn = ts.addObject().put("type", "function").putObject("function");
        fn.put("name", t.name());
        if (t.description() != null) {
          fn.put("description", t.description());
        }
        if (t.parameters() != null) {
          fn.set("parameters", t.parameters());
        }
      }
    }
    if (choice != null && !request.tools().isEmpty()) {
      switch (choice.mode()) {
        case REQUIRED, FUNCTION -> o.put("tool_choice", "REQUIRED");
        case NONE -> o.put("tool_choice", "NONE");
        default -> { } // auto is Cohere's default and has no value of its own
      }
    }
    ResponseFormat rf = request.responseFormat();
    if (rf != null && rf.type() != ResponseFormat.Type.TEXT) {
      ObjectNode f = o.putObject("response_format").put("type", "json_object");
      if (rf.type() == ResponseFormat.Type.JSON_SCHEMA) {
        f.set("json_schema", rf.schema());
      }
    }
    if (request.temperature() != null) {
      o.put("temperature", request.temperature());
    }
    if (request.topP() != null) {
      o.put("p", request.topP());
    }
    if (request.maxTokens() != null) {
      o.put("max_tokens", request.maxTokens());
    }
    if (!request.stop().isEmpty()) {
      ArrayNode stop = o.putArray("stop_sequences");
      request.stop().forEach(stop::add);
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
    o.put("stream", stream);
    return o;
  }

  private static ObjectNode message(Message m) {
    ObjectNode o = Json.object().put("role", m.role());
    if (m instanceof Message.System s) {
      o.put("content", s.content());
    } else if (m instanceof Message.User u) {
      // Cohere v2 takes OpenAI's content shape: text and image_url parts.
      io.pekkollm.wire.openai.OpenAiMessages.writeUserContent(u, o);
    } else if (m instanceof Message.Assistant a) {
      if (!a.text().isEmpty()) {
        o.put("content", a.text());
      }
      if (!a.toolCalls().isEmpty()) {
        ArrayNode calls = o.putArray("tool_calls");
        for (ToolCall tc : a.toolCalls()) {
          ObjectNode c = calls.addObject();
          if (tc.id() != null) {
            c.put("id", tc.id());
          }
          c.put("type", "function");
          c.putObject("function").put("name", tc.name())
              .put("arguments", tc.arguments().isBlank() ? "{}" : tc.arguments());
        }
      }
    } else if (m instanceof Message.Tool t) {
      o.put("tool_call_id", t.toolCallId()).put("content", t.content());
    }
    return o;
  }

  // ---------------------------------------------------------------- responses

  /** Cohere's finish reasons mapped to the common set; unknown ones are kept as sent (lower-cased). */
  static FinishReason finishReason(String reason) {
    if (reason == null) {
      return null;
    }
    return switch (reason.toUpperCase(Locale.ROOT)) {
      case "COMPLETE", "STOP_SEQUENCE" -> FinishReason.STOP;
      case "MAX_TOKENS", "ERROR_LIMIT" -> FinishReason.LENGTH;
      case "TOOL_CALL" -> FinishReason.TOOL_CALLS;
      case "ERROR_TOXIC" -> FinishReason.CONTENT_FILTER;
      case "ERROR" -> FinishReason.ERROR;
      default -> FinishReason.of(reason);
    };
  }

  /**
   * Usage from {@code usage.tokens} (what the model processed, so {@code cached_tokens} is part of it), or
   * {@code usage.billed_units} when tokens are absent. Older responses put usage under {@code meta}.
   */
  static Usage usage(JsonNode node) {
    JsonNode u = node.get("usage");
    if (u == null || !u.isObject()) {
      u = node.path("meta").isObject() ? node.get("meta") : null;
    }
    if (u == null) {
      return null;
    }
    JsonNode counts = u.path("tokens").isObject() ? u.get("tokens") : u.get("billed_units");
    if (counts == null || !counts.isObject()) {
      return null;
    }
    return new Usage(Json.intValue(counts, "input_tokens"), Json.intValue(counts, "output_tokens"),
        Json.intValue(u, "cached_tokens"), 0, 0);
  }

  /** A complete (non-streamed) response as one chunk. */
  static ChatChunk readResponse(JsonNode root) {
    JsonNode msg = root.path("message");
    StringBuilder text = new StringBuilder();
    StringBuilder reasoning = new StringBuilder();
    String plan = Json.text(msg, "tool_plan");
    if (plan != null) {
      reasoning.append(plan);
    }
    for (JsonNode part : msg.path("content")) {
      String type = Json.text(part, "type");
      if ("thinking".equals(type)) {
        String t = Json.text(part, "thinking");
        reasoning.append(t == null ? "" : t);
      } else if (part.has("text")) {
        text.append(Json.text(part, "text"));
      }
    }
    List<ToolCallDelta> calls = new ArrayList<>();
    int i = 0;
    for (JsonNode tc : msg.path("tool_calls")) {
      JsonNode fn = tc.path("function");
      calls.add(new ToolCallDelta(i++, Json.text(tc, "id"), Json.text(fn, "name"), Json.text(fn, "arguments")));
    }
    return new ChatChunk(Json.text(root, "id"), null, text.isEmpty() ? null : text.toString(),
        reasoning.isEmpty() ? null : reasoning.toString(), calls, finishReason(Json.text(root, "finish_reason")),
        usage(root));
  }

  /**
   * Reads the events of one stream. Cohere numbers tool calls itself ({@code index}); they are renumbered
   * densely here so callers always see 0, 1, 2... Not thread-safe: one per stream.
   */
  static final class StreamReader {
    private final Map<Integer, Integer> toolIndex = new HashMap<>();
    private String id;
    private boolean ended;

    /** The chunk for one event, or null for events that carry nothing (starts, ends, citations). */
    ChatChunk read(String type, JsonNode event) {
      JsonNode delta = event.path("delta");
      JsonNode msg = delta.path("message");
      switch (type) {
        case "message-start" -> {
          id = Json.text(event, "id");
          return null;
        }
        case "content-delta" -> {
          JsonNode content = msg.path("content");
          String thinking = Json.text(content, "thinking");
          return chunk(Json.text(content, "text"), thinking, List.of(), null, null);
        }
        case "tool-plan-delta" -> {
          return chunk(null, Json.text(msg, "tool_plan"), List.of(), null, null);
        }
        case "tool-call-start" -> {
          JsonNode tc = msg.path("tool_calls");
          int index = toolIndex.computeIfAbsent(event.path("index").asInt(toolIndex.size()), k -> toolIndex.size());
          JsonNode fn = tc.path("function");
          return chunk(null, null, List.of(new ToolCallDelta(index, Json.text(tc, "id"), Json.text(fn, "name"),
              Json.text(fn, "arguments"))), null, null);
        }
        case "tool-call-delta" -> {
          Integer index = toolIndex.get(event.path("index").asInt(toolIndex.size() - 1));
          String args = Json.text(msg.path("tool_calls").path("function"), "arguments");
          return index == null ? null : chunk(null, null, List.of(new ToolCallDelta(index, null, null, args)),
              null, null);
        }
        case "message-end" -> {
          ended = true;
          return chunk(null, null, List.of(), finishReason(Json.text(delta, "finish_reason")), usage(delta));
        }
        default -> {
          // content-start/end, tool-call-end, citation-start/end, debug: nothing a caller needs.
          return null;
        }
      }
    }

    boolean isEnded() {
      return ended;
    }

    private ChatChunk chunk(String text, String reasoning, List<ToolCallDelta> calls, FinishReason finish,
        Usage usage) {
      return new ChatChunk(id, null, text, reasoning, calls, finish, usage);
    }
  }

  // ---------------------------------------------------------------- models

  /** {@code GET /v1/models}: {@code {"models": [{"name", "endpoints", ...}], "next_page_token"}}. */
  static List<ModelInfo> readModels(String provider, JsonNode root) {
    List<ModelInfo> out = new ArrayList<>();
    for (JsonNode m : root.path("models")) {
      String name = Json.text(m, "name");
      if (name != null) {
        out.add(new ModelInfo(provider + "/" + name, provider, 0, "cohere"));
      }
    }
    return out;
  }
}
