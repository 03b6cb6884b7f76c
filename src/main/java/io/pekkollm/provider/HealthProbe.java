package io.pekkollm.provider;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The active health check of one provider: listing its models, at most one check at a time, each bounded by
 * {@code health-check.timeout}, and the latest result for {@link ProviderStatus#healthCheck()}. A check moves no
 * breaker. Not thread-safe: its actor's only (the returned stage completes elsewhere; hand its result back with
 * {@link #finished}).
 */
final class HealthProbe {
  /** A check's outcome: how long it took, and its error (null when it succeeded). */
  record Result(long nanos, Throwable error) {}

  private final Duration timeout;
  private final LongSupplier clock;
  private final LongSupplier wallClockMillis;
  private final java.util.function.UnaryOperator<String> redact;
  private boolean running;
  private ProviderStatus.HealthCheck last;

  /** Checks bounded by {@code timeout}, timed by {@code nanoClock}, dated by {@code wallClockMillis} (epoch ms). */
  HealthProbe(Duration timeout, LongSupplier nanoClock, LongSupplier wallClockMillis) {
    this(timeout, nanoClock, wallClockMillis, java.util.function.UnaryOperator.identity());
  }

  /** As above, keeping a failed check's text only as {@code redact} leaves it. */
  HealthProbe(Duration timeout, LongSupplier nanoClock, LongSupplier wallClockMillis,
      java.util.function.UnaryOperator<String> redact) {
    this.timeout = timeout;
    this.clock = nanoClock;
    this.wallClockMillis = wallClockMillis;
    this.redact = redact;
  }

  /**
   * Starts a check of {@code provider} unless one is running (then null). The stage always completes normally,
   * with the {@link Result}, which the caller passes to {@link #finished} on its own thread.
   */
  CompletionStage<Result> start(ChatProvider provider) {
    if (running) {
      return null;
    }
    running = true;
    long start = clock.getAsLong();
    return provider.listModels().toCompletableFuture()
        .orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
        .handle((models, error) -> new Result(clock.getAsLong() - start, error));
  }

  /** Records a check's outcome; returns true when it differs (ok or not) from the previous one, worth a log line. */
  boolean finished(Result result) {
    running = false;
    boolean ok = result.error() == null;
    boolean changed = last == null || last.ok() != ok;
    last = new ProviderStatus.HealthCheck(wallClockMillis.getAsLong(), ok, result.nanos() / 1e6,
        ok ? null : redact.apply(String.valueOf(result.error().getMessage())));
    return changed;
  }

  /** The latest check; null before the first ended. */
  ProviderStatus.HealthCheck last() {
    return last;
  }
}
