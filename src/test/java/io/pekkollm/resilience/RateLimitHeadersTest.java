package io.pekkollm.resilience;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RateLimitHeadersTest {
  private static final Instant NOW = Instant.parse("2025-01-01T00:00:00Z");

  @Test
  void readsOpenAiStyleHeadersWithGoDurations() {
    RateLimitHeaders.Learned l = RateLimitHeaders.parse(Map.of(
        "x-ratelimit-limit-requests", "500", "x-ratelimit-remaining-requests", "0",
        "x-ratelimit-reset-requests", "6m0s", "x-ratelimit-remaining-tokens", "149984",
        "x-ratelimit-reset-tokens", "6ms"), NOW);
    assertEquals(0, l.remainingRequests());
    assertEquals(Duration.ofMinutes(6), l.resetRequests());
    assertEquals(149_984, l.remainingTokens());
    assertEquals(Duration.ofMillis(6), l.resetTokens());
  }

  @Test
  void readsAnthropicHeadersWithRfc3339Resets() {
    RateLimitHeaders.Learned l = RateLimitHeaders.parse(Map.of(
        "anthropic-ratelimit-requests-remaining", "3", "anthropic-ratelimit-requests-reset", "2025-01-01T00:00:20Z",
        "anthropic-ratelimit-tokens-remaining", "0", "anthropic-ratelimit-tokens-reset", "2024-12-31T23:59:00Z"), NOW);
    assertEquals(3, l.remainingRequests());
    assertEquals(Duration.ofSeconds(20), l.resetRequests());
    assertEquals(0, l.remainingTokens());
    assertEquals(Duration.ZERO, l.resetTokens(), "a reset in the past is now");
  }

  @Test
  void goDurationsCoverEveryUnitAndRejectGarbage() {
    assertEquals(Duration.ofMillis(179_560), RateLimitHeaders.goDuration("2m59.56s"));
    assertEquals(Duration.ofSeconds(3723), RateLimitHeaders.goDuration("1h2m3s"));
    assertEquals(Duration.ofNanos(1500), RateLimitHeaders.goDuration("1.5us"));
    assertEquals(Duration.ofNanos(7), RateLimitHeaders.goDuration("7ns"));
    assertNull(RateLimitHeaders.goDuration("soon"));
    assertNull(RateLimitHeaders.goDuration("5 parsecs"));
    assertEquals(Duration.ofMillis(1500), RateLimitHeaders.reset("1.5", NOW), "a plain number is seconds");
  }

  @Test
  void responsesWithoutRemainingCountsTeachNothing() {
    assertNull(RateLimitHeaders.parse(Map.of("x-ratelimit-reset-requests", "1s"), NOW));
    assertNull(RateLimitHeaders.parse(Map.of("x-ratelimit-remaining-requests", "many"), NOW));
    assertTrue(RateLimitHeaders.isRateLimitHeader("x-ratelimit-remaining-tokens"));
    assertTrue(RateLimitHeaders.isRateLimitHeader("anthropic-ratelimit-requests-reset"));
    assertFalse(RateLimitHeaders.isRateLimitHeader("retry-after"));
  }
}
