package io.pekkollm.routing;

import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.provider.ErrorClassifier;
import io.pekkollm.resilience.RetryPolicy;
import io.pekkollm.stream.CallInfo;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One call's way through its models, for either {@linkplain AttemptReader reader}: attempts on the current
 * model, retries with the provider's {@link RetryPolicy}, and moves to the next model of a group, all decided
 * only while nothing has reached the caller. The first chunk with content commits the call to its model: a later
 * failure ends the stream (the journal has everything sent so far, and a resume continues it). An empty first
 * chunk (a role-only chunk) goes to the caller at once and allows only retries on the same model after it. Used by one run of one call;
 * its steps run one at a time, so plain fields suffice.
 *
 * <p>On a failure before the first chunk:
 * <ol>
 *   <li>a refusal by our own breaker or queue ({@code circuit_open}, {@code queue_full}, {@code queue_timeout}),
 *   a rate limit or overload (429, 503, 529), exhausted quota or a context window too small move at once to the
 *   next model when there is one: their cause is this model's provider, and waiting would not help the caller
 *   as much as another model can;</li>
 *   <li>another retryable error (5xx, timeouts, refused or broken connections) is retried on the same model
 *   while its attempts last, after the provider's Retry-After or the jittered backoff (a Retry-After above
 *   {@code max-retry-after} is not waited for);</li>
 *   <li>then, if retryable or one of the kinds above, the next model; otherwise the error goes to the caller.</li>
 * </ol>
 */
final class ResilientCall<R> {
  private static final Logger LOG = LoggerFactory.getLogger(ResilientCall.class);

  private final AttemptRunner runner;
  private final Plan plan;
  private final List<Candidate> order;
  private final AttemptReader<R> reader;
  private final CallInfo info;
  private int index;
  private int attempt;
  private boolean committed;
  // An empty first chunk reached the caller: the served model is told, so only retries on it remain.
  private boolean leadSent;

  ResilientCall(AttemptRunner runner, Plan plan, List<Candidate> order, AttemptReader<R> reader, CallInfo info) {
    this.runner = runner;
    this.plan = plan;
    this.order = order;
    this.reader = reader;
    this.info = info;
  }

  R start() {
    Candidate current = order.get(index);
    attempt++;
    R result = reader.read(current, attempt, new AttemptReader.Progress() {
      @Override
      public boolean lead() {
        if (committed || leadSent) {
          return false;
        }
        leadSent = true;
        info.served(current.id(), current.truncation());
        return true;
      }

      @Override
      public void commit() {
        if (!committed) {
          committed = true;
          info.served(current.id(), current.truncation());
        }
      }
    });
    return reader.recover(result, t -> decide(t) != null, t -> act(decide(t), (LlmException) t));
  }

  /** What to do next; null: give the error to the caller. Pure, so it can be asked twice. */
  private Decision decide(Throwable t) {
    if (committed || !(t instanceof LlmException e) || e.kind() == ErrorKind.CANCELLED) {
      return null;
    }
    Candidate current = order.get(index);
    boolean hasNext = index + 1 < order.size();
    boolean local = ErrorClassifier.isLocalRefusal(e);
    if (leadSent) {
      // The caller has an empty first event and the served model's name: the same model may still be retried
      // (its next first chunk is dropped), another may not.
      hasNext = false;
    }
    if (hasNext && (local || ErrorClassifier.movesToNextModel(e.kind()))) {
      return Decision.fallback(reason(e));
    }
    RetryPolicy policy = policy(current);
    if (!local && e.isRetryable() && attempt < policy.maxAttempts()) {
      Optional<Duration> delay = policy.delay(e, attempt, ThreadLocalRandom.current().nextDouble());
      if (delay.isPresent()) {
        return Decision.retry(delay.get());
      }
    }
    if (hasNext && (e.isRetryable() || ErrorClassifier.movesToNextModel(e.kind()))) {
      return Decision.fallback(reason(e));
    }
    return null;
  }

  /**
   * Carries out {@code d}: a fallback moves to the next model and continues at once, a retry continues after its
   * delay (whose wait begins before the retry is counted, so whoever sees the count knows the wait has begun).
   */
  private R act(Decision d, LlmException e) {
    Candidate current = order.get(index);
    if (d.delay() == null) {
      Candidate to = order.get(index + 1);
      LOG.info("{} of model group '{}' failed after {} attempt(s) ({}: {}); falling back to {}", current.id(),
          plan.group().name(), attempt, e.kind(), e.getMessage(), to.id());
      runner.metrics().fellBack(plan.group().name(), current.id(), d.reason());
      index++;
      attempt = 0;
      return start();
    }
    int failed = attempt;
    R retry = reader.after(d.delay(), this::start);
    LOG.info("{} failed on attempt {} of {} ({}: {}); retrying in {} ms", current.id(), failed,
        policy(current).maxAttempts(), e.kind(), e.getMessage(), d.delay().toMillis());
    runner.metrics().retried(current.route().provider(), current.route().model(), e.kind());
    return retry;
  }

  private RetryPolicy policy(Candidate c) {
    RetryPolicy base = runner.settings(c).resilience().retry();
    return plan.request().retry() == null ? base : base.withMaxAttempts(plan.request().retry().maxAttempts());
  }

  private static String reason(LlmException e) {
    return e.errorCode() != null && ErrorClassifier.isLocalRefusal(e) ? e.errorCode() : e.kind().name().toLowerCase(Locale.ROOT);
  }

  /** Retry the same model after {@code delay}, or (delay null) fall back to the next model. */
  private record Decision(Duration delay, String reason) {
    static Decision retry(Duration delay) {
      return new Decision(delay, null);
    }

    static Decision fallback(String reason) {
      return new Decision(null, reason);
    }
  }
}
