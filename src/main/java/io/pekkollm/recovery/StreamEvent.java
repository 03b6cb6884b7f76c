package io.pekkollm.recovery;

import io.pekkollm.util.JsonSerializable;
import java.util.List;

/**
 * The persisted events of one stream (persistence id {@code stream|<recoveryId>}). These records are the
 * journal's schema: add fields as nullable, evolve with Jackson migrations, never rename.
 *
 * <p>{@code writer} and {@code write}, on the events a journal write persists, name the run of the stream that
 * wrote them (a random id per run: the first one, then one per resume) and that write's number in the run (1, 2,
 * 3, ...): a write sent again after its answer was lost (a shard moving between cluster nodes) is recognised and
 * acknowledged, not persisted twice, and a late write of an earlier run is refused. Null on events journalled
 * before these fields existed (such streams are written without that check).
 */
sealed interface StreamEvent extends JsonSerializable {

  /**
   * A stream began. {@code request} is the original request in OpenAI JSON with its provider/model id.
   * {@code origin} is what the stream's caller asked the journal to keep with it (the gateway: the API the stream
   * was started through, so a resume answers in it); null for none, and in every event written before it existed.
   * {@code owner} is the virtual key id that started it (null: none, and in events written before owners existed).
   */
  record Started(String recoveryId, String provider, String model, String request, String incarnation,
      long atMillis, String origin, String writer, Long write, String owner) implements StreamEvent {}

  /** Chunks that were persisted before any caller saw them. Each carries its sequence number. */
  record ChunksAppended(List<StoredChunk> chunks, long atMillis, String writer, Long write) implements StreamEvent {}

  /** The stream stopped early: by an error, a cancellation, or a gateway shutdown. */
  record Interrupted(String cause, String errorKind, boolean recoverable, boolean cancelled, long atMillis,
      String writer, Long write) implements StreamEvent {}

  /** The provider finished the answer. */
  record Completed(String finishReason, StoredUsage usage, long atMillis, String writer, Long write)
      implements StreamEvent {}

  /**
   * A new attempt started: the answer keeps its first {@code keepCodePoints} code points and continues with
   * {@code model}, using {@code strategy}; {@code writer} is the run that writes it from now on.
   * {@code lastEventId}, {@code clientCodePoints} (what the client had), {@code fromModel} and
   * {@code outputTokensSoFar} are what the resume's plan was made of, so that the plan can be given again to the
   * same resume sent twice (null on events from before).
   */
  record Resumed(int attempt, String strategy, String model, int keepCodePoints, String incarnation, long atMillis,
      String writer, Long lastEventId, Integer clientCodePoints, String fromModel, Integer outputTokensSoFar)
      implements StreamEvent {}

  /** One chunk as stored. {@code seq} is 0 for chunks that carry only usage (they are not SSE events). */
  record StoredChunk(long seq, String text, String reasoning, List<StoredToolDelta> tools, String finishReason,
      StoredUsage usage) {}

  record StoredToolDelta(int index, String id, String name, String arguments) {}

  record StoredUsage(int input, int output, int cachedInput, int cacheWrite, int reasoning) {}
}
