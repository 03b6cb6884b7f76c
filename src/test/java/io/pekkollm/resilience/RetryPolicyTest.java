package io.pekkollm.resilience;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.provider.ErrorClassifier;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {
  private final RetryPolicy policy = new RetryPolicy(4, Duration.ofMillis(500), Duration.ofSeconds(4), 2.0,
      Duration.ofSeconds(60));

  @Test
  void backoffIsFullJitterUnderAnExponentialCapThatStopsAtMaxBackoff() {
    // random = 1 (just below) gives the cap itself; 0 gives no wait at all.
    assertEquals(Duration.ofMillis(500), policy.backoff(1, 1.0));
    assertEquals(Duration.ofMillis(1000), policy.backoff(2, 1.0));
    assertEquals(Duration.ofMillis(2000), policy.backoff(3, 1.0));
    assertEquals(Duration.ofSeconds(4), policy.backoff(4, 1.0));
    assertEquals(Duration.ofSeconds(4), policy.backoff(30, 1.0));
    assertEquals(Duration.ZERO, policy.backoff(3, 0.0));
    assertEquals(Duration.ofMillis(1000), policy.backoff(3, 0.5));
  }

  @Test
  void aProviderHintWinsOverTheBackoffAndIsUsedAsItIs() {
    LlmException limited = ErrorClassifier.fromHttp("openai", 429, Map.of("retry-after", "7"), "{}",
        ErrorClassifier.ErrorDetails.NONE, Instant.now());
    assertEquals(Optional.of(Duration.ofSeconds(7)), policy.delay(limited, 1, 0.9));
    LlmException ms = ErrorClassifier.fromHttp("openai", 503, Map.of("retry-after-ms", "250"), "{}",
        ErrorClassifier.ErrorDetails.NONE, Instant.now());
    assertEquals(Optional.of(Duration.ofMillis(250)), policy.delay(ms, 3, 0.9));
    // Gemini's RetryInfo.retryDelay reaches the policy the same way, through the classifier.
    LlmException gemini = ErrorClassifier.fromHttp("gemini", 429, Map.of(), "{}",
        new ErrorClassifier.ErrorDetails("quota", "RESOURCE_EXHAUSTED", null, null, Duration.ofMillis(34_400)),
        Instant.now());
    assertEquals(Optional.of(Duration.ofMillis(34_400)), policy.delay(gemini, 1, 0.1));
  }

  @Test
  void aHintLongerThanMaxRetryAfterIsNotWaitedFor() {
    LlmException longWait = ErrorClassifier.fromHttp("openai", 429, Map.of("retry-after", "120"), "{}",
        ErrorClassifier.ErrorDetails.NONE, Instant.now());
    assertEquals(Optional.empty(), policy.delay(longWait, 1, 0.5));
  }

  @Test
  void withoutAHintTheDelayIsTheJitteredBackoff() {
    LlmException network = new LlmException(ErrorKind.NETWORK, "reset", null, true, null);
    Duration d = policy.delay(network, 2, 0.25).orElseThrow();
    assertEquals(Duration.ofMillis(250), d);
  }

  @Test
  void requestOverridesKeepAtLeastOneAttemptAndInvalidSettingsAreRefused() {
    assertEquals(1, policy.withMaxAttempts(0).maxAttempts());
    assertEquals(7, policy.withMaxAttempts(7).maxAttempts());
    assertThrows(IllegalArgumentException.class,
        () -> new RetryPolicy(0, Duration.ZERO, Duration.ZERO, 2, Duration.ZERO));
    assertThrows(IllegalArgumentException.class,
        () -> new RetryPolicy(1, Duration.ZERO, Duration.ZERO, 0.5, Duration.ZERO));
  }

  @Test
  void theReferenceDefaultsAreReadAndSane() {
    var cfg = com.typesafe.config.ConfigFactory.defaultReference().getConfig("pekko-llm.provider-defaults");
    ResilienceSettings s = ResilienceSettings.create(cfg);
    assertEquals(3, s.retry().maxAttempts());
    assertTrue(s.breaker().enabled());
    assertEquals(5, s.breaker().maxFailures());
    assertEquals(1000, s.rateLimit().queueSize());
    assertEquals(Duration.ofSeconds(10), s.timeouts().connect());
    assertEquals(Duration.ZERO, s.healthCheckInterval());
  }
}
