package io.pekkollm.provider;

/**
 * Whether each of the latest {@code capacity} calls failed, as a ring: the share of failures among recent calls
 * for a provider's error rate and for a breaker's failure-rate rule. Recording is one array write. Not
 * thread-safe: its actor's only.
 */
final class OutcomeWindow {
  private final byte[] outcomes;
  private int count;
  private int next;
  private int failures;

  OutcomeWindow(int capacity) {
    this.outcomes = new byte[capacity];
  }

  /** Records one call; the oldest falls out once the window is full. */
  void add(boolean failure) {
    if (count == outcomes.length) {
      failures -= outcomes[next];
    } else {
      count++;
    }
    outcomes[next] = (byte) (failure ? 1 : 0);
    failures += failure ? 1 : 0;
    next = (next + 1) % outcomes.length;
  }

  /** Calls in the window, at most its capacity. */
  int count() {
    return count;
  }

  /** Of those, the failed ones. */
  int failures() {
    return failures;
  }

  /** Failures per call in the window; 0 when empty. */
  double failureRate() {
    return count == 0 ? 0 : (double) failures / count;
  }

  void clear() {
    count = 0;
    next = 0;
    failures = 0;
  }
}
