package io.pekkollm.model;

import java.util.Objects;

/**
 * A request's own retry budget, overriding its provider's {@code retry.max-attempts}. Only the number of
 * attempts is per request; backoff and the longest honoured {@code Retry-After} stay the provider's. Attempts
 * count the first one: {@link #maxAttempts()} 1 sends the request once and never retries (the opt-out,
 * {@link #NONE}). A stream is only retried before its first chunk reaches the caller.
 *
 * <p>On the gateway: the request body field {@code "retry": false} or {@code "retry": {"max_attempts": n}}
 * ({@code 0} reads as 1). Immutable and thread-safe.
 */
public final class RetryOptions {
  /** Send once, never retry. */
  public static final RetryOptions NONE = new RetryOptions(1);

  private final int maxAttempts;

  private RetryOptions(int maxAttempts) {
    this.maxAttempts = maxAttempts;
  }

  /** At most {@code n} attempts in all (the first included); values below 1 mean 1. */
  public static RetryOptions maxAttempts(int n) {
    return n <= 1 ? NONE : new RetryOptions(n);
  }

  /** Attempts in all, at least 1. */
  public int maxAttempts() {
    return maxAttempts;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof RetryOptions r && r.maxAttempts == maxAttempts;
  }

  @Override
  public int hashCode() {
    return Objects.hash(maxAttempts);
  }

  @Override
  public String toString() {
    return "RetryOptions{maxAttempts=" + maxAttempts + "}";
  }
}
