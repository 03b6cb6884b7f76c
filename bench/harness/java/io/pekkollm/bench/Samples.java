package io.pekkollm.bench;

import java.util.Arrays;

/** Latency samples in nanoseconds; percentiles by sorting. Not thread-safe: one per recording thread, then merged. */
final class Samples {
  private long[] values = new long[1024];
  private int size;
  private boolean sorted;

  synchronized void add(long nanos) {
    if (size == values.length) {
      values = Arrays.copyOf(values, size * 2);
    }
    values[size++] = nanos;
    sorted = false;
  }

  synchronized void addAll(Samples other) {
    long[] o;
    int n;
    synchronized (other) {
      o = other.values;
      n = other.size;
    }
    for (int i = 0; i < n; i++) {
      add(o[i]);
    }
  }

  synchronized int count() {
    return size;
  }

  /** The p-th percentile (0..100), nearest rank, in milliseconds; NaN when empty. */
  synchronized double ms(double p) {
    if (size == 0) {
      return Double.NaN;
    }
    if (!sorted) {
      Arrays.sort(values, 0, size);
      sorted = true;
    }
    int rank = (int) Math.ceil(p / 100.0 * size);
    return values[Math.min(size - 1, Math.max(0, rank - 1))] / 1e6;
  }

  synchronized double meanMs() {
    if (size == 0) {
      return Double.NaN;
    }
    double sum = 0;
    for (int i = 0; i < size; i++) {
      sum += values[i];
    }
    return sum / size / 1e6;
  }
}
