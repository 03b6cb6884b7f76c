package io.pekkollm.provider;

import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.resilience.RateLimitHeaders;
import io.pekkollm.resilience.RateLimitSettings;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.LongSupplier;

/**
 * What decides when one provider's next call may start: {@code max-in-flight}, the configured requests and
 * tokens per minute (token buckets), and what the provider reported per model (its rate-limit headers and the
 * Retry-After of its 429s). It counts the calls in flight and answers how long a call must wait. Time comes from
 * an injected {@link System#nanoTime()}-like clock; each reported hold ends when the timer it asks for
 * ({@code holdTimer}) fires and calls {@link #holdEnded}, so the actor's scheduler (manual in tests) drives it,
 * and the deadlines on the clock only size Retry-After values. At most {@code maxTrackedModels} models' reports
 * are remembered. Not thread-safe: its actor's only.
 */
final class AdmissionLimits {
  // Without a reset time, a provider that reported zero remaining is left alone this long.
  private static final long DEFAULT_RESET_NANOS = TimeUnit.SECONDS.toNanos(1);

  /** Which reported hold a timer ends. */
  enum Hold { REQUESTS, TOKENS, RETRY_AFTER }

  /** One reported hold of one model ("" for calls about no model): the key of its timer. */
  record HoldKey(String model, Hold hold) {}

  /** What the provider reported about one model's limits. */
  private static final class Reported {
    /** Requests left in the provider's window; 0 holds calls until the window resets; -1 unknown. */
    long remainingRequests = -1;
    long requestsResetAt;
    /** Tokens left in the provider's window; calls estimated above it wait for the reset; -1 unknown. */
    long remainingTokens = -1;
    long tokensResetAt;
    /** A 429's Retry-After holds every call of the model until it passes. */
    boolean retryAfterHeld;
    long retryAfterUntil;

    /** Nanoseconds (on the clock, at least 1) this model's calls of {@code tokens} are held; 0 when not. */
    long waitFor(long tokens, long now) {
      long wait = 0;
      if (retryAfterHeld) {
        wait = Math.max(1, retryAfterUntil - now);
      }
      if (remainingRequests == 0) {
        wait = Math.max(wait, Math.max(1, requestsResetAt - now));
      }
      if (remainingTokens >= 0 && remainingTokens < tokens) {
        wait = Math.max(wait, Math.max(1, tokensResetAt - now));
      }
      return wait;
    }

    boolean isEmpty() {
      return remainingRequests < 0 && remainingTokens < 0 && !retryAfterHeld;
    }
  }

  private final String provider;
  private final int maxInFlight;
  private final RateLimitSettings settings;
  private final int maxTrackedModels;
  private final LongSupplier clock;
  private final BiConsumer<HoldKey, Duration> holdTimer;
  private final TokenBucket requestBucket;
  private final TokenBucket tokenBucket;
  private final Map<String, Reported> reported = new HashMap<>();
  private int inFlight;

  /**
   * Limits of {@code provider}; {@code holdTimer} is asked to call {@link #holdEnded} with its key after the
   * given time (a timer with the same key replaces the earlier one).
   */
  AdmissionLimits(String provider, int maxInFlight, RateLimitSettings settings, int maxTrackedModels,
      LongSupplier clock, BiConsumer<HoldKey, Duration> holdTimer) {
    this.provider = provider;
    this.maxInFlight = maxInFlight;
    this.settings = settings;
    this.maxTrackedModels = maxTrackedModels;
    this.clock = clock;
    this.holdTimer = holdTimer;
    long now = clock.getAsLong();
    this.requestBucket = settings.requestsPerMinute() > 0 ? new TokenBucket(settings.requestsPerMinute(), now) : null;
    this.tokenBucket = settings.tokensPerMinute() > 0 ? new TokenBucket(settings.tokensPerMinute(), now) : null;
  }

  /** Calls started and not ended. */
  int inFlight() {
    return inFlight;
  }

  /**
   * Nanoseconds until a call of {@code model} estimated at {@code tokens} may start; 0 now; {@code Long.MAX_VALUE}
   * when {@code max-in-flight} calls run, so it waits for one to end (which holds every call alike).
   */
  long waitFor(String model, long tokens) {
    if (inFlight >= maxInFlight) {
      return Long.MAX_VALUE;
    }
    long now = clock.getAsLong();
    long wait = 0;
    if (requestBucket != null) {
      wait = requestBucket.waitFor(1, now);
    }
    if (tokenBucket != null && tokens > 0) {
      wait = Math.max(wait, tokenBucket.waitFor(tokens, now));
    }
    Reported r = reported.get(key(model));
    if (r != null) {
      wait = Math.max(wait, r.waitFor(tokens, now));
    }
    return wait;
  }

  /**
   * The provider said how long a call of {@code model} must wait (Retry-After, reset time), and it is longer than
   * {@code rate-limit.queue-timeout}: the refusal to give now (kind RATE_LIMITED, code {@code local_rate_limit})
   * rather than queue a call that can only time out; null otherwise. Our own buckets are not held to this, as the
   * usage reported at the end of running calls can refill them early.
   */
  LlmException beyondQueueTimeout(String model, long tokens) {
    Reported r = reported.get(key(model));
    long told = r == null ? 0 : r.waitFor(tokens, clock.getAsLong());
    if (told <= settings.queueTimeout().toNanos()) {
      return null;
    }
    return ErrorClassifier.localRateLimit(provider, why(model, tokens), retryAfter(told));
  }

