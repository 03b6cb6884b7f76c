package io.pekkollm.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.util.Json;

/**
 * The API a journalled stream was started through, kept with it in the journal (the Started event's
 * {@code origin}, see {@link io.pekkollm.api.LlmClient#streamJournaled(io.pekkollm.model.ChatRequest, String)}), so
 * that its resume answers in that API's event format, also after a restart or on another node.
 *
 * <p>A persisted schema (version 1), one JSON object: {@code {"format": "messages", "id": "msg_..."}} for
 * Anthropic's Messages API, {@code {"format": "responses", "id": "resp_...", "created_at": seconds, "request":
 * {the Responses request body}}} for the Responses API (the body gives the response object's echoed fields, its
 * {@code store} and {@code previous_response_id} again). No origin (every stream journalled before this existed,
 * and every {@code /v1/chat/completions} stream) is Chat Completions; an origin this version cannot read is read as
 * Chat Completions too, never as an error. Immutable.
 */
record StreamOrigin(String format, String id, long createdAt, JsonNode request) {
  static final String CHAT_COMPLETIONS = "chat.completions";
  static final String MESSAGES = "messages";
  static final String RESPONSES = "responses";

  /** A stream started through {@code POST /v1/messages} as message {@code id}. */
  static String messages(String id) {
    return Json.write(Json.object().put("format", MESSAGES).put("id", id));
  }

  /** A stream started through {@code POST /v1/responses} as response {@code id}, from the request {@code body}. */
  static String responses(String id, long createdAt, JsonNode body) {
    ObjectNode o = Json.object().put("format", RESPONSES).put("id", id).put("created_at", createdAt);
    o.set("request", body);
    return Json.write(o);
  }

  /** The origin a stream's journal kept ({@code stored} null: Chat Completions). */
  static StreamOrigin read(String stored) {
    if (stored == null) {
      return new StreamOrigin(CHAT_COMPLETIONS, null, 0, null);
    }
    try {
      JsonNode o = Json.parse(stored);
      String format = Json.text(o, "format");
      String id = Json.text(o, "id");
      if (MESSAGES.equals(format) && id != null) {
        return new StreamOrigin(MESSAGES, id, 0, null);
      }
      if (RESPONSES.equals(format) && id != null && o.path("request").isObject()) {
        return new StreamOrigin(RESPONSES, id, o.path("created_at").asLong(), o.get("request"));
      }
    } catch (java.io.IOException | RuntimeException e) {
      // Unreadable: answered as Chat Completions, the gateway's own format (see the class comment).
    }
    return new StreamOrigin(CHAT_COMPLETIONS, null, 0, null);
  }
}
