package io.pekkollm.keys;

import io.pekkollm.model.ErrorKind;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The per-node limits of virtual keys: requests and tokens per minute (fixed windows of a clock minute) and
 * requests at once. Each gateway node counts for itself: in a cluster of N nodes behind a balancer a key gets up
 * to N times its limits (README says how to size them). Thread-safe.
 */
final class KeyLimits {
  private final ConcurrentHashMap<String, Counters> counters = new ConcurrentHashMap<>();

  /** One key's counters. */
  private static final class Counters {
    long minute = Long.MIN_VALUE;
    int requests;
    long tokens;
    int inFlight;
  }

  /**
   * Counts one call of {@code key} starting at {@code nowMillis}; throws {@link KeyException} (RATE_LIMITED, with
   * Retry-After) when a limit is reached, counting nothing then. The caller must {@link #release} once the call ends.
   */
  void acquire(VirtualKey key, long nowMillis) {
    if (key.rpmLimit() == null && key.tpmLimit() == null && key.maxParallelRequests() == null) {
      return;
    }
    Counters c = counters.computeIfAbsent(key.id(), id -> new Counters());
    synchronized (c) {
      roll(c, nowMillis);
      Duration toNextMinute = Duration.ofMillis(60_000 - Math.floorMod(nowMillis, 60_000L));
      if (key.maxParallelRequests() != null && c.inFlight >= key.maxParallelRequests()) {
        throw new KeyException(ErrorKind.RATE_LIMITED, "parallel_request_limit_exceeded", "key " + key.id()
            + " has " + c.inFlight + " requests running, its max_parallel_requests is " + key.maxParallelRequests(),
            null, Duration.ofSeconds(1), null);
      }
      if (key.rpmLimit() != null && c.requests >= key.rpmLimit()) {
        throw new KeyException(ErrorKind.RATE_LIMITED, "rate_limit_exceeded", "key " + key.id()
            + " reached its rpm_limit of " + key.rpmLimit() + " requests per minute", null, toNextMinute, null);
      }
      if (key.tpmLimit() != null && c.tokens >= key.tpmLimit()) {
        throw new KeyException(ErrorKind.RATE_LIMITED, "rate_limit_exceeded", "key " + key.id()
            + " reached its tpm_limit of " + key.tpmLimit() + " tokens per minute", null, toNextMinute, null);
      }
      c.requests++;
      c.inFlight++;
    }
  }

  /** Ends one call of {@code key} that used {@code tokens} tokens. */
  void release(VirtualKey key, long tokens, long nowMillis) {
    Counters c = counters.get(key.id());
    if (c == null) {
      return;
    }
    synchronized (c) {
      roll(c, nowMillis);
      c.inFlight = Math.max(0, c.inFlight - 1);
      c.tokens += tokens;
    }
  }

  private static void roll(Counters c, long nowMillis) {
    long minute = Math.floorDiv(nowMillis, 60_000L);
    if (minute != c.minute) {
      c.minute = minute;
      c.requests = 0;
      c.tokens = 0;
    }
  }
}
