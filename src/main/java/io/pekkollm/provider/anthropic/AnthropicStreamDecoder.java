package io.pekkollm.provider.anthropic;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ToolCallDelta;
import io.pekkollm.provider.ErrorClassifier;
import io.pekkollm.provider.StreamDecoder;
import io.pekkollm.util.Json;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Decodes the Messages API's typed SSE events: {@code message_start} (id, model, first usage),
 * {@code content_block_start/delta/stop} (text, thinking, tool use with {@code input_json_delta} fragments),
 * {@code message_delta} (stop reason, cumulative usage), {@code message_stop} (the end), {@code ping} (anywhere,
 * ignored) and {@code error} (fails the stream). Unknown event and block types are ignored, as Anthropic's
 * versioning policy asks of clients.
 *
 * <p>One per response; not thread-safe.
 */
final class AnthropicStreamDecoder implements StreamDecoder {
  private final String provider;
  private String id;
  private String model;
  private AnthropicMapper.Counts counts;
  private boolean complete;
  /** Content block index → the tool call's position among this turn's calls (what callers index by). */
  private final Map<Integer, Integer> toolByBlock = new HashMap<>();
  private final Set<Integer> toolsWithArguments = new HashSet<>();

  AnthropicStreamDecoder(String provider) {
    this.provider = provider;
  }

  @Override
  public List<ChatChunk> onFrame(String eventType, String data) {
    JsonNode event;
    try {
      event = Json.parse(data);
    } catch (java.io.IOException e) {
      throw ErrorClassifier.malformed(provider, "stream event is not JSON: " + e.getMessage(), data, e);
    }
    // The payload's own "type" names the event; the SSE event line repeats it (and is absent in some proxies).
    String type = Json.text(event, "type");
    if (type == null) {
      type = eventType;
    }
    if (type == null) {
      return List.of();
    }
    return switch (type) {
      case "message_start" -> {
        JsonNode message = event.path("message");
        id = Json.text(message, "id");
        model = Json.text(message, "model");
        counts = AnthropicMapper.counts(message.get("usage"), counts);
        yield List.of();
      }
      case "content_block_start" -> blockStart(event.path("index").asInt(), event.path("content_block"));
      case "content_block_delta" -> blockDelta(event.path("index").asInt(), event.path("delta"));
      case "content_block_stop" -> blockStop(event.path("index").asInt());
      case "message_delta" -> {
        counts = AnthropicMapper.counts(event.get("usage"), counts);
        var finish = AnthropicMapper.finishReason(Json.text(event.path("delta"), "stop_reason"));
        yield List.of(new ChatChunk(id, model, null, null, List.of(), finish,
            counts == null ? null : counts.toUsage()));
      }
      case "message_stop" -> {
        complete = true;
        yield List.of();
      }
      case "error" -> throw ErrorClassifier.midStream(provider, ErrorClassifier.parseCommonBody(data), data);
      default -> List.of();
    };
  }

  private List<ChatChunk> blockStart(int index, JsonNode block) {
    String type = Json.text(block, "type");
    if ("tool_use".equals(type)) {
      int ordinal = toolByBlock.size();
      toolByBlock.put(index, ordinal);
      return chunk(null, null, new ToolCallDelta(ordinal, Json.text(block, "id"), Json.text(block, "name"), ""));
    }
    if ("text".equals(type)) {
      return chunk(Json.text(block, "text"), null, null);
    }
    if ("thinking".equals(type)) {
      return chunk(null, Json.text(block, "thinking"), null);
    }
    return List.of();
  }

  private List<ChatChunk> blockDelta(int index, JsonNode delta) {
    String type = Json.text(delta, "type");
    if (type == null) {
      return List.of();
    }
    switch (type) {
      case "text_delta":
        return chunk(Json.text(delta, "text"), null, null);
      case "thinking_delta":
        return chunk(null, Json.text(delta, "thinking"), null);
      case "input_json_delta": {
        String fragment = Json.text(delta, "partial_json");
        Integer ordinal = toolByBlock.get(index);
        if (fragment == null || fragment.isEmpty() || ordinal == null) {
          return List.of();
        }
        toolsWithArguments.add(ordinal);
        return chunk(null, null, new ToolCallDelta(ordinal, null, null, fragment));
      }
      default:
        // signature_delta and citations_delta carry nothing the common model can hold.
        return List.of();
    }
  }

  /** A tool that takes no input may stream no fragment at all; callers expect "{}" then, as OpenAI sends. */
  private List<ChatChunk> blockStop(int index) {
    Integer ordinal = toolByBlock.get(index);
    if (ordinal == null || toolsWithArguments.contains(ordinal)) {
      return List.of();
    }
    toolsWithArguments.add(ordinal);
    return chunk(null, null, new ToolCallDelta(ordinal, null, null, "{}"));
  }

  private List<ChatChunk> chunk(String text, String reasoning, ToolCallDelta call) {
    if (call == null && (text == null || text.isEmpty()) && (reasoning == null || reasoning.isEmpty())) {
      return List.of();
    }
    return List.of(new ChatChunk(id, model, text == null || text.isEmpty() ? null : text,
        reasoning == null || reasoning.isEmpty() ? null : reasoning, call == null ? List.of() : List.of(call), null,
        null));
  }

  @Override
  public boolean isComplete() {
    return complete;
  }
}
