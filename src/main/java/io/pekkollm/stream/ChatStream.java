package io.pekkollm.stream;

import io.pekkollm.model.CacheStatus;
import io.pekkollm.model.TruncationReport;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.stream.UniqueKillSwitch;

/**
 * The handle of one running stream (the materialized value of {@link io.pekkollm.api.LlmClient#stream}). {@link #cancel()}
 * stops it and closes the upstream connection; {@link #done()} completes when the stream ends, exceptionally
 * when it failed; {@link #truncation()} says what was dropped to fit the context window;
 * {@link #servedModel()} which model answered (for a model group, known once the first chunk arrived).
 * Thread-safe.
 */
public final class ChatStream {
  private final UniqueKillSwitch killSwitch;
  private final CompletionStage<Done> done;
  private final String recoveryId;
  private final java.util.concurrent.atomic.AtomicLong lastEventId;
  private final CallInfo info;
  private final java.util.concurrent.atomic.AtomicReference<CacheStatus> cacheStatus;

  /** Made by the client when it runs a stream: the stream's kill switch, termination and what it learns. */
  public ChatStream(UniqueKillSwitch killSwitch, CompletionStage<Done> done, String recoveryId,
      java.util.concurrent.atomic.AtomicLong lastEventId, CallInfo info,
      java.util.concurrent.atomic.AtomicReference<CacheStatus> cacheStatus) {
    this.killSwitch = killSwitch;
    this.done = done;
    this.recoveryId = recoveryId;
    this.lastEventId = lastEventId;
    this.info = info;
    this.cacheStatus = cacheStatus;
  }

  /**
   * The id under which this stream is journalled, to resume it with {@link io.pekkollm.api.LlmClient#resume}; null when
   * recovery is disabled. Known before the first chunk.
   */
  public String recoveryId() {
    return recoveryId;
  }

  /** The sequence number of the last chunk delivered to the caller (0 before the first). */
  public long lastEventId() {
    return lastEventId.get();
  }

  /** Stops the stream: the caller's side completes, the upstream request is cancelled. Idempotent. */
  public void cancel() {
    killSwitch.shutdown();
  }

  public CompletionStage<Done> done() {
    return done;
  }

  /**
   * What truncation dropped from the request; empty when it was sent whole. For a model group, final once the
   * first chunk arrived.
   */
  public Optional<TruncationReport> truncation() {
    return Optional.ofNullable(info == null ? null : info.truncation());
  }

  /**
   * The {@code provider/model} that answered: the model asked for, or for a model group the member that served
   * (after retries and fallbacks). Empty until the first chunk arrived, and for a stream that failed before.
   */
  public Optional<String> servedModel() {
    return Optional.ofNullable(info == null ? null : info.servedModel());
  }

  /**
   * How the response cache serves this stream (a HIT replays a stored answer, COALESCED shares an identical
   * call in flight); empty when the request does not use the cache, or before the answer has started.
   */
  public Optional<CacheStatus> cacheStatus() {
    return Optional.ofNullable(cacheStatus.get());
  }
}
