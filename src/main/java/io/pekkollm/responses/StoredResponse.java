package io.pekkollm.responses;

import io.pekkollm.util.JsonSerializable;

/**
 * One stored response of the Responses API: its id, the response object as answered (JSON), the whole
 * conversation it ends (the items of every earlier response in its chain, its own input items and its output
 * items, as a JSON array of Responses items: what {@code previous_response_id} continues), and when it was
 * created (epoch milliseconds), and its {@code owner}: the virtual key id that created it (null: none, and in
 * responses stored before owners existed; the gateway shows those to its shared and master keys only). Immutable; persisted as JSON (a schema: evolve with migrations, never rename).
 */
public record StoredResponse(String id, String responseJson, String conversationJson, long createdAtMillis,
    String owner)
    implements JsonSerializable {}
