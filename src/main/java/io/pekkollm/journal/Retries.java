package io.pekkollm.journal;

import io.pekkollm.util.Futures;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.pattern.Patterns;

/**
 * Asks to an entity that are sent again when no answer came: in a cluster an entity's shard may be moving between
 * nodes (a node leaving, a rebalance after one joined, a crashed node being downed), and a message can be held
 * for a while or lost on the way. Only commands the entity answers idempotently may be retried this way (they
 * carry an id or a sequence number, so a repeat of one that was already applied is acknowledged, not applied
 * twice). Thread-safe, stateless.
 */
public final class Retries {
  private Retries() {}

  /** The first pause before an attempt is sent again; it doubles up to {@link #MAX_BACKOFF}. */
  static final Duration MIN_BACKOFF = Duration.ofMillis(100);
  static final Duration MAX_BACKOFF = Duration.ofSeconds(2);
  /** No attempt shorter than this is started: it could not get an answer across nodes anyway. */
  static final Duration MIN_ATTEMPT = Duration.ofMillis(200);

  /**
   * Runs {@code attempt} (given how long it may wait for its answer: {@code attemptTimeout}, less near the end) and
   * runs it again after a pause (100 ms doubling to 2 s, with jitter) when it fails with a {@link TimeoutException},
   * for as long as {@code deadline} (from now) allows; any other failure, or a timeout with no time left, is the
   * result. A deadline of zero or less makes one attempt.
   */
  public static <T> CompletionStage<T> untilDeadline(ActorSystem<?> system, Duration attemptTimeout,
      Duration deadline, Function<Duration, CompletionStage<T>> attempt) {
    long end = System.nanoTime() + Math.max(0, deadline.toNanos());
    return run(system, attemptTimeout, end, MIN_BACKOFF, attempt, true);
  }

  private static <T> CompletionStage<T> run(ActorSystem<?> system, Duration attemptTimeout, long end,
      Duration backoff, Function<Duration, CompletionStage<T>> attempt, boolean first) {
    Duration left = Duration.ofNanos(end - System.nanoTime());
    Duration timeout = first || left.compareTo(attemptTimeout) >= 0 ? attemptTimeout : left;
    CompletionStage<T> tried;
    try {
      tried = attempt.apply(timeout);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    return tried.handle((value, err) -> {
      if (err == null) {
        return CompletableFuture.completedFuture(value);
      }
      Throwable cause = Futures.cause(err);
      Duration pause = jittered(backoff);
      long remaining = end - System.nanoTime() - pause.toNanos();
      if (!(timedOut(cause)) || remaining < MIN_ATTEMPT.toNanos()) {
        return CompletableFuture.<T>failedFuture(cause);
      }
      Duration next = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
      return Patterns.after(pause, system.classicSystem().scheduler(), system.executionContext(),
          () -> run(system, attemptTimeout, end, next, attempt, false));
    }).thenCompose(Function.identity());
  }

  /** Whether {@code t} (or what it wraps) is an ask that got no answer in time. */
  public static boolean timedOut(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof TimeoutException) {
        return true;
      }
    }
    return false;
  }

  private static Duration jittered(Duration d) {
    return Duration.ofNanos((long) (d.toNanos() * (0.8 + 0.4 * ThreadLocalRandom.current().nextDouble())));
  }
}
