package io.pekkollm.api;

import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.ProviderException;
import io.pekkollm.resilience.RetryPolicy;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.pekko.NotUsed;
import org.apache.pekko.japi.JavaPartialFunction;
import org.apache.pekko.pattern.Patterns;
import org.apache.pekko.stream.Graph;
import org.apache.pekko.stream.SourceShape;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One call's way through its models: attempts on the current model, retries with the provider's
 * {@link RetryPolicy}, and moves to the next model of a group, all decided only while nothing has reached the
 * caller. The first chunk commits the call to its model: a later failure ends the stream (the journal has
 * everything sent so far, and {@link LlmClient#resume} continues it). Used by one materialization of one call;
 * its stream stages run one at a time, so plain fields suffice.
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
final class ResilientCall {
  private static final Logger LOG = LoggerFactory.getLogger(ResilientCall.class);

  private final LlmClient client;
  private final LlmClient.Plan plan;
  private final List<LlmClient.Prepared> order;
  private final boolean streaming;
  private final CallInfo info;
  private int index;
  private int attempt;
  private boolean committed;

  ResilientCall(LlmClient client, LlmClient.Plan plan, List<LlmClient.Prepared> order, boolean streaming,
      CallInfo info) {
    this.client = client;
    this.plan = plan;
    this.order = order;
    this.streaming = streaming;
    this.info = info;
  }

  Source<ChatChunk, NotUsed> start() {
    return next();
  }

  private Source<ChatChunk, NotUsed> next() {
    LlmClient.Prepared current = order.get(index);
    attempt++;
    return client.attempt(current, streaming)
        .map(c -> {
          if (!committed) {
            committed = true;
            info.served(current.id(), current.truncation());
          }
          return c;
        })
        .recoverWithRetries(1, new JavaPartialFunction<Throwable, Graph<SourceShape<ChatChunk>, NotUsed>>() {
          @Override
          public Graph<SourceShape<ChatChunk>, NotUsed> apply(Throwable t, boolean isCheck) {
            Decision d = decide(t);
            if (d == null) {
              throw noMatch();
            }
            return isCheck ? null : act(d, (LlmException) t);
          }
        });
  }

  /** What to do next; null: give the error to the caller. Pure, so it can be asked twice. */
  private Decision decide(Throwable t) {
    if (committed || !(t instanceof LlmException e) || e.kind() == ErrorKind.CANCELLED) {
      return null;
    }
    LlmClient.Prepared current = order.get(index);
    boolean hasNext = index + 1 < order.size();
    boolean local = isLocalRefusal(e);
    if (hasNext && (local || movesOnAtOnce(e.kind()))) {
      return Decision.fallback(reason(e));
    }
    RetryPolicy policy = policy(current);
    if (!local && e.isRetryable() && attempt < policy.maxAttempts()) {
      Optional<Duration> delay = policy.delay(e, attempt, random());
      if (delay.isPresent()) {
        return Decision.retry(delay.get());
      }
    }
    if (hasNext && (e.isRetryable() || movesOnAtOnce(e.kind()))) {
      return Decision.fallback(reason(e));
    }
    return null;
  }

  private Source<ChatChunk, NotUsed> act(Decision d, LlmException e) {
    var system = client.actorSystem();
    return act(d, e, delay -> delay.isZero() ? next()
        : Source.completionStageSource(Patterns.after(delay, system.classicSystem().scheduler(),
                system.executionContext(), () -> CompletableFuture.completedFuture(next())))
            .mapMaterializedValue(m -> NotUsed.getInstance()));
  }

  /**
   * Carries out {@code d}: a fallback moves to the next model and continues at once ({@code go} with zero), a retry
   * continues after its delay ({@code go} with the delay, called before the retry is counted, so whoever sees the
   * count knows the wait has begun). Returns what {@code go} returned.
   */
  private <R> R act(Decision d, LlmException e, java.util.function.Function<Duration, R> go) {
    LlmClient.Prepared current = order.get(index);
    if (d.delay() == null) {
      LlmClient.Prepared to = order.get(index + 1);
      LOG.info("{} of model group '{}' failed after {} attempt(s) ({}: {}); falling back to {}", current.id(),
          plan.group().name(), attempt, e.kind(), e.getMessage(), to.id());
      client.meters().fellBack(plan.group().name(), current.id(), d.reason());
      index++;
      attempt = 0;
      return go.apply(Duration.ZERO);
    }
    int failed = attempt;
    R retry = go.apply(d.delay());
    LOG.info("{} failed on attempt {} of {} ({}: {}); retrying in {} ms", current.id(), failed,
        policy(current).maxAttempts(), e.kind(), e.getMessage(), d.delay().toMillis());
    client.meters().retried(current.route().provider(), current.route().model(), e.kind());
    return retry;
  }

  /**
   * The same call for a non-streamed answer, without a stream: the attempts are chained futures, deciding retries
   * and fallbacks exactly as {@link #start()} does. Completes with the chunks of the attempt that succeeded.
   */
  CompletionStage<List<ChatChunk>> whole() {
    CompletableFuture<List<ChatChunk>> result = new CompletableFuture<>();
    wholeAttempt(result);
    return result;
  }

  private void wholeAttempt(CompletableFuture<List<ChatChunk>> result) {
    LlmClient.Prepared current = order.get(index);
    attempt++;
    client.attemptWhole(current).whenComplete((chunks, err) -> {
      if (err == null) {
        committed = true;
        info.served(current.id(), current.truncation());
        result.complete(chunks);
        return;
      }
      Throwable t = io.pekkollm.util.Futures.cause(err);
      Decision d = decide(t);
      if (d == null) {
        result.completeExceptionally(t);
        return;
      }
      act(d, (LlmException) t, delay -> {
        if (delay.isZero()) {
          wholeAttempt(result);
        } else {
          var system = client.actorSystem();
          system.scheduler().scheduleOnce(delay, () -> wholeAttempt(result), system.executionContext());
        }
        return null;
      });
    });
  }

  private RetryPolicy policy(LlmClient.Prepared p) {
    RetryPolicy base = client.providerSettings(p.route().provider()).resilience().retry();
    return plan.request().retry() == null ? base : base.withMaxAttempts(plan.request().retry().maxAttempts());
  }

  /** Refused by this library before reaching the provider; retrying the same provider at once cannot help. */
  private static boolean isLocalRefusal(LlmException e) {
    if (e instanceof ProviderException pe && pe.status() == 0 && pe.errorCode() != null) {
      String code = pe.errorCode();
      return code.equals("circuit_open") || code.equals("queue_full") || code.equals("queue_timeout")
          || code.equals("local_rate_limit");
    }
    return false;
  }

  private static boolean movesOnAtOnce(ErrorKind kind) {
    return switch (kind) {
      case RATE_LIMITED, OVERLOADED, QUOTA_EXCEEDED, CONTEXT_LENGTH_EXCEEDED -> true;
      default -> false;
    };
  }

  private static String reason(LlmException e) {
    return e.errorCode() != null && isLocalRefusal(e) ? e.errorCode() : e.kind().name().toLowerCase(java.util.Locale.ROOT);
  }

  private static double random() {
    return ThreadLocalRandom.current().nextDouble();
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
