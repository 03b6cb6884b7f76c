package io.pekkollm.routing;

import java.time.Duration;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * How a call's answer is read: as a stream of chunks ({@code R} a {@code Source}) or whole ({@code R} a future of
 * the chunks). {@link ResilientCall} drives both through this one interface, so retries, fallbacks, time limits,
 * admission and reporting are decided in one place whatever the reader; a reader only says how to run one
 * attempt, how to continue after a failure, and how to wait.
 */
interface AttemptReader<R> {

  /**
   * Attempt {@code number} (1, 2, ... on this model) on {@code candidate}; {@code commit} runs when the answer starts
   * reaching the caller.
   */
  R read(Candidate candidate, int number, Runnable commit);

  /**
   * {@code result}, continued with {@code then} of its failure when {@code handles} accepts it (and the failure
   * is the caller's otherwise). {@code handles} is pure; it may be asked more than once.
   */
  R recover(R result, Predicate<Throwable> handles, Function<Throwable, R> then);

  /** {@code then} after {@code delay}; the wait begins now. */
  R after(Duration delay, Supplier<R> then);
}
