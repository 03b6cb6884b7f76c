package io.pekkollm.provider;

import io.pekkollm.model.LlmException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;

/**
 * The calls waiting to start on one provider: a bounded FIFO of {@link ProviderActor.Acquire}s in arrival order,
 * each with a ticket whose timer ({@code queue-timeout}, through {@link Timeouts}) refuses it if it is still
 * waiting then. {@link #drain} starts, first come first served, every waiting call that may start now; one that
 * must wait for something only it needs (its model's reported limit, its token estimate) does not hold up the
 * others behind it. Not thread-safe: its actor's only.
 */
final class AdmissionQueue {
  /** One waiting call and the ticket of its timeout timer. */
  record Waiting(long ticket, ProviderActor.Acquire acquire) {}

  /** The timers of the queue timeouts, keyed by ticket; when one fires its owner calls {@link #expire}. */
  interface Timeouts {
    void start(long ticket, Duration after);

    void cancel(long ticket);
  }

  private final String provider;
  private final int capacity;
  private final Duration timeout;
  private final Timeouts timeouts;
  private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
  private long nextTicket = 1;

  /** A queue of at most {@code capacity} calls of {@code provider}, each waiting at most {@code timeout}. */
  AdmissionQueue(String provider, int capacity, Duration timeout, Timeouts timeouts) {
    this.provider = provider;
    this.capacity = capacity;
    this.timeout = timeout;
    this.timeouts = timeouts;
  }

  int size() {
    return waiting.size();
  }

  int capacity() {
    return capacity;
  }

  boolean isEmpty() {
    return waiting.isEmpty();
  }

  /** Puts {@code acquire} at the back and starts its timeout; null when the queue is full (see {@link #full}). */
  Waiting offer(ProviderActor.Acquire acquire) {
    if (waiting.size() >= capacity) {
      return null;
    }
    Waiting w = new Waiting(nextTicket++, acquire);
    waiting.addLast(w);
    timeouts.start(w.ticket(), timeout);
    return w;
  }

  /**
   * The refusal of a call that found the queue full: kind RATE_LIMITED, code {@code queue_full}, with
   * {@code why} it could not start and a Retry-After of its wait ({@code waitNanos}; 1 s when unknown).
   */
  LlmException full(String why, long waitNanos) {
    return ErrorClassifier.queueFull(provider, waiting.size(), why, AdmissionLimits.retryAfter(waitNanos));
  }

  /** The timeout of {@code ticket} fired: removes and returns its call; null when it is no longer waiting. */
  ProviderActor.Acquire expire(long ticket) {
    Iterator<Waiting> it = waiting.iterator();
    while (it.hasNext()) {
      Waiting w = it.next();
      if (w.ticket() == ticket) {
        it.remove();
        return w.acquire();
      }
    }
    return null;
  }

  /** The refusal of a call that waited its whole timeout: kind RATE_LIMITED, code {@code queue_timeout}. */
  LlmException timedOut(String why, long waitNanos) {
    return ErrorClassifier.queueTimeout(provider, timeout, why, AdmissionLimits.retryAfter(waitNanos));
  }

  /**
   * Hands every waiting call that may start now ({@code waitFor} says 0 nanoseconds) to {@code start}, in arrival
   * order, skipping the ones that must wait longer; stops at the first that may not start before a running call
   * ends ({@code Long.MAX_VALUE}), as that holds all alike. {@code waitFor} is asked again after each start, since
   * a start uses up limits. Returns the nanoseconds until the first skipped call may start, or
   * {@code Long.MAX_VALUE} when none is known.
   */
  long drain(ToLongFunction<ProviderActor.Acquire> waitFor, Consumer<Waiting> start) {
    long next = Long.MAX_VALUE;
    Iterator<Waiting> it = waiting.iterator();
    while (it.hasNext()) {
      Waiting w = it.next();
      long wait = waitFor.applyAsLong(w.acquire());
      if (wait == Long.MAX_VALUE) {
        break;
      }
      if (wait > 0) {
        next = Math.min(next, wait);
        continue;
      }
      it.remove();
      timeouts.cancel(w.ticket());
      start.accept(w);
    }
    return next;
  }

  /** Removes (and cancels the timeouts of) the waiting calls that {@code which} selects, in arrival order. */
  List<Waiting> removeIf(Predicate<ProviderActor.Acquire> which) {
    List<Waiting> removed = new ArrayList<>();
    Iterator<Waiting> it = waiting.iterator();
    while (it.hasNext()) {
      Waiting w = it.next();
      if (which.test(w.acquire())) {
        it.remove();
        timeouts.cancel(w.ticket());
        removed.add(w);
      }
    }
    return removed;
  }

  /** Empties the queue, returning what waited; the timers are left to end with their owner. */
  List<Waiting> clear() {
    List<Waiting> all = new ArrayList<>(waiting);
    waiting.clear();
    return all;
  }
}
