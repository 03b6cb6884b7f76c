package io.pekkollm.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.ProviderException;
import io.pekkollm.resilience.RateLimitHeaders;
import io.pekkollm.resilience.RateLimitSettings;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The admission limits on their own, on a manual clock: in-flight, buckets, reported limits, Retry-After. */
class AdmissionLimitsTest {
  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
  private final AtomicLong clock = new AtomicLong(1_000 * SECOND);
  /** The hold timers asked for, latest per key, as the actor's timers keep them. */
  private final Map<AdmissionLimits.HoldKey, Duration> holds = new LinkedHashMap<>();

  private AdmissionLimits limits(int maxInFlight, int rpm, long tpm, boolean learn, Duration queueTimeout) {
    return new AdmissionLimits("p", maxInFlight, new RateLimitSettings(rpm, tpm, learn, 10, queueTimeout), 2,
        clock::get, holds::put);
  }

  private void advance(long nanos) {
    clock.addAndGet(nanos);
  }

  @Test
  void maxInFlightHoldsEveryCallUntilOneEnds() {
    AdmissionLimits l = limits(2, 0, 0, false, Duration.ofSeconds(5));
    l.started("a", 0);
    assertEquals(0, l.waitFor("b", 0));
    l.started("b", 0);
    assertEquals(2, l.inFlight());
    assertEquals(Long.MAX_VALUE, l.waitFor("c", 0));
    assertEquals("max-in-flight 2 reached", l.why("c", 0));
    l.ended("a", 0, 0, null, null);
    assertEquals(0, l.waitFor("c", 0));
  }

  @Test
  void requestsPerMinuteRefillContinuously() {
    AdmissionLimits l = limits(100, 4, 0, false, Duration.ofSeconds(5));
    for (int i = 0; i < 4; i++) {
      l.started("m", 0);
      l.ended("m", 0, 0, null, null);
    }
    // One request every 15 s.
    assertEquals(15 * SECOND, l.waitFor("m", 0));
    assertEquals("rate-limit.requests-per-minute 4 used", l.why("m", 0));
    advance(14 * SECOND);
    assertEquals(SECOND, l.waitFor("m", 0));
    advance(SECOND);
    assertEquals(0, l.waitFor("m", 0));
  }

  @Test
  void tokensPerMinuteAreCorrectedByTheReportedUsage() {
    AdmissionLimits l = limits(100, 0, 1000, false, Duration.ofSeconds(5));
    l.started("m", 800);
    assertTrue(l.waitFor("m", 800) > 0);
    assertEquals(0, l.waitFor("m", 200), "a smaller call still fits");
    assertEquals("rate-limit.tokens-per-minute 1000 used", l.why("m", 800));
    l.ended("m", 800, 100, null, null);
    assertEquals(0, l.waitFor("m", 800), "the unused estimate comes back at once");
  }

  @Test
  void reportedLimitsHoldOnlyTheirModelUntilTheTimerEndsThem() {
    AdmissionLimits l = limits(100, 0, 0, true, Duration.ofSeconds(5));
    l.reported("m", new RateLimitHeaders.Learned(0, Duration.ofSeconds(2), 500, null));
    assertEquals(2 * SECOND, l.waitFor("m", 0));
    assertEquals(0, l.waitFor("other", 0));
    assertEquals("p's rate-limit headers report its limit used", l.why("m", 0));
    AdmissionLimits.HoldKey requests = new AdmissionLimits.HoldKey("m", AdmissionLimits.Hold.REQUESTS);
    AdmissionLimits.HoldKey tokens = new AdmissionLimits.HoldKey("m", AdmissionLimits.Hold.TOKENS);
    // Without a reset time the token report holds for a second.
    assertEquals(Map.of(requests, Duration.ofSeconds(2), tokens, Duration.ofSeconds(1)), holds);
    advance(SECOND);
    assertEquals(SECOND, l.waitFor("m", 0), "the wait shrinks on the clock");
    l.holdEnded(requests);
    assertEquals(0, l.waitFor("m", 400));
    assertTrue(l.waitFor("m", 600) > 0, "600 tokens exceed the 500 reported left");
    l.holdEnded(tokens);
    assertEquals(0, l.waitFor("m", 600));
  }

