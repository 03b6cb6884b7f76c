package io.pekkollm.provider;

import io.pekkollm.resilience.BreakerSettings;
import java.time.Duration;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.Scheduler;
import org.apache.pekko.pattern.CircuitBreaker;

/**
 * One Pekko {@link CircuitBreaker} driven by its provider actor through the "power API" ({@code isOpen},
 * {@code succeed}, {@code fail}): calls are streams that outlive any future, so the actor reports each call's
 * outcome when it ends instead of wrapping it. Only the actor (through {@link BreakerSet}) calls {@link #fail},
 * {@link #succeed} and the probe methods, so the transitions to open and closed happen on its thread and this
 * class can mirror what Pekko keeps private: when the breaker opened and for how long (Pekko's doubling of the
 * reset timeout after each failed probe, kept below {@code max-reset-timeout}). The transition to half-open
 * happens on Pekko's scheduler. Its state changes only through its own methods.
 *
 * <p>The failure-rate rule is ours: a ring of the last {@code failure-rate-window} outcomes; when it trips, the
 * breaker is failed until Pekko opens it. Not thread-safe: the actor's only.
 */
final class Breaker {
  private final CircuitBreaker breaker;
  private final BreakerSettings settings;
  private final LongSupplier clock;
  private final String model;
  private final OutcomeWindow outcomes;
  private int consecutiveFailures;
  private long openedAtNanos;
  private long openForNanos;
  private long nextOpenForNanos;
  /** The permit of the half-open probe in flight, 0 when none. */
  private long probePermit;

  Breaker(BreakerSettings settings, String model, Scheduler scheduler, LongSupplier clock, Runnable onHalfOpen) {
    this.settings = settings;
    this.model = model;
    this.clock = clock;
    this.breaker = CircuitBreaker.create(scheduler, settings.maxFailures(), Duration.ZERO, settings.resetTimeout())
        .withExponentialBackoff(settings.maxResetTimeout())
        .addOnHalfOpenListener(onHalfOpen);
    this.outcomes = new OutcomeWindow(settings.failureRateWindow());
    this.nextOpenForNanos = settings.resetTimeout().toNanos();
  }

  /** The model this breaker guards, null for the whole provider. */
  String model() {
    return model;
  }

  boolean isOpen() {
    return breaker.isOpen();
  }

  boolean isHalfOpen() {
    return breaker.isHalfOpen();
  }

  boolean isClosed() {
    return breaker.isClosed();
  }

  /** {@link ProviderLoad} state constant. */
  int state() {
    return breaker.isOpen() ? ProviderLoad.OPEN : breaker.isHalfOpen() ? ProviderLoad.HALF_OPEN : ProviderLoad.CLOSED;
  }

  /** Time until the breaker lets a probe through; zero once half-open. */
  Duration remaining() {
    if (!breaker.isOpen()) {
      return Duration.ZERO;
    }
    return Duration.ofNanos(Math.max(0, openForNanos - (clock.getAsLong() - openedAtNanos)));
  }

  /** A call the provider served (or refused for the caller's own fault). Returns true when this closed it. */
  boolean succeed() {
    boolean wasHalfOpen = breaker.isHalfOpen();
    breaker.succeed();
    consecutiveFailures = 0;
    record(false);
    if (wasHalfOpen && breaker.isClosed()) {
      nextOpenForNanos = settings.resetTimeout().toNanos();
      return true;
    }
    return false;
  }

  /** A call that failed by the provider's fault. Returns true when this opened the breaker. */
  boolean fail() {
    boolean wasOpen = breaker.isOpen();
    breaker.fail();
    consecutiveFailures++;
    record(true);
    if (breaker.isClosed() && settings.failureRateThreshold() > 0 && outcomes.count() >= settings.failureRateMinCalls()
        && outcomes.failures() >= settings.failureRateThreshold() * outcomes.count()) {
      // Pekko opens only on consecutive failures; fail it until it does (at most max-failures calls).
      for (int i = 0; i < settings.maxFailures() && breaker.isClosed(); i++) {
        breaker.fail();
      }
    }
    if (!wasOpen && breaker.isOpen()) {
      opened();
      return true;
    }
    return false;
  }

  private void opened() {
    openedAtNanos = clock.getAsLong();
    openForNanos = nextOpenForNanos;
    // Pekko's Open state: the next open time is doubled unless that reaches max-reset-timeout.
    long doubled = nextOpenForNanos * 2;
    if (doubled < settings.maxResetTimeout().toNanos()) {
      nextOpenForNanos = doubled;
    }
    outcomes.clear();
    consecutiveFailures = 0;
  }

  private void record(boolean failure) {
    if (settings.failureRateThreshold() > 0) {
      outcomes.add(failure);
    }
  }

  /**
   * Admits the call of {@code permit}: while half-open, it becomes the one probe (the caller checked
   * {@link #probing()} first). Returns true when it is the probe.
   */
  boolean admit(long permit) {
    if (breaker.isHalfOpen()) {
      probePermit = permit;
      return true;
    }
    return false;
  }

  /** Whether a half-open probe is in flight, so other calls must wait for its outcome. */
  boolean probing() {
    return probePermit != 0;
  }

  /**
   * The call of {@code permit} ended (or was cancelled, which says nothing about the provider: the next call
   * probes instead). Returns true when it was the probe.
   */
  boolean probeEnded(long permit) {
    if (probePermit != 0 && probePermit == permit) {
      probePermit = 0;
      return true;
    }
    return false;
  }

  /** Closed with nothing remembered: a per-model breaker in this state can be dropped. */
  boolean isIdle() {
    return breaker.isClosed() && outcomes.failures() == 0 && consecutiveFailures == 0 && probePermit == 0;
  }
}
