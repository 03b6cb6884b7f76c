package io.pekkollm.recovery;

import io.pekkollm.util.JsonSerializable;
import java.util.List;

/**
 * The persisted events of one stream (persistence id {@code stream|<recoveryId>}). These records are the
 * journal's schema: add fields as nullable, evolve with Jackson migrations, never rename.
 */
sealed interface StreamEvent extends JsonSerializable {

  /**
   * A stream began. {@code request} is the original request in OpenAI JSON with its provider/model id.
   * {@code origin} is what the stream's caller asked the journal to keep with it (the gateway: the API the stream
   * was started through, so a resume answers in it); null for none, and in every event written before it existed.
   * {@code owner} is the virtual key id that started it (null: none, and in events written before owners existed).
   */
  record Started(String recoveryId, String provider, String model, String request, String incarnation,
      long atMillis, String origin, String owner) implements StreamEvent {}

  /** Chunks that were persisted before any caller saw them. Each carries its sequence number. */
  record ChunksAppended(List<StoredChunk> chunks, long atMillis) implements StreamEvent {}

  /** The stream stopped early: by an error, a cancellation, or a gateway shutdown. */
  record Interrupted(String cause, String errorKind, boolean recoverable, boolean cancelled, long atMillis)
      implements StreamEvent {}

  /** The provider finished the answer. */
  record Completed(String finishReason, StoredUsage usage, long atMillis) implements StreamEvent {}

  /**
   * A new attempt started: the answer keeps its first {@code keepCodePoints} code points and continues with
   * {@code model}, using {@code strategy}.
   */
  record Resumed(int attempt, String strategy, String model, int keepCodePoints, String incarnation, long atMillis)
      implements StreamEvent {}

  /** One chunk as stored. {@code seq} is 0 for chunks that carry only usage (they are not SSE events). */
  record StoredChunk(long seq, String text, String reasoning, List<StoredToolDelta> tools, String finishReason,
      StoredUsage usage) {}

  record StoredToolDelta(int index, String id, String name, String arguments) {}

  record StoredUsage(int input, int output, int cachedInput, int cacheWrite, int reasoning) {}
}