  /** Why a call of {@code model} estimated at {@code tokens} cannot start now, for error messages. */
  String why(String model, long tokens) {
    if (inFlight >= maxInFlight) {
      return "max-in-flight " + maxInFlight + " reached";
    }
    long now = clock.getAsLong();
    if (requestBucket != null && requestBucket.waitFor(1, now) > 0) {
      return "rate-limit.requests-per-minute " + settings.requestsPerMinute() + " used";
    }
    if (tokenBucket != null && tokenBucket.waitFor(tokens, now) > 0) {
      return "rate-limit.tokens-per-minute " + settings.tokensPerMinute() + " used";
    }
    Reported r = reported.get(key(model));
    if (r != null && r.retryAfterHeld) {
      return provider + " answered 429 with a Retry-After";
    }
    if (r != null && r.waitFor(tokens, now) > 0) {
      return provider + "'s rate-limit headers report its limit used";
    }
    return "calls ahead of it wait";
  }

  /** A wait as a Retry-After: 1 s when unknown ({@code Long.MAX_VALUE}: until some call ends) or none. */
  static Duration retryAfter(long waitNanos) {
    return waitNanos == Long.MAX_VALUE || waitNanos <= 0 ? Duration.ofSeconds(1) : Duration.ofNanos(waitNanos);
  }

  /** A call of {@code model} estimated at {@code tokens} starts: it takes its share of every limit. */
  void started(String model, long tokens) {
    inFlight++;
    long now = clock.getAsLong();
    if (requestBucket != null) {
      requestBucket.take(1, now);
    }
    if (tokenBucket != null) {
      tokenBucket.take(tokens, now);
    }
    Reported r = reported.get(key(model));
    if (r != null) {
      if (r.remainingRequests > 0) {
        r.remainingRequests--;
      }
      if (r.remainingTokens > 0) {
        r.remainingTokens = Math.max(0, r.remainingTokens - tokens);
      }
    }
  }

  /**
   * A call of {@code model} that started with {@code estimatedTokens} ended (or was cancelled), having used
   * {@code tokensUsed} (0: not reported; the difference goes back to the token bucket), with {@code error} (null
   * on success) and the {@code retryAfter} its provider asked for (null: none). A 429's Retry-After holds the
   * model's calls until it passes, when {@code learn-from-headers} is on.
   */
  void ended(String model, long estimatedTokens, long tokensUsed, ErrorKind error, Duration retryAfter) {
    inFlight--;
    long now = clock.getAsLong();
    if (settings.learnFromHeaders() && error == ErrorKind.RATE_LIMITED && retryAfter != null
        && !retryAfter.isZero()) {
      Reported r = reportedOrNew(model);
      if (r != null && (!r.retryAfterHeld || now + retryAfter.toNanos() > r.retryAfterUntil)) {
        r.retryAfterHeld = true;
        r.retryAfterUntil = now + retryAfter.toNanos();
        hold(model, Hold.RETRY_AFTER, retryAfter);
      }
    }
    if (tokenBucket != null && tokensUsed > 0) {
      tokenBucket.adjust(estimatedTokens - tokensUsed, now);
    }
  }

  /** The provider's rate-limit headers on an answer for {@code model}: obeyed until their reset. */
  void reported(String model, RateLimitHeaders.Learned headers) {
    Reported r = reportedOrNew(model);
    if (r == null) {
      return;
    }
    long now = clock.getAsLong();
    if (headers.remainingRequests() >= 0) {
      Duration reset = headers.resetRequests() == null ? Duration.ofNanos(DEFAULT_RESET_NANOS) : headers.resetRequests();
      r.remainingRequests = headers.remainingRequests();
      r.requestsResetAt = now + reset.toNanos();
      hold(model, Hold.REQUESTS, reset);
    }
    if (headers.remainingTokens() >= 0) {
      Duration reset = headers.resetTokens() == null ? Duration.ofNanos(DEFAULT_RESET_NANOS) : headers.resetTokens();
      r.remainingTokens = headers.remainingTokens();
      r.tokensResetAt = now + reset.toNanos();
      hold(model, Hold.TOKENS, reset);
    }
  }

  /** A reported window reset or a Retry-After passed: what it held is unknown again. */
  void holdEnded(HoldKey key) {
    Reported r = reported.get(key.model());
    if (r == null) {
      return;
    }
    switch (key.hold()) {
      case REQUESTS -> r.remainingRequests = -1;
      case TOKENS -> r.remainingTokens = -1;
      case RETRY_AFTER -> r.retryAfterHeld = false;
    }
    if (r.isEmpty()) {
      reported.remove(key.model());
    }
  }

  private void hold(String model, Hold hold, Duration until) {
    holdTimer.accept(new HoldKey(key(model), hold), until);
  }

  private Reported reportedOrNew(String model) {
    String k = key(model);
    Reported r = reported.get(k);
    if (r == null) {
      if (reported.size() >= maxTrackedModels) {
        // Forget what holds nothing rather than grow with every model name callers send.
        reported.values().removeIf(Reported::isEmpty);
        if (reported.size() >= maxTrackedModels) {
          return null;
        }
      }
      r = new Reported();
      reported.put(k, r);
    }
    return r;
  }

  private static String key(String model) {
    return model == null ? "" : model;
  }
}
