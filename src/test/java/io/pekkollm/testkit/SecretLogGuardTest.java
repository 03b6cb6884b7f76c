package io.pekkollm.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The guard sees what any logger writes, message and stack trace, and only lines with a test secret. */
class SecretLogGuardTest {
  @Test
  void aSecretInAnyLoggedLineIsCaughtAndOrdinaryLinesAreNot() {
    SecretLogGuard.drain();
    LoggerFactory.getLogger("io.pekkollm.somewhere").warn("upstream said: bad key {}", "sk-test-key-leaked");
    LoggerFactory.getLogger("org.apache.pekko.other").error("failed", new IllegalStateException("x-api-key: "
        + "sk-ant-test-leaked"));
    LoggerFactory.getLogger("io.pekkollm.somewhere").warn("upstream said: bad key [REDACTED]");
    List<String> leaked = SecretLogGuard.drain();
    assertEquals(2, leaked.size(), leaked.toString());
    assertTrue(leaked.get(0).contains("sk-test-key-leaked"));
    assertTrue(leaked.get(1).contains("IllegalStateException"), "stack traces are scanned too: " + leaked.get(1));
    // Drained: this class itself passes the guard's check after it.
  }
}
