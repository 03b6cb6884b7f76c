package io.pekkollm.api;

import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.stream.UniqueKillSwitch;

/**
 * The handle of one running stream (the materialized value of {@link LlmClient#stream}). {@link #cancel()}
 * stops it and closes the upstream connection; {@link #done()} completes when the stream ends, exceptionally
 * when it failed. Thread-safe.
 */
public final class ChatStream {
  private final UniqueKillSwitch killSwitch;
  private final CompletionStage<Done> done;

  ChatStream(UniqueKillSwitch killSwitch, CompletionStage<Done> done) {
    this.killSwitch = killSwitch;
    this.done = done;
  }

  /** Stops the stream: the caller's side completes, the upstream request is cancelled. Idempotent. */
  public void cancel() {
    killSwitch.shutdown();
  }

  public CompletionStage<Done> done() {
    return done;
  }
}
