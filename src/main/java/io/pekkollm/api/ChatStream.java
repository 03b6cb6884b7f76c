package io.pekkollm.api;

import io.pekkollm.model.TruncationReport;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.stream.UniqueKillSwitch;

/**
 * The handle of one running stream (the materialized value of {@link LlmClient#stream}). {@link #cancel()}
 * stops it and closes the upstream connection; {@link #done()} completes when the stream ends, exceptionally
 * when it failed; {@link #truncation()} says what was dropped to fit the context window. Thread-safe.
 */
public final class ChatStream {
  private final UniqueKillSwitch killSwitch;
  private final CompletionStage<Done> done;
  private final TruncationReport truncation;

  ChatStream(UniqueKillSwitch killSwitch, CompletionStage<Done> done, TruncationReport truncation) {
    this.killSwitch = killSwitch;
    this.done = done;
    this.truncation = truncation;
  }

  /** Stops the stream: the caller's side completes, the upstream request is cancelled. Idempotent. */
  public void cancel() {
    killSwitch.shutdown();
  }

  public CompletionStage<Done> done() {
    return done;
  }

  /** What truncation dropped from the request; empty when it was sent whole. */
  public Optional<TruncationReport> truncation() {
    return Optional.ofNullable(truncation);
  }
}
