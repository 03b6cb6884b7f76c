package io.pekkollm.resilience;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * Everything that keeps one provider's calls healthy, read from its settings block (with
 * {@code provider-defaults} folded in): retries, circuit breaker, rate limits and queue, timeouts, and the
 * optional active health check. Immutable.
 *
 * @param healthCheckInterval how often the provider's model list is fetched as an active health check
 *                            ({@link Duration#ZERO}: never)
 * @param healthCheckTimeout  how long one check may take
 */
public record ResilienceSettings(RetryPolicy retry, BreakerSettings breaker, RateLimitSettings rateLimit,
    TimeoutSettings timeouts, Duration healthCheckInterval, Duration healthCheckTimeout) {

  /** Reads the resilience keys of one provider's block. */
  public static ResilienceSettings create(Config providerConfig) {
    Config hc = providerConfig.getConfig("health-check");
    return new ResilienceSettings(RetryPolicy.create(providerConfig), BreakerSettings.create(providerConfig),
        RateLimitSettings.create(providerConfig), TimeoutSettings.create(providerConfig), hc.getDuration("interval"),
        hc.getDuration("timeout"));
  }
}
