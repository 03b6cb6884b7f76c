package io.pekkollm.provider;

/**
 * A snapshot of one provider's state, as its actor sees it.
 *
 * @param inFlight       calls admitted and not finished
 * @param requests       calls admitted since start (or the last restart)
 * @param failures       of those, calls that ended in an error (cancellations excluded)
 * @param lastError      message of the most recent error, or null
 * @param lastErrorAtMillis epoch millis of it, or 0
 * @param avgLatencyMillis exponentially weighted mean duration of finished calls
 */
public record ProviderStatus(String name, String kind, boolean enabled, int inFlight, int maxInFlight, long requests,
    long failures, String lastError, long lastErrorAtMillis, double avgLatencyMillis) {}
