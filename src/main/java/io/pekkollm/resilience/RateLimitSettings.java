package io.pekkollm.resilience;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * Client-side limits of one provider, from its {@code rate-limit} settings block (see reference.conf). A call
 * that may not start yet (the provider is at {@code max-in-flight}, out of requests or tokens for the minute,
 * or told us to wait) waits in the provider's queue, first come first served, for at most {@code queueTimeout};
 * when {@code queueSize} calls already wait, it is refused at once with 429 and a {@code Retry-After}.
 *
 * @param requestsPerMinute configured requests per minute (token bucket, refilled continuously); 0 = no limit
 * @param tokensPerMinute   configured tokens per minute, counted as estimated input plus {@code max_tokens} at
 *                          start and corrected by the reported usage at the end; 0 = no limit
 * @param learnFromHeaders  also obey the provider's {@code x-ratelimit-*} / {@code anthropic-ratelimit-*}
 *                          headers and the {@code Retry-After} of its 429s
 * @param queueSize         calls that may wait; 0 refuses at once when a call cannot start
 * @param queueTimeout      longest wait in the queue
 */
public record RateLimitSettings(int requestsPerMinute, long tokensPerMinute, boolean learnFromHeaders, int queueSize,
    Duration queueTimeout) {

  /** Reads the {@code rate-limit} block of {@code providerConfig}. */
  public static RateLimitSettings create(Config providerConfig) {
    Config c = providerConfig.getConfig("rate-limit");
    return new RateLimitSettings(Math.max(0, c.getInt("requests-per-minute")), Math.max(0, c.getLong("tokens-per-minute")),
        c.getBoolean("learn-from-headers"), Math.max(0, c.getInt("queue-size")), c.getDuration("queue-timeout"));
  }
}
