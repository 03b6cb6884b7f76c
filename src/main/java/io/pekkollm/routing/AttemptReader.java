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
   * Attempt {@code number} (1, 2, ... on this model) on {@code candidate}, telling {@code progress} what of it
   * reaches the caller.
   */
  R read(Candidate candidate, int number, Progress progress);

  /** What of an attempt's answer has reached the caller, told by the reader as it happens. */
  interface Progress {
    /**
     * The attempt's first chunk carries nothing yet (the role-only chunk OpenAI-compatible servers send as soon
     * as they accept a request). It may go to the caller at once, since it shows nothing a retry would change;
     * false when an earlier attempt's such chunk already did, and this one is to be dropped.
     */
    boolean lead();

    /** Content reached the caller: the call is committed to this attempt's model. */
    void commit();
  }

  /**
   * {@code result}, continued with {@code then} of its failure when {@code handles} accepts it (and the failure
   * is the caller's otherwise). {@code handles} is pure; it may be asked more than once.
   */
  R recover(R result, Predicate<Throwable> handles, Function<Throwable, R> then);

  /** {@code then} after {@code delay}; the wait begins now. */
  R after(Duration delay, Supplier<R> then);
}
