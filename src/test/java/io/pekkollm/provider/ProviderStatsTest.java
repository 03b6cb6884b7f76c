package io.pekkollm.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.pekkollm.model.ErrorKind;
import org.junit.jupiter.api.Test;

/** The provider's stats on their own: means, percentiles, the error-rate window, counters, the last error. */
class ProviderStatsTest {
  private final ProviderLoad load = new ProviderLoad("p");
  private final ProviderStats stats = new ProviderStats(load, () -> 42L);

  private static ProviderActor.Release ok(long millis, long firstChunkMillis) {
    return new ProviderActor.Release(1, millis * 1_000_000, firstChunkMillis * 1_000_000, null, null, null, 0, false);
  }

  private static ProviderActor.Release failed(String message, boolean cancelled) {
    return new ProviderActor.Release(1, 1_000_000, -1, ErrorKind.SERVER_ERROR, message, null, 0, cancelled);
  }

  @Test
  void meansStartAtTheFirstSampleAndMoveATenthTowardsEachNext() {
    stats.ended(ok(100, 10), false);
    assertEquals(100, stats.avgLatencyMillis(), 1e-9);
    assertEquals(10, stats.avgTtftMillis(), 1e-9);
    stats.ended(ok(200, 20), false);
    assertEquals(110, stats.avgLatencyMillis(), 1e-9);
    assertEquals(11, stats.avgTtftMillis(), 1e-9);
    assertEquals(110, load.latencyEwmaMillis(), 1e-9);
    assertEquals(11, load.ttftEwmaMillis(), 1e-9);
  }

  @Test
  void aCallWithoutAFirstChunkLeavesTheTimeToFirstChunkAlone() {
    stats.ended(ok(100, 10), false);
    stats.ended(new ProviderActor.Release(1, 300_000_000, null, null, false), false);
    assertEquals(10, stats.avgTtftMillis(), 1e-9);
    assertEquals(1, stats.timeToFirstChunkMillis().samples());
    assertEquals(2, stats.latencyMillis().samples());
  }

  @Test
  void percentilesByNearestRankOverTheLatestCalls() {
    assertNull(stats.latencyMillis());
    for (int i = 1; i <= ProviderStats.LATENCY_WINDOW + 100; i++) {
      stats.ended(ok(i, -1), false);
    }
    // Only the latest 256 (101..356) count.
    ProviderStatus.Percentiles p = stats.latencyMillis();
    assertEquals(ProviderStats.LATENCY_WINDOW, p.samples());
    assertEquals(new ProviderStatus.Percentiles(228, 344, 354, 256), p);
  }

  @Test
  void theErrorRateCountsProviderFaultsAmongTheLatestHundredCalls() {
    for (int i = 0; i < 50; i++) {
      stats.ended(failed("boom", false), true);
    }
    for (int i = 0; i < 50; i++) {
      stats.ended(ok(1, -1), false);
    }
    assertEquals(100, stats.recentCalls());
    assertEquals(0.5, stats.recentErrorRate(), 1e-9);
    for (int i = 0; i < 50; i++) {
      stats.ended(ok(1, -1), false);
    }
    assertEquals(100, stats.recentCalls());
    assertEquals(0.0, stats.recentErrorRate(), 1e-9, "the faults fell out of the window");
  }

  @Test
  void failuresCountEveryErrorButCancellationsAndKeepTheLastMessage() {
    stats.admitted();
    stats.admitted();
    stats.admitted();
    // A caller's error is a failure, but not the provider's fault: it does not raise the error rate.
    stats.ended(new ProviderActor.Release(1, 1, ErrorKind.INVALID_REQUEST, "bad request", false), false);
    stats.ended(failed("gone", true), false);
    assertEquals(3, stats.requests());
    assertEquals(1, stats.failures());
    assertEquals("bad request", stats.lastError());
    assertEquals(42, stats.lastErrorAtMillis());
    assertEquals(1, stats.recentCalls(), "a cancelled call is not in the window");
    assertEquals(0.0, stats.recentErrorRate());
  }
}
