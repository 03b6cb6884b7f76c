package io.pekkollm.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The ring of recent outcomes behind error rates and the breaker's failure-rate rule. */
class OutcomeWindowTest {

  @Test
  void countsTheLatestOutcomesOnlyAndClears() {
    OutcomeWindow w = new OutcomeWindow(4);
    assertEquals(0.0, w.failureRate());
    w.add(true);
    w.add(true);
    w.add(false);
    assertEquals(3, w.count());
    assertEquals(2, w.failures());
    w.add(false);
    w.add(false);
    // The first failure fell out: [true, false, false, false].
    assertEquals(4, w.count());
    assertEquals(1, w.failures());
    assertEquals(0.25, w.failureRate());
    w.add(false);
    assertEquals(0, w.failures());
    w.clear();
    assertEquals(0, w.count());
    w.add(true);
    assertEquals(1.0, w.failureRate());
  }
}
