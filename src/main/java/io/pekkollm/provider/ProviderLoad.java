package io.pekkollm.provider;

/**
 * A live, lock-free view of one provider's load and health, written only by its {@link ProviderActor} and read
 * by routing (least-busy, least-latency, skipping open breakers) and by metrics gauges, so neither has to ask
 * the actor on the hot path. Values are each up to date on their own, not a consistent snapshot; for that ask
 * the actor ({@link ProviderActor.GetStatus}). Created by the supervisor and kept across actor restarts.
 */
public final class ProviderLoad {
  /** {@link #breakerState()} values. */
  public static final int CLOSED = 0;
  public static final int HALF_OPEN = 1;
  public static final int OPEN = 2;

  private final String provider;
  private volatile int inFlight;
  private volatile int queued;
  private volatile int breakerState;
  private volatile int openModelBreakers;
  private volatile double ttftEwmaMillis;
  private volatile double latencyEwmaMillis;
  private volatile long breakerOpens;
  private volatile long rejectedCircuitOpen;
  private volatile long rejectedQueueFull;
  private volatile long rejectedQueueTimeout;
  private volatile long rejectedRateLimited;

  public ProviderLoad(String provider) {
    this.provider = provider;
  }

  public String provider() { return provider; }
  /** Calls admitted and not finished. */
  public int inFlight() { return inFlight; }
  /** Calls waiting for admission. */
  public int queued() { return queued; }
  /** The provider-wide breaker: {@link #CLOSED}, {@link #HALF_OPEN} or {@link #OPEN}. */
  public int breakerState() { return breakerState; }
  /** With per-model breakers: how many are open or half-open. */
  public int openModelBreakers() { return openModelBreakers; }
  /** Exponentially weighted mean time to first chunk, ms; 0 before the first measurement. */
  public double ttftEwmaMillis() { return ttftEwmaMillis; }
  /** Exponentially weighted mean duration of whole calls, ms; 0 before the first. */
  public double latencyEwmaMillis() { return latencyEwmaMillis; }
  /** How often a breaker of this provider opened. */
  public long breakerOpens() { return breakerOpens; }
  public long rejectedCircuitOpen() { return rejectedCircuitOpen; }
  public long rejectedQueueFull() { return rejectedQueueFull; }
  public long rejectedQueueTimeout() { return rejectedQueueTimeout; }
  /** Refused because a known wait (Retry-After, reset time) exceeded the queue timeout. */
  public long rejectedRateLimited() { return rejectedRateLimited; }

  // Writers: the provider's actor only (one writer, so the non-atomic increments are safe).
  void inFlight(int value) { inFlight = value; }
  void queued(int value) { queued = value; }
  void breakerState(int value) { breakerState = value; }
  void openModelBreakers(int value) { openModelBreakers = value; }
  void ttftEwmaMillis(double value) { ttftEwmaMillis = value; }
  void latencyEwmaMillis(double value) { latencyEwmaMillis = value; }
  @SuppressWarnings("NonAtomicVolatileUpdate")
  void breakerOpened() { breakerOpens++; }
  @SuppressWarnings("NonAtomicVolatileUpdate")
  void rejectedCircuitOpen(long n) { rejectedCircuitOpen += n; }
  @SuppressWarnings("NonAtomicVolatileUpdate")
  void rejectedQueueFull(long n) { rejectedQueueFull += n; }
  @SuppressWarnings("NonAtomicVolatileUpdate")
  void rejectedQueueTimeout(long n) { rejectedQueueTimeout += n; }
  @SuppressWarnings("NonAtomicVolatileUpdate")
  void rejectedRateLimited(long n) { rejectedRateLimited += n; }

  void reset() {
    inFlight = 0;
    queued = 0;
    breakerState = CLOSED;
    openModelBreakers = 0;
  }
}
