package io.pekkollm.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.ProviderException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The admission queue on its own: order, capacity, per-model waits, timeouts. */
class AdmissionQueueTest {
  private final Map<Long, Duration> timers = new HashMap<>();
  private final AdmissionQueue queue = new AdmissionQueue("p", 3, Duration.ofSeconds(5), new AdmissionQueue.Timeouts() {
    @Override
    public void start(long ticket, Duration after) {
      timers.put(ticket, after);
    }

    @Override
    public void cancel(long ticket) {
      timers.remove(ticket);
    }
  });

  private static ProviderActor.Acquire call(String model) {
    return new ProviderActor.Acquire(model, 0, null);
  }

  private static List<String> models(List<AdmissionQueue.Waiting> waiting) {
    return waiting.stream().map(w -> w.acquire().model()).toList();
  }

  @Test
  void waitingCallsStartInArrivalOrderAndLeaveNoTimerBehind() {
    AdmissionQueue.Waiting a = queue.offer(call("a"));
    queue.offer(call("b"));
    queue.offer(call("c"));
    assertEquals(Duration.ofSeconds(5), timers.get(a.ticket()));
    List<String> started = new ArrayList<>();
    long next = queue.drain(x -> 0, w -> started.add(w.acquire().model()));
    assertEquals(List.of("a", "b", "c"), started);
    assertEquals(Long.MAX_VALUE, next);
    assertTrue(queue.isEmpty());
    assertTrue(timers.isEmpty(), "started calls cancel their timeouts: " + timers);
  }

  @Test
  void aCallWaitingForItsModelDoesNotHoldUpTheOthersBehindIt() {
    queue.offer(call("held"));
    queue.offer(call("free"));
    queue.offer(call("held"));
    List<String> started = new ArrayList<>();
    long next = queue.drain(x -> x.model().equals("held") ? 2_000 : 0, w -> started.add(w.acquire().model()));
    assertEquals(List.of("free"), started);
    assertEquals(2_000, next, "the drain says when to look again");
    assertEquals(List.of("held", "held"), models(queue.clear()));
  }

  @Test
  void drainingStopsWhereNoCallMayStartBeforeARunningOneEnds() {
    queue.offer(call("a"));
    queue.offer(call("b"));
    queue.offer(call("c"));
    int[] running = {1};
    List<String> started = new ArrayList<>();
    // Room for two calls: the third waits for one to end, and so does everything behind it.
    long next = queue.drain(x -> running[0] >= 2 ? Long.MAX_VALUE : 0, w -> {
      running[0]++;
      started.add(w.acquire().model());
    });
    assertEquals(List.of("a"), started);
    assertEquals(Long.MAX_VALUE, next);
    assertEquals(2, queue.size());
  }

  @Test
  void aFullQueueRefusesWith429AndARetryAfter() {
    for (int i = 0; i < 3; i++) {
      assertNotNull(queue.offer(call("m")));
    }
    assertNull(queue.offer(call("m")));
    assertEquals(3, timers.size(), "a refused call starts no timer");
    ProviderException full = (ProviderException) queue.full("max-in-flight 1 reached", 1_500_000_000L);
    assertEquals(ErrorKind.RATE_LIMITED, full.kind());
    assertEquals("queue_full", full.errorCode());
    assertEquals(429, full.httpStatus());
    assertEquals(Duration.ofMillis(1500), full.retryAfter().orElseThrow());
    assertTrue(full.getMessage().contains("max-in-flight 1 reached") && full.getMessage().contains("3 calls"),
        full.getMessage());
    // Waiting for a running call to end: no estimate, so come back in a second.
    assertEquals(Duration.ofSeconds(1), queue.full("x", Long.MAX_VALUE).retryAfter().orElseThrow());
  }

  @Test
  void aTimedOutCallLeavesTheQueueOnceWithQueueTimeout() {
    AdmissionQueue.Waiting first = queue.offer(call("a"));
    queue.offer(call("b"));
    assertEquals("a", queue.expire(first.ticket()).model());
    assertNull(queue.expire(first.ticket()), "a timer that fires late finds nothing");
    assertEquals(1, queue.size());
    ProviderException timedOut = (ProviderException) queue.timedOut("calls ahead of it wait", 0);
    assertEquals("queue_timeout", timedOut.errorCode());
    assertEquals(429, timedOut.httpStatus());
    assertTrue(timedOut.getMessage().contains("5000 ms"), timedOut.getMessage());
  }

  @Test
  void removeIfTakesTheSelectedCallsInOrderAndCancelsTheirTimeouts() {
    queue.offer(call("bad"));
    AdmissionQueue.Waiting good = queue.offer(call("good"));
    queue.offer(call("bad"));
    assertEquals(List.of("bad", "bad"), models(queue.removeIf(x -> x.model().equals("bad"))));
    assertEquals(Map.of(good.ticket(), Duration.ofSeconds(5)), timers);
    assertEquals(1, queue.size());
  }

  @Test
  void aQueueOfSizeZeroRefusesEveryCall() {
    AdmissionQueue none = new AdmissionQueue("p", 0, Duration.ofSeconds(1), new AdmissionQueue.Timeouts() {
      @Override
      public void start(long ticket, Duration after) {
        throw new AssertionError("no timer for a refused call");
      }

      @Override
      public void cancel(long ticket) {}
    });
    assertNull(none.offer(call("m")));
  }
}
