package io.pekkollm.provider;

import java.util.function.LongSupplier;

/**
 * How one provider's calls went, for {@link ProviderStatus} and, live, {@link ProviderLoad}: counters, the last
 * error, exponentially weighted means of call duration and time to first chunk (which routing reads through
 * {@link ProviderLoad}), their percentiles over the latest {@value #LATENCY_WINDOW} calls, and the error rate
 * over the latest {@value #ERROR_WINDOW}. Not thread-safe: its actor's only.
 */
final class ProviderStats {
  static final int ERROR_WINDOW = 100;
  static final int LATENCY_WINDOW = 256;
  /** Weight of each new measurement in the means. */
  private static final double EWMA_WEIGHT = 0.1;

  private final ProviderLoad load;
  private final LongSupplier wallClockMillis;
  private final java.util.function.UnaryOperator<String> redact;
  private final Samples latency = new Samples(LATENCY_WINDOW);
  private final Samples ttft = new Samples(LATENCY_WINDOW);
  private final OutcomeWindow errors = new OutcomeWindow(ERROR_WINDOW);
  private long requests;
  private long failures;
  private String lastError;
  private long lastErrorAtMillis;
  private double avgLatencyMillis;
  private double avgTtftMillis;

  /** Stats publishing their means to {@code load}; error times read from {@code wallClockMillis} (epoch ms). */
  ProviderStats(ProviderLoad load, LongSupplier wallClockMillis) {
    this(load, wallClockMillis, java.util.function.UnaryOperator.identity());
  }

  /** As above, keeping error text only as {@code redact} leaves it (without the provider's credentials). */
  ProviderStats(ProviderLoad load, LongSupplier wallClockMillis, java.util.function.UnaryOperator<String> redact) {
    this.load = load;
    this.wallClockMillis = wallClockMillis;
    this.redact = redact;
  }

  /** A call was admitted. */
  void admitted() {
    requests++;
  }

  /**
   * An admitted call ended as {@code release} says. One that failed and was not cancelled counts as a failure;
   * one not cancelled enters the error-rate window, as failed when {@code providerFault} (its error counts
   * against the provider).
   */
  void ended(ProviderActor.Release release, boolean providerFault) {
    double ms = release.durationNanos() / 1_000_000.0;
    avgLatencyMillis = ewma(avgLatencyMillis, ms);
    latency.add(ms);
    load.latencyEwmaMillis(avgLatencyMillis);
    if (release.firstChunkNanos() >= 0) {
      double first = release.firstChunkNanos() / 1_000_000.0;
      avgTtftMillis = ewma(avgTtftMillis, first);
      ttft.add(first);
      load.ttftEwmaMillis(avgTtftMillis);
    }
    if (release.cancelled()) {
      return;
    }
    if (release.error() != null) {
      failures++;
      lastError(release.errorMessage());
    }
    errors.add(providerFault);
  }

  /** The one place the last error's text is kept (and what {@link ProviderStatus#lastError()} shows). */
  private void lastError(String message) {
    lastError = message == null ? null : redact.apply(message);
    lastErrorAtMillis = wallClockMillis.getAsLong();
  }

  /** The mean so far moved towards {@code sample}; the first sample is the mean. */
  private static double ewma(double mean, double sample) {
    return mean == 0 ? sample : mean * (1 - EWMA_WEIGHT) + sample * EWMA_WEIGHT;
  }

  long requests() {
    return requests;
  }

  long failures() {
    return failures;
  }

  String lastError() {
    return lastError;
  }

  long lastErrorAtMillis() {
    return lastErrorAtMillis;
  }

  double avgLatencyMillis() {
    return avgLatencyMillis;
  }

  double avgTtftMillis() {
    return avgTtftMillis;
  }

  /** Calls in the error-rate window. */
  int recentCalls() {
    return errors.count();
  }

  /** Share of the calls in the window that failed by the provider's fault. */
  double recentErrorRate() {
    return errors.failureRate();
  }

  ProviderStatus.Percentiles latencyMillis() {
    return latency.percentiles();
  }

  ProviderStatus.Percentiles timeToFirstChunkMillis() {
    return ttft.percentiles();
  }
}
