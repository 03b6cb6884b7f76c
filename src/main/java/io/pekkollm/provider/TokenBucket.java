package io.pekkollm.provider;

/**
 * A per-minute allowance refilled continuously: holds at most {@code perMinute}, gains {@code perMinute / 60}
 * per second. Time comes from the actor's clock (nanoseconds), so tests can drive it. A take may overdraw it
 * (a call whose token estimate exceeds what is left still starts once the bucket is full), and the usage
 * correction at a call's end may push it either way. Not thread-safe: its actor's only.
 */
final class TokenBucket {
  private final double capacity;
  private final double perNano;
  private double available;
  private long updatedAt;

  TokenBucket(long perMinute, long now) {
    this.capacity = perMinute;
    this.perNano = perMinute / 60e9;
    this.available = perMinute;
    this.updatedAt = now;
  }

  private void refill(long now) {
    if (now > updatedAt) {
      available = Math.min(capacity, available + (now - updatedAt) * perNano);
      updatedAt = now;
    }
  }

  /** Nanoseconds until {@code amount} (at most the capacity) is available; 0 when it is now. */
  long waitFor(double amount, long now) {
    refill(now);
    double need = Math.min(amount, capacity) - available;
    return need <= 0 ? 0 : (long) Math.ceil(need / perNano);
  }

  void take(double amount, long now) {
    refill(now);
    available -= amount;
  }

  /** Gives back (positive) or takes more (negative) after the fact. */
  void adjust(double amount, long now) {
    refill(now);
    available = Math.min(capacity, available + amount);
  }

  double available(long now) {
    refill(now);
    return available;
  }
}
