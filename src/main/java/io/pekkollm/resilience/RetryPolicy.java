package io.pekkollm.resilience;

import com.typesafe.config.Config;
import io.pekkollm.model.LlmException;
import java.time.Duration;
import java.util.Optional;

/**
 * How one provider's failed attempts are retried, from its {@code retry} settings block (see reference.conf).
 * Only errors the classifier marks {@linkplain LlmException#isRetryable() retryable} are retried, and a stream
 * only before its first chunk reached the caller.
 *
 * <p>The wait before retry {@code n} (1-based) is the provider's own hint when it gave one ({@code Retry-After}
 * in seconds or as an HTTP date, {@code retry-after-ms}, Gemini's {@code RetryInfo.retryDelay}: all parsed once
 * by the classifier into {@link LlmException#retryAfter()}), as long as it is at most {@code maxRetryAfter};
 * a longer hint is not waited for here. Without a hint it is exponential backoff with full jitter (AWS
 * Architecture Blog, "Exponential Backoff And Jitter"): uniformly random in
 * {@code [0, min(maxBackoff, initialBackoff × multiplier^(n-1))]}, so clients that failed together do not
 * retry together.
 *
 * @param maxAttempts    attempts in all, the first included (1: never retry)
 * @param initialBackoff cap of the first backoff
 * @param maxBackoff     cap of every backoff
 * @param multiplier     growth of the cap per retry
 * @param maxRetryAfter  longest provider-requested wait honoured
 */
public record RetryPolicy(int maxAttempts, Duration initialBackoff, Duration maxBackoff, double multiplier,
    Duration maxRetryAfter) {

  public RetryPolicy {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("retry.max-attempts must be at least 1, not " + maxAttempts);
    }
    if (multiplier < 1) {
      throw new IllegalArgumentException("retry.multiplier must be at least 1.0, not " + multiplier);
    }
  }

  /** Reads the {@code retry} block of {@code providerConfig}. */
  public static RetryPolicy create(Config providerConfig) {
    Config c = providerConfig.getConfig("retry");
    return new RetryPolicy(c.getInt("max-attempts"), c.getDuration("initial-backoff"), c.getDuration("max-backoff"),
        c.getDouble("multiplier"), c.getDuration("max-retry-after"));
  }

  /** The same policy with another number of attempts (at least 1). */
  public RetryPolicy withMaxAttempts(int value) {
    return new RetryPolicy(Math.max(1, value), initialBackoff, maxBackoff, multiplier, maxRetryAfter);
  }

  /**
   * The full-jitter backoff before retry {@code retry} (1-based); {@code random} is uniform in [0, 1).
   */
  public Duration backoff(int retry, double random) {
    double cap = initialBackoff.toNanos() * Math.pow(multiplier, Math.max(0, retry - 1));
    double capped = Math.min(maxBackoff.toNanos(), cap);
    return Duration.ofNanos((long) (capped * random));
  }

  /**
   * The wait before retry {@code retry} after {@code error}: the provider's hint, or the jittered backoff.
   * Empty when the provider asked for a longer wait than {@code maxRetryAfter}: waiting here would hold the
   * caller longer than allowed, so the error (with its Retry-After) goes back instead, or to the next model.
   */
  public Optional<Duration> delay(LlmException error, int retry, double random) {
    Optional<Duration> hint = error.retryAfter();
    if (hint.isPresent()) {
      return hint.get().compareTo(maxRetryAfter) <= 0 ? hint : Optional.empty();
    }
    return Optional.of(backoff(retry, random));
  }
}
