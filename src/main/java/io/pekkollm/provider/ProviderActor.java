package io.pekkollm.provider;

import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.resilience.RateLimitHeaders;
import io.pekkollm.resilience.RateLimitSettings;
import io.pekkollm.resilience.ResilienceSettings;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.function.LongSupplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * One actor per configured provider. It owns the provider instance (created in {@code setup}, so a restart by
 * its supervisor builds a fresh one) and decides, for every call, whether it may start now:
 * <ul>
 *   <li><b>circuit breaker</b> (Pekko's {@code CircuitBreaker}, one for the provider or one per model, see
 *   {@link Breaker}): an open breaker refuses at once with kind OVERLOADED, code {@code circuit_open}, and a
 *   Retry-After of the time left; half-open, one probe call goes through;</li>
 *   <li><b>admission</b>: up to {@code max-in-flight} calls at once, configured requests and tokens per minute
 *   (token buckets), and what the provider reported (rate-limit headers, the Retry-After of a 429), per model.
 *   A call that may not start yet waits in a bounded queue for at most {@code rate-limit.queue-timeout}, and
 *   waiting calls start in arrival order as soon as they can (one waiting for its model's reported limit does not
 *   hold up calls to other models); a full queue refuses at once with kind RATE_LIMITED, code {@code queue_full},
 *   and a Retry-After, and so does a wait the provider itself announced that exceeds the queue timeout (code
 *   {@code local_rate_limit}).</li>
 * </ul>
 * Each call ends with a {@link Release} carrying its outcome, which moves the breaker (only errors
 * {@link ErrorClassifier#countsAgainstProvider} counts), the latency and error-rate windows behind
 * {@link ProviderStatus}, and the token allowance. The HTTP stream itself runs outside the actor: a slow stream
 * never blocks it. Time for the rate limits comes from an injected clock; queue timeouts, waits and breaker
 * reset use the actor system's scheduler (both manual in tests).
 *
 * <p>The actor only dispatches: the rules live in plain, single-threaded parts it owns — {@link AdmissionQueue}
 * (the waiting calls), {@link AdmissionLimits} (in-flight, token buckets, reported limits), {@link BreakerSet},
 * {@link ProviderStats} and {@link HealthProbe} — and it supplies their timers, replies and log lines.
 */
public final class ProviderActor extends AbstractBehavior<ProviderActor.Command> {
  // Bound of the models whose breakers and reported limits are remembered, whatever names callers send.
  private static final int MAX_TRACKED_MODELS = 1000;

  public sealed interface Command {}

  /**
   * Ask to start one call of {@code model} (the provider's own model id; null for calls about no model, such as
   * listing models) whose request is estimated at {@code estimatedTokens} (input plus max_tokens; 0 when
   * unknown). Replies {@link Granted} or {@link Denied}, at once or when the call leaves the queue.
   */
  public record Acquire(String model, long estimatedTokens, ActorRef<Admission> replyTo) implements Command {
    public Acquire(ActorRef<Admission> replyTo) {
      this(null, 0, replyTo);
    }
  }

  /**
   * A granted call ended. {@code error} is null on success; {@code cancelled} when the caller stopped it.
   * {@code firstChunkNanos} is the time to its first chunk (-1: none came); {@code retryAfter} the wait the
   * provider asked for with its error (null: none); {@code tokensUsed} the reported input plus output tokens (0:
   * not reported).
   */
  public record Release(long permit, long durationNanos, long firstChunkNanos, ErrorKind error, String errorMessage,
      Duration retryAfter, long tokensUsed, boolean cancelled) implements Command {
    public Release(long permit, long durationNanos, ErrorKind error, String errorMessage, boolean cancelled) {
      this(permit, durationNanos, -1, error, errorMessage, null, 0, cancelled);
    }
  }

  public record GetStatus(ActorRef<ProviderStatus> replyTo) implements Command {}

  private record WrappedRateLimits(String model, RateLimitHeaders.Learned learned) implements Command {}

  private record WrappedQueueTimeout(long ticket) implements Command {}

  private record WrappedHoldEnded(AdmissionLimits.HoldKey key) implements Command {}

  private record WrappedHealthCheck(HealthProbe.Result result) implements Command {}

  private enum Drain implements Command { INSTANCE }

  private enum BreakerHalfOpened implements Command { INSTANCE }

  private enum HealthCheckDue implements Command { INSTANCE }

  public sealed interface Admission {}

  public record Granted(long permit, ChatProvider provider) implements Admission {}

  public record Denied(LlmException error) implements Admission {}

  /** A granted call: what to account for when it is released. */
  private record Permit(String model, long estimatedTokens, Breaker breaker) {}

  private final ProviderSettings settings;
  private final ChatProvider provider;
  private final TimerScheduler<Command> timers;
  private final ProviderLoad load;
  private final Map<Long, Permit> permits = new HashMap<>();
  private final AdmissionLimits limits;
  private final AdmissionQueue queue;
  private final BreakerSet breakers;
  private final ProviderStats stats;
  private final HealthProbe health;
  private long nextPermit = 1;

  public static Behavior<Command> create(ProviderSettings settings, ProviderFactory factory) {
    return create(settings, factory, new ProviderLoad(settings.name()), System::nanoTime);
  }

  /**
   * The actor, publishing its load to {@code load} and reading time for its rate limits from {@code nanoClock}
   * (a {@link System#nanoTime()}-like clock).
   */
  public static Behavior<Command> create(ProviderSettings settings, ProviderFactory factory, ProviderLoad load,
      LongSupplier nanoClock) {
    return Behaviors.withTimers(timers -> Behaviors.setup(ctx -> new ProviderActor(ctx, timers, settings, factory,
        load, nanoClock)));
  }

  private ProviderActor(ActorContext<Command> ctx, TimerScheduler<Command> timers, ProviderSettings settings,
      ProviderFactory factory, ProviderLoad load, LongSupplier clock) {
    super(ctx);
    ResilienceSettings resilience = settings.resilience();
    RateLimitSettings rateLimit = resilience.rateLimit();
    ActorRef<Command> self = ctx.getSelf();
    this.settings = settings;
    this.timers = timers;
    this.load = load;
    load.reset();
    this.limits = new AdmissionLimits(settings.name(), settings.maxInFlight(), rateLimit, MAX_TRACKED_MODELS, clock,
        (key, after) -> timers.startSingleTimer(key, new WrappedHoldEnded(key), after));
    this.queue = new AdmissionQueue(settings.name(), rateLimit.queueSize(), rateLimit.queueTimeout(),
        new AdmissionQueue.Timeouts() {
          @Override
          public void start(long ticket, Duration after) {
            timers.startSingleTimer(ticket, new WrappedQueueTimeout(ticket), after);
          }

          @Override
          public void cancel(long ticket) {
            timers.cancel(ticket);
          }
        });
    this.breakers = new BreakerSet(settings.name(), resilience.breaker(), MAX_TRACKED_MODELS, load,
        model -> new Breaker(resilience.breaker(), model, ctx.getSystem().classicSystem().scheduler(), clock,
            () -> self.tell(BreakerHalfOpened.INSTANCE)));
    // Error text is kept (and shown in /health/providers) without this provider's credentials.
    io.pekkollm.util.Redactor redactor = settings.redactor();
    this.stats = new ProviderStats(load, System::currentTimeMillis, redactor::redact);
    this.health = new HealthProbe(resilience.healthCheckTimeout(), clock, System::currentTimeMillis,
        redactor::redact);
    this.provider = settings.enabled() ? factory.create(settings, ctx.getSystem()) : null;
    if (provider != null && rateLimit.learnFromHeaders()) {
      provider.observeRateLimits((model, l) -> self.tell(new WrappedRateLimits(model, l)));
    }
    if (provider != null && !resilience.healthCheckInterval().isZero()) {
      timers.startTimerWithFixedDelay(HealthCheckDue.INSTANCE, Duration.ZERO, resilience.healthCheckInterval());
    }
    ctx.getLog().debug("provider {} started: {}", settings.name(), settings);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Acquire.class, this::onAcquire)
        .onMessage(Release.class, this::onRelease)
        .onMessage(GetStatus.class, this::onGetStatus)
        .onMessage(WrappedRateLimits.class, this::onRateLimits)
        .onMessage(WrappedQueueTimeout.class, this::onQueueTimeout)
        .onMessage(WrappedHoldEnded.class, this::onHoldEnded)
        .onMessageEquals(Drain.INSTANCE, this::onDrain)
        .onMessageEquals(BreakerHalfOpened.INSTANCE, this::onBreakerHalfOpened)
        .onMessageEquals(HealthCheckDue.INSTANCE, this::onHealthCheckDue)
        .onMessage(WrappedHealthCheck.class, this::onHealthCheck)
        .onSignal(PreRestart.class, s -> closeProvider())
        .onSignal(PostStop.class, s -> closeProvider())
        .build();
  }

  // ------------------------------------------------------------------ admission

  private Behavior<Command> onAcquire(Acquire msg) {
    if (provider == null) {
      deny(msg, new LlmException(ErrorKind.AUTHENTICATION, settings.disabledReason()));
    } else if (!refusedByBreaker(msg)) {
      admitOrQueue(msg);
    }
    return this;
  }

  private void admitOrQueue(Acquire msg) {
    long wait = limits.waitFor(msg.model(), msg.estimatedTokens());
    // A call that can start now starts now, even with others waiting: those wait for something it does not take
    // from them (a call can start only when every shared limit has room), such as their model's reported limit.
    if (wait == 0) {
      grant(msg);
      return;
    }
    LlmException beyondTimeout = limits.beyondQueueTimeout(msg.model(), msg.estimatedTokens());
    if (beyondTimeout != null) {
      load.rejectedRateLimited(1);
      deny(msg, beyondTimeout);
    } else if (queue.offer(msg) == null) {
      load.rejectedQueueFull(1);
      deny(msg, queue.full(limits.why(msg.model(), msg.estimatedTokens()), wait));
    } else {
      load.queued(queue.size());
      scheduleDrain(wait);
    }
  }

  /** Refuses {@code msg} when its breaker does (open, or half-open with the probe out); true when it did. */
  private boolean refusedByBreaker(Acquire msg) {
    LlmException open = breakers.refusal(msg.model());
    if (open != null) {
      load.rejectedCircuitOpen(1);
      deny(msg, open);
    }
    return open != null;
  }

  private void grant(Acquire msg) {
    long permit = nextPermit++;
    permits.put(permit, new Permit(msg.model(), msg.estimatedTokens(), breakers.started(msg.model(), permit)));
    limits.started(msg.model(), msg.estimatedTokens());
    stats.admitted();
    load.inFlight(limits.inFlight());
    msg.replyTo().tell(new Granted(permit, provider));
  }

  private static void deny(Acquire msg, LlmException error) {
    msg.replyTo().tell(new Denied(error));
  }

  private Behavior<Command> onDrain() {
    drain();
    return this;
  }

  /** Starts every waiting call that may start now (first come, first served) and schedules the next look. */
  private void drain() {
    if (queue.isEmpty()) {
      return;
    }
    long next = queue.drain(a -> limits.waitFor(a.model(), a.estimatedTokens()), w -> {
      if (!refusedByBreaker(w.acquire())) {
        grant(w.acquire());
      }
    });
    load.queued(queue.size());
    scheduleDrain(next);
  }

  private void scheduleDrain(long waitNanos) {
    if (waitNanos > 0 && waitNanos != Long.MAX_VALUE) {
      timers.startSingleTimer(Drain.INSTANCE, Drain.INSTANCE, Duration.ofNanos(waitNanos));
    }
  }

  private Behavior<Command> onQueueTimeout(WrappedQueueTimeout msg) {
    Acquire timedOut = queue.expire(msg.ticket());
    if (timedOut != null) {
      load.queued(queue.size());
      load.rejectedQueueTimeout(1);
      deny(timedOut, queue.timedOut(limits.why(timedOut.model(), timedOut.estimatedTokens()),
          limits.waitFor(timedOut.model(), timedOut.estimatedTokens())));
    }
    return this;
  }

  // ------------------------------------------------------------------ outcomes

  private Behavior<Command> onRelease(Release msg) {
    // Permits from before a restart are unknown here and ignored: the counters started afresh.
    Permit p = permits.remove(msg.permit());
    if (p == null) {
      return this;
    }
    limits.ended(p.model(), p.estimatedTokens(), msg.tokensUsed(), msg.error(), msg.retryAfter());
    load.inFlight(limits.inFlight());
    boolean providerFault = msg.error() != null && !msg.cancelled()
        && ErrorClassifier.countsAgainstProvider(msg.error());
    stats.ended(msg, providerFault);
    if (msg.cancelled()) {
      breakers.cancelled(p.breaker(), msg.permit());
    } else {
      onBreakerChange(breakers.ended(p.breaker(), p.model(), msg.permit(), providerFault));
    }
    drain();
    return this;
  }

  private void onBreakerChange(BreakerSet.Change change) {
    if (change == null) {
      return;
    }
    Breaker b = change.breaker();
    if (!change.opened()) {
      getContext().getLog().info("circuit breaker for {} closed: the probe call succeeded", breakers.describe(b));
      return;
    }
    getContext().getLog().warn("circuit breaker for {} opened after repeated failures (last: {}); calls fail fast "
        + "for {} ms", breakers.describe(b), stats.lastError(), b.remaining().toMillis());
    // Calls waiting for admission would only be refused when their turn came: refuse them now.
    for (AdmissionQueue.Waiting w : queue.removeIf(a -> breakers.guarding(a.model()) == b)) {
      load.rejectedCircuitOpen(1);
      deny(w.acquire(), breakers.refusal(b));
    }
    load.queued(queue.size());
  }

  private Behavior<Command> onBreakerHalfOpened() {
    breakers.publish();
    getContext().getLog().info("circuit breaker for {} half-open: the next call probes the provider",
        settings.name());
    return this;
  }

  // ------------------------------------------------------------------ reported limits

  private Behavior<Command> onRateLimits(WrappedRateLimits msg) {
    limits.reported(msg.model(), msg.learned());
    drain();
    return this;
  }

  /** A reported window reset or a Retry-After passed: waiting calls may go. */
  private Behavior<Command> onHoldEnded(WrappedHoldEnded msg) {
    limits.holdEnded(msg.key());
    drain();
    return this;
  }

  // ------------------------------------------------------------------ health and status

  private Behavior<Command> onHealthCheckDue() {
    CompletionStage<HealthProbe.Result> check = provider == null ? null : health.start(provider);
    if (check != null) {
      getContext().pipeToSelf(check, (result, err) -> new WrappedHealthCheck(result));
    }
    return this;
  }

  private Behavior<Command> onHealthCheck(WrappedHealthCheck msg) {
    if (health.finished(msg.result())) {
      ProviderStatus.HealthCheck check = health.last();
      getContext().getLog().info("health check of provider {} {}", settings.name(),
          check.ok() ? "succeeds" : "fails: " + check.error());
    }
    return this;
  }

  private Behavior<Command> onGetStatus(GetStatus msg) {
    msg.replyTo().tell(new ProviderStatus(settings.name(), settings.kind(), provider != null, limits.inFlight(),
        settings.maxInFlight(), stats.requests(), stats.failures(), stats.lastError(), stats.lastErrorAtMillis(),
        stats.avgLatencyMillis(), breakers.state(), breakers.retryAfterMillis(), breakers.openModels(), queue.size(),
        queue.capacity(), stats.recentCalls(), stats.recentErrorRate(), stats.latencyMillis(),
        stats.timeToFirstChunkMillis(), health.last()));
    return this;
  }

  private Behavior<Command> closeProvider() {
    // Whoever waits for admission gets an answer rather than an ask timeout.
    for (AdmissionQueue.Waiting w : queue.clear()) {
      deny(w.acquire(), new LlmException(ErrorKind.OVERLOADED, "provider '" + settings.name()
          + "' is restarting or stopping", null, true, null));
    }
    load.reset();
    if (provider != null) {
      try {
        provider.close();
      } catch (RuntimeException e) {
        getContext().getLog().warn("closing provider {} failed", settings.name(), e);
      }
    }
    return this;
  }
}
