package io.pekkollm.resilience;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * The circuit breaker of one provider, from its {@code circuit-breaker} settings block (see reference.conf).
 * It opens after {@code maxFailures} consecutive provider failures, or when at least {@code failureRateMinCalls}
 * of the last {@code failureRateWindow} calls are known and the share of failures among them reaches
 * {@code failureRateThreshold}. Open, it fails calls at once for {@code resetTimeout} (doubling after every
 * failed probe, below {@code maxResetTimeout}), then lets one probe call through (half-open): success closes it,
 * failure opens it again.
 *
 * @param enabled              off: never opens
 * @param maxFailures          consecutive failures that open it
 * @param resetTimeout         how long it stays open before the first probe
 * @param maxResetTimeout      bound of the doubled open time
 * @param failureRateThreshold share of failures (0..1) that opens it; 0 turns the rate rule off
 * @param failureRateWindow    how many of the latest calls the rate looks at
 * @param failureRateMinCalls  calls needed in the window before the rate counts
 * @param perModel             one breaker per model of the provider instead of one for the provider
 */
public record BreakerSettings(boolean enabled, int maxFailures, Duration resetTimeout, Duration maxResetTimeout,
    double failureRateThreshold, int failureRateWindow, int failureRateMinCalls, boolean perModel) {

  public BreakerSettings {
    if (maxFailures < 1) {
      throw new IllegalArgumentException("circuit-breaker.max-failures must be at least 1");
    }
    if (failureRateThreshold < 0 || failureRateThreshold > 1) {
      throw new IllegalArgumentException("circuit-breaker.failure-rate-threshold must be between 0 and 1");
    }
    if (failureRateWindow < 1 || failureRateWindow > 1000) {
      throw new IllegalArgumentException("circuit-breaker.failure-rate-window must be 1..1000 calls");
    }
  }

  /** Reads the {@code circuit-breaker} block of {@code providerConfig}. */
  public static BreakerSettings create(Config providerConfig) {
    Config c = providerConfig.getConfig("circuit-breaker");
    return new BreakerSettings(c.getBoolean("enabled"), c.getInt("max-failures"), c.getDuration("reset-timeout"),
        c.getDuration("max-reset-timeout"), c.getDouble("failure-rate-threshold"), c.getInt("failure-rate-window"),
        Math.max(1, c.getInt("failure-rate-min-calls")), c.getBoolean("per-model"));
  }
}
