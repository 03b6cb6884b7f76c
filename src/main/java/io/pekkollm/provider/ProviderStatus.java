package io.pekkollm.provider;

import java.util.List;

/**
 * A snapshot of one provider's state, as its actor sees it.
 *
 * @param inFlight          calls admitted and not finished
 * @param requests          calls admitted since start (or the last restart)
 * @param failures          of those, calls that ended in an error (cancellations excluded)
 * @param lastError         message of the most recent error, or null
 * @param lastErrorAtMillis epoch millis of it, or 0
 * @param avgLatencyMillis  exponentially weighted mean duration of finished calls
 * @param breaker           the provider-wide circuit breaker: {@code closed}, {@code half-open}, {@code open}
 *                          ({@code disabled} when off; with per-model breakers this one stays closed)
 * @param breakerRetryAfterMillis while open: time until it lets a probe through
 * @param openModelBreakers with per-model breakers: the models whose breaker is open or half-open
 * @param queued            calls waiting for admission
 * @param queueSize         how many may wait
 * @param recentCalls       calls in the error-rate window (the latest 100 that ended)
 * @param recentErrorRate   share of those that failed by the provider's fault (what counts against its breaker)
 * @param latencyMillis     whole-call duration percentiles of the latest 256 calls; null before the first
 * @param timeToFirstChunkMillis time-to-first-chunk percentiles of the latest 256 calls; null before the first
 * @param healthCheck       the latest active health check; null when none ran
 */
public record ProviderStatus(String name, String kind, boolean enabled, int inFlight, int maxInFlight, long requests,
    long failures, String lastError, long lastErrorAtMillis, double avgLatencyMillis, String breaker,
    long breakerRetryAfterMillis, List<String> openModelBreakers, int queued, int queueSize, int recentCalls,
    double recentErrorRate, Percentiles latencyMillis, Percentiles timeToFirstChunkMillis, HealthCheck healthCheck) {

  public ProviderStatus {
    openModelBreakers = List.copyOf(openModelBreakers);
  }

  /** Nearest-rank percentiles of the latest {@code samples} measurements. */
  public record Percentiles(double p50, double p95, double p99, int samples) {}

  /**
   * One active health check (the provider's model list): when it ran (epoch millis), whether it succeeded, how
   * long it took, and its error.
   */
  public record HealthCheck(long atMillis, boolean ok, double latencyMillis, String error) {}
}