  @Test
  void startedCallsUseUpWhatTheProviderReportedLeft() {
    AdmissionLimits l = limits(100, 0, 0, true, Duration.ofSeconds(5));
    l.reported("m", new RateLimitHeaders.Learned(1, Duration.ofSeconds(30), 100, Duration.ofSeconds(30)));
    assertEquals(0, l.waitFor("m", 60));
    l.started("m", 60);
    assertEquals(30 * SECOND, l.waitFor("m", 0), "no request left");
  }

  @Test
  void a429sRetryAfterHoldsTheModelAndALongerWaitThanTheQueueTimeoutIsRefused() {
    AdmissionLimits l = limits(100, 0, 0, true, Duration.ofSeconds(2));
    l.started("m", 0);
    l.ended("m", 0, 0, ErrorKind.RATE_LIMITED, Duration.ofSeconds(3));
    assertEquals(Map.of(new AdmissionLimits.HoldKey("m", AdmissionLimits.Hold.RETRY_AFTER), Duration.ofSeconds(3)),
        holds);
    assertEquals("p answered 429 with a Retry-After", l.why("m", 0));
    ProviderException refused = (ProviderException) l.beyondQueueTimeout("m", 0);
    assertEquals("local_rate_limit", refused.errorCode());
    assertEquals(429, refused.httpStatus());
    assertEquals(Duration.ofSeconds(3), refused.retryAfter().orElseThrow());
    assertNull(l.beyondQueueTimeout("other", 0));
    advance(1500 * SECOND / 1000);
    assertNull(l.beyondQueueTimeout("m", 0), "1.5 s left fits the queue timeout");
    // A shorter Retry-After does not cut the hold short.
    l.started("m", 0);
    l.ended("m", 0, 0, ErrorKind.RATE_LIMITED, Duration.ofSeconds(1));
    assertEquals(1500 * SECOND / 1000, l.waitFor("m", 0));
  }

  @Test
  void retryAfterIsIgnoredWhenNotLearningFromTheProvider() {
    AdmissionLimits l = limits(100, 0, 0, false, Duration.ofSeconds(2));
    l.started("m", 0);
    l.ended("m", 0, 0, ErrorKind.RATE_LIMITED, Duration.ofSeconds(3));
    assertEquals(0, l.waitFor("m", 0));
    assertTrue(holds.isEmpty());
  }

  @Test
  void reportsOfMoreModelsThanTrackedForgetThoseThatHoldNothing() {
    AdmissionLimits l = limits(100, 0, 0, true, Duration.ofSeconds(5));
    RateLimitHeaders.Learned exhausted = new RateLimitHeaders.Learned(0, Duration.ofSeconds(9), -1, null);
    l.reported("a", exhausted);
    l.reported("b", exhausted);
    // Two models tracked (the bound here), both holding: a third is not remembered.
    l.reported("c", exhausted);
    assertEquals(0, l.waitFor("c", 0));
    // A report that holds nothing takes a place only until a model that holds needs it.
    l.holdEnded(new AdmissionLimits.HoldKey("b", AdmissionLimits.Hold.REQUESTS));
    l.reported("empty", new RateLimitHeaders.Learned(-1, null, -1, null));
    l.reported("c", exhausted);
    assertEquals(9 * SECOND, l.waitFor("c", 0));
    assertEquals(9 * SECOND, l.waitFor("a", 0));
  }

  @Test
  void aWaitBecomesARetryAfterOfOneSecondWhenUnknown() {
    assertEquals(Duration.ofSeconds(1), AdmissionLimits.retryAfter(Long.MAX_VALUE));
    assertEquals(Duration.ofSeconds(1), AdmissionLimits.retryAfter(0));
    assertEquals(Duration.ofMillis(250), AdmissionLimits.retryAfter(250_000_000L));
  }
}
