package io.pekkollm.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.util.Futures;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Asks sent again when they got no answer: only timeouts are retried, and only until the deadline. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RetriesTest {
  private final ActorTestKit kit = ActorTestKit.create();

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
  }

  private static <T> CompletableFuture<T> timedOut() {
    return CompletableFuture.failedFuture(new TimeoutException("no answer"));
  }

  @Test
  void anAttemptThatTimedOutIsSentAgainUntilOneIsAnswered() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    List<Duration> timeouts = new CopyOnWriteArrayList<>();
    String result = Retries.<String>untilDeadline(kit.system(), Duration.ofSeconds(3), Duration.ofSeconds(30), t -> {
      timeouts.add(t);
      return attempts.incrementAndGet() < 3 ? timedOut() : CompletableFuture.completedFuture("answered");
    }).toCompletableFuture().get(20, TimeUnit.SECONDS);
    assertEquals("answered", result);
    assertEquals(3, attempts.get());
    assertEquals(List.of(Duration.ofSeconds(3), Duration.ofSeconds(3), Duration.ofSeconds(3)), timeouts,
        "far from the deadline every attempt waits the full ask timeout");
  }

  @Test
  void anErrorThatIsNotATimeoutIsNotRetried() {
    AtomicInteger attempts = new AtomicInteger();
    ExecutionException e = assertThrows(ExecutionException.class, () -> Retries.<String>untilDeadline(kit.system(),
        Duration.ofSeconds(3), Duration.ofSeconds(30), t -> {
          attempts.incrementAndGet();
          return CompletableFuture.failedFuture(new IllegalStateException("refused"));
        }).toCompletableFuture().get(20, TimeUnit.SECONDS));
    assertInstanceOf(IllegalStateException.class, Futures.cause(e));
    assertEquals(1, attempts.get());
  }

  @Test
  void retriesStopAtTheDeadlineWithTheTimeoutAndTheLastAttemptIsShortened() {
    AtomicInteger attempts = new AtomicInteger();
    List<Duration> timeouts = new CopyOnWriteArrayList<>();
    Duration attempt = Duration.ofMillis(400);
    ExecutionException e = assertThrows(ExecutionException.class, () -> Retries.<String>untilDeadline(kit.system(),
        attempt, Duration.ofMillis(1_000), t -> {
          timeouts.add(t);
          attempts.incrementAndGet();
          // As an ask: it fails once its timeout has passed.
          CompletableFuture<String> f = new CompletableFuture<>();
          f.completeOnTimeout(null, t.toMillis(), TimeUnit.MILLISECONDS);
          return f.thenCompose(x -> timedOut());
        }).toCompletableFuture().get(20, TimeUnit.SECONDS));
    assertInstanceOf(TimeoutException.class, Futures.cause(e));
    assertTrue(attempts.get() >= 2, "sent again within the deadline: " + timeouts);
    for (Duration t : timeouts) {
      assertTrue(t.compareTo(attempt) <= 0 && t.compareTo(Retries.MIN_ATTEMPT) >= 0, "attempt timeouts " + timeouts);
    }
  }

  @Test
  void aDeadlineOfZeroMakesOneAttempt() {
    AtomicInteger attempts = new AtomicInteger();
    assertThrows(ExecutionException.class, () -> Retries.<String>untilDeadline(kit.system(), Duration.ofSeconds(1),
        Duration.ZERO, t -> {
          attempts.incrementAndGet();
          return timedOut();
        }).toCompletableFuture().get(20, TimeUnit.SECONDS));
    assertEquals(1, attempts.get());
  }

  @Test
  void anAskTimeoutWrappedInAnotherErrorCountsAsATimeout() {
    assertTrue(Retries.timedOut(new java.util.concurrent.CompletionException(new TimeoutException("x"))));
    assertTrue(Retries.timedOut(new RuntimeException("wrapped", new org.apache.pekko.pattern.AskTimeoutException("x"))));
    assertTrue(!Retries.timedOut(new IllegalStateException("refused")));
  }
}
