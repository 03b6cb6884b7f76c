package io.pekkollm.provider;

import java.util.Arrays;

/**
 * The latest {@code capacity} measurements of something (call latency, time to first chunk), for percentiles
 * of recent behaviour: recording is one array write, and the sort happens only when a status is asked for.
 * Not thread-safe: its actor's only.
 */
final class Samples {
  private final double[] values;
  private int count;
  private int next;

  Samples(int capacity) {
    this.values = new double[capacity];
  }

  void add(double value) {
    values[next] = value;
    next = (next + 1) % values.length;
    if (count < values.length) {
      count++;
    }
  }

  /** p50, p95 and p99 by nearest rank; null before the first sample. */
  ProviderStatus.Percentiles percentiles() {
    if (count == 0) {
      return null;
    }
    double[] sorted = Arrays.copyOf(values, count);
    Arrays.sort(sorted);
    return new ProviderStatus.Percentiles(rank(sorted, 0.50), rank(sorted, 0.95), rank(sorted, 0.99), count);
  }

  private static double rank(double[] sorted, double p) {
    int i = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }

  void clear() {
    count = 0;
    next = 0;
  }
}
