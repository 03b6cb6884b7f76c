package io.pekkollm.provider;

import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.resilience.RateLimitHeaders;
import io.pekkollm.resilience.RateLimitSettings;
import io.pekkollm.resilience.ResilienceSettings;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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
 */
public final class ProviderActor extends AbstractBehavior<ProviderActor.Command> {
  private static final int ERROR_WINDOW = 100;
  private static final int LATENCY_WINDOW = 256;
  private static final int MAX_TRACKED_MODELS = 1000;
  // Without a reset time, a provider that reported zero remaining is left alone this long.
  private static final long DEFAULT_RESET_NANOS = TimeUnit.SECONDS.toNanos(1);

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

  private record WrappedHealthCheck(long nanos, Throwable error) implements Command {}

  private enum Drain implements Command { INSTANCE }

  private enum BreakerHalfOpened implements Command { INSTANCE }

  private enum HealthCheckDue implements Command { INSTANCE }

  public sealed interface Admission {}

  public record Granted(long permit, ChatProvider provider) implements Admission {}

  public record Denied(LlmException error) implements Admission {}

  /** A granted call: what to account for when it is released. */
  private record Permit(String model, long estimatedTokens, Breaker breaker, boolean probe) {}

  private record Waiting(long ticket, Acquire acquire) {}

  /**
   * What the provider reported about one model's limits. Each hold ends when its timer fires (so manual test
   * time drives it like everything else); the deadlines on the actor's clock only size Retry-After values.
   */
  private static final class Learned {
    /** Requests left in the provider's window; 0 holds calls until the window resets; -1 unknown. */
    long remainingRequests = -1;
    long requestsResetAt;
    /** Tokens left in the provider's window; calls estimated above it wait for the reset; -1 unknown. */
    long remainingTokens = -1;
    long tokensResetAt;
    /** A 429's Retry-After holds every call of the model until it passes. */
    boolean retryAfterHeld;
    long retryAfterUntil;

    /** Nanoseconds (on the actor's clock, at least 1) this model's calls of {@code tokens} are held; 0 when not. */
    long waitFor(long tokens, long now) {
      long wait = 0;
      if (retryAfterHeld) {
        wait = Math.max(1, retryAfterUntil - now);
      }
      if (remainingRequests == 0) {
        wait = Math.max(wait, Math.max(1, requestsResetAt - now));
      }
      if (remainingTokens >= 0 && remainingTokens < tokens) {
        wait = Math.max(wait, Math.max(1, tokensResetAt - now));
      }
      return wait;
    }

    boolean isEmpty() {
      return remainingRequests < 0 && remainingTokens < 0 && !retryAfterHeld;
    }
  }

  /** Which learned hold a timer ends. */
  private enum Hold { REQUESTS, TOKENS, RETRY_AFTER }

  private record HoldKey(String model, Hold hold) {}

  private record WrappedHoldEnded(HoldKey key) implements Command {}

  private final ProviderSettings settings;
  private final ResilienceSettings resilience;
  private final RateLimitSettings limits;
  private final ChatProvider provider;
  private final TimerScheduler<Command> timers;
  private final ProviderLoad load;
  private final LongSupplier clock;
  private final Map<Long, Permit> permits = new HashMap<>();
  private final ArrayDeque<Waiting> queue = new ArrayDeque<>();
  private final Breaker breaker;
  private final Map<String, Breaker> modelBreakers = new HashMap<>();
  private final TokenBucket requestBucket;
  private final TokenBucket tokenBucket;
  private final Map<String, Learned> learned = new HashMap<>();
  private final Samples latency = new Samples(LATENCY_WINDOW);
  private final Samples ttft = new Samples(LATENCY_WINDOW);
  private final byte[] errorWindow = new byte[ERROR_WINDOW];
  private int errorWindowCount;
  private int errorWindowNext;
  private int errorWindowFailures;
  private long nextPermit = 1;
  private long nextTicket = 1;
  private long requests;
  private long failures;
  // Error text is kept (and shown in /health/providers) without this provider's credentials.
  private final io.pekkollm.util.Redactor redactor;
  private String lastError;
  private long lastErrorAt;
  private double avgLatencyMillis;
  private double avgTtftMillis;
  private ProviderStatus.HealthCheck lastCheck;
  private boolean checkRunning;

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
    this.settings = settings;
    this.redactor = io.pekkollm.util.Redactor.of(settings.secrets());
    this.resilience = settings.resilience();
    this.limits = resilience.rateLimit();
    this.timers = timers;
    this.load = load;
    this.clock = clock;
    load.reset();
    long now = clock.getAsLong();
    this.requestBucket = limits.requestsPerMinute() > 0 ? new TokenBucket(limits.requestsPerMinute(), now) : null;
    this.tokenBucket = limits.tokensPerMinute() > 0 ? new TokenBucket(limits.tokensPerMinute(), now) : null;
    this.breaker = resilience.breaker().enabled() && !resilience.breaker().perModel() ? newBreaker(null) : null;
    this.provider = settings.enabled() ? factory.create(settings, ctx.getSystem()) : null;
    if (provider != null && limits.learnFromHeaders()) {
      ActorRef<Command> self = ctx.getSelf();
      provider.observeRateLimits((model, l) -> self.tell(new WrappedRateLimits(model, l)));
    }
    if (provider != null && !resilience.healthCheckInterval().isZero()) {
      timers.startTimerWithFixedDelay(HealthCheckDue.INSTANCE, Duration.ZERO, resilience.healthCheckInterval());
    }
    ctx.getLog().debug("provider {} started: {}", settings.name(), settings);
  }

  private Breaker newBreaker(String model) {
    ActorRef<Command> self = getContext().getSelf();
    return new Breaker(resilience.breaker(), model, getContext().getSystem().classicSystem().scheduler(), clock,
        () -> self.tell(BreakerHalfOpened.INSTANCE));
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
      msg.replyTo().tell(new Denied(new LlmException(ErrorKind.AUTHENTICATION, settings.disabledReason())));
      return this;
    }
    Breaker b = breakerFor(msg.model(), false);
    LlmException open = openError(b);
    if (open != null) {
      load.rejectedCircuitOpen(1);
      msg.replyTo().tell(new Denied(open));
      return this;
    }
    long now = clock.getAsLong();
    long wait = waitFor(msg, now);
    // A call that can start now starts now, even with others waiting: those wait for something it does not take
    // from them (a call can start only when every shared limit has room), such as their model's reported limit.
    if (wait == 0) {
      grant(msg, b, now);
      return this;
    }
    // The provider said how long (Retry-After, reset time), and it is longer than a call may wait: refuse now
    // rather than queue a call that can only time out. Our own buckets are not held to this, as the usage
    // reported at the end of running calls can refill them early.
    long told = learnedWait(msg, now);
    if (told > limits.queueTimeout().toNanos()) {
      load.rejectedRateLimited(1);
      msg.replyTo().tell(new Denied(ErrorClassifier.localRateLimit(settings.name(), why(msg, now), retryAfter(told))));
      return this;
    }
    if (queue.size() >= limits.queueSize()) {
      load.rejectedQueueFull(1);
      msg.replyTo().tell(new Denied(ErrorClassifier.queueFull(settings.name(), queue.size(), why(msg, now),
          retryAfter(wait))));
      return this;
    }
    long ticket = nextTicket++;
    queue.addLast(new Waiting(ticket, msg));
    load.queued(queue.size());
    timers.startSingleTimer(ticket, new WrappedQueueTimeout(ticket), limits.queueTimeout());
    scheduleDrain(wait);
    return this;
  }

  /** The breaker guarding {@code model}; null when none applies (disabled, or no per-model one yet). */
  private Breaker breakerFor(String model, boolean create) {
    if (breaker != null || !resilience.breaker().enabled()) {
      return breaker;
    }
    String key = model == null ? "" : model;
    Breaker b = modelBreakers.get(key);
    if (b == null && create && modelBreakers.size() < MAX_TRACKED_MODELS) {
      b = newBreaker(key);
      modelBreakers.put(key, b);
    }
    return b;
  }

  private LlmException openError(Breaker b) {
    if (b == null) {
      return null;
    }
    String model = b.model() == null || b.model().isEmpty() ? null : b.model();
    if (b.isOpen()) {
      return ErrorClassifier.circuitOpen(settings.name(), model, b.remaining());
    }
    if (b.isHalfOpen() && b.probePermit != 0) {
      // One probe at a time; the others are told to come back shortly.
      return ErrorClassifier.circuitOpen(settings.name(), model, Duration.ofSeconds(1));
    }
    return null;
  }

  /** Nanoseconds until {@code msg} may start; 0 now; {@code Long.MAX_VALUE} when it waits for a call to end. */
  private long waitFor(Acquire msg, long now) {
    if (permits.size() >= settings.maxInFlight()) {
      return Long.MAX_VALUE;
    }
    long wait = 0;
    if (requestBucket != null) {
      wait = requestBucket.waitFor(1, now);
    }
    if (tokenBucket != null && msg.estimatedTokens() > 0) {
      wait = Math.max(wait, tokenBucket.waitFor(msg.estimatedTokens(), now));
    }
    Learned l = learned.get(key(msg.model()));
    if (l != null) {
      wait = Math.max(wait, l.waitFor(msg.estimatedTokens(), now));
    }
    return wait;
  }

  /** Nanoseconds the provider's own reports (headers, a 429's Retry-After) make {@code msg} wait. */
  private long learnedWait(Acquire msg, long now) {
    Learned l = learned.get(key(msg.model()));
    return l == null ? 0 : l.waitFor(msg.estimatedTokens(), now);
  }

  /** Why {@code msg} cannot start now, for error messages. */
  private String why(Acquire msg, long now) {
    if (permits.size() >= settings.maxInFlight()) {
      return "max-in-flight " + settings.maxInFlight() + " reached";
    }
    if (requestBucket != null && requestBucket.waitFor(1, now) > 0) {
      return "rate-limit.requests-per-minute " + limits.requestsPerMinute() + " used";
    }
    if (tokenBucket != null && tokenBucket.waitFor(msg.estimatedTokens(), now) > 0) {
      return "rate-limit.tokens-per-minute " + limits.tokensPerMinute() + " used";
    }
    Learned l = learned.get(key(msg.model()));
    if (l != null && l.retryAfterHeld) {
      return settings.name() + " answered 429 with a Retry-After";
    }
    if (l != null && l.waitFor(msg.estimatedTokens(), now) > 0) {
      return settings.name() + "'s rate-limit headers report its limit used";
    }
    return "calls ahead of it wait";
  }

  private static Duration retryAfter(long waitNanos) {
    return waitNanos == Long.MAX_VALUE || waitNanos <= 0 ? Duration.ofSeconds(1) : Duration.ofNanos(waitNanos);
  }

  private void grant(Acquire msg, Breaker b, long now) {
    long permit = nextPermit++;
    boolean probe = b != null && b.isHalfOpen();
    if (probe) {
      b.probePermit = permit;
    }
    permits.put(permit, new Permit(msg.model(), msg.estimatedTokens(), b, probe));
    requests++;
    if (requestBucket != null) {
      requestBucket.take(1, now);
    }
    if (tokenBucket != null) {
      tokenBucket.take(msg.estimatedTokens(), now);
    }
    Learned l = learned.get(key(msg.model()));
    if (l != null) {
      if (l.remainingRequests > 0) {
        l.remainingRequests--;
      }
      if (l.remainingTokens > 0) {
        l.remainingTokens = Math.max(0, l.remainingTokens - msg.estimatedTokens());
      }
    }
    load.inFlight(permits.size());
    msg.replyTo().tell(new Granted(permit, provider));
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
    long now = clock.getAsLong();
    long next = Long.MAX_VALUE;
    Iterator<Waiting> it = queue.iterator();
    while (it.hasNext() && permits.size() < settings.maxInFlight()) {
      Waiting w = it.next();
      long wait = waitFor(w.acquire(), now);
      if (wait > 0) {
        next = Math.min(next, wait);
        continue;
      }
      it.remove();
      timers.cancel(w.ticket());
      Breaker b = breakerFor(w.acquire().model(), false);
      LlmException open = openError(b);
      if (open != null) {
        load.rejectedCircuitOpen(1);
        w.acquire().replyTo().tell(new Denied(open));
      } else {
        grant(w.acquire(), b, now);
      }
    }
    load.queued(queue.size());
    scheduleDrain(next);
  }

  private void scheduleDrain(long waitNanos) {
    if (waitNanos > 0 && waitNanos != Long.MAX_VALUE) {
      timers.startSingleTimer(Drain.INSTANCE, Drain.INSTANCE, Duration.ofNanos(waitNanos));
    }
  }

  private Behavior<Command> onQueueTimeout(WrappedQueueTimeout msg) {
    Iterator<Waiting> it = queue.iterator();
    while (it.hasNext()) {
      Waiting w = it.next();
      if (w.ticket() == msg.ticket()) {
        it.remove();
        load.queued(queue.size());
        load.rejectedQueueTimeout(1);
        long now = clock.getAsLong();
        w.acquire().replyTo().tell(new Denied(ErrorClassifier.queueTimeout(settings.name(), limits.queueTimeout(),
            why(w.acquire(), now), retryAfter(waitFor(w.acquire(), now)))));
        break;
      }
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
    long now = clock.getAsLong();
    load.inFlight(permits.size());
    double ms = msg.durationNanos() / 1_000_000.0;
    avgLatencyMillis = avgLatencyMillis == 0 ? ms : avgLatencyMillis * 0.9 + ms * 0.1;
    latency.add(ms);
    load.latencyEwmaMillis(avgLatencyMillis);
    if (msg.firstChunkNanos() >= 0) {
      double first = msg.firstChunkNanos() / 1_000_000.0;
      avgTtftMillis = avgTtftMillis == 0 ? first : avgTtftMillis * 0.9 + first * 0.1;
      ttft.add(first);
      load.ttftEwmaMillis(avgTtftMillis);
    }
    boolean failed = msg.error() != null && !msg.cancelled();
    boolean providerFault = failed && ErrorClassifier.countsAgainstProvider(msg.error());
    if (failed) {
      failures++;
      lastError = redactor.redact(msg.errorMessage());
      lastErrorAt = System.currentTimeMillis();
    }
    if (!msg.cancelled()) {
      recordOutcome(providerFault);
      account(p, msg.permit(), providerFault);
    } else if (p.probe() && p.breaker() != null && p.breaker().probePermit == msg.permit()) {
      // A cancelled probe says nothing about the provider: the next call probes instead.
      p.breaker().probePermit = 0;
    }
    if (limits.learnFromHeaders() && msg.error() == ErrorKind.RATE_LIMITED && msg.retryAfter() != null
        && !msg.retryAfter().isZero()) {
      Learned l = learned(p.model());
      if (l != null && (!l.retryAfterHeld || now + msg.retryAfter().toNanos() > l.retryAfterUntil)) {
        l.retryAfterHeld = true;
        l.retryAfterUntil = now + msg.retryAfter().toNanos();
        hold(p.model(), Hold.RETRY_AFTER, msg.retryAfter());
      }
    }
    if (tokenBucket != null && msg.tokensUsed() > 0) {
      tokenBucket.adjust(p.estimatedTokens() - msg.tokensUsed(), now);
    }
    drain();
    return this;
  }

  /** Moves the call's breaker: provider faults count as failures, anything else the provider answered as success. */
  private void account(Permit p, long permit, boolean providerFault) {
    Breaker b = p.breaker() != null ? p.breaker() : providerFault ? breakerFor(p.model(), true) : null;
    if (b == null) {
      return;
    }
    boolean probe = p.probe() && b.probePermit == permit;
    if (probe) {
      b.probePermit = 0;
    }
    // A call admitted before the breaker opened (or during half-open, not as the probe) must not decide it.
    if (!b.isClosed() && !probe) {
      return;
    }
    if (providerFault) {
      if (b.fail()) {
        opened(b);
      }
    } else if (b.succeed()) {
      getContext().getLog().info("circuit breaker for {} closed: the probe call succeeded", target(b));
    }
    if (b.model() != null && b.isIdle()) {
      modelBreakers.remove(b.model());
    }
    publishBreakerState();
  }

  private void opened(Breaker b) {
    load.breakerOpened();
    getContext().getLog().warn("circuit breaker for {} opened after repeated failures (last: {}); calls fail fast "
        + "for {} ms", target(b), lastError, b.remaining().toMillis());
    // Calls waiting for admission would only be refused when their turn came: refuse them now.
    Iterator<Waiting> it = queue.iterator();
    while (it.hasNext()) {
      Waiting w = it.next();
      if (breakerFor(w.acquire().model(), false) == b) {
        it.remove();
        timers.cancel(w.ticket());
        load.rejectedCircuitOpen(1);
        w.acquire().replyTo().tell(new Denied(openError(b)));
      }
    }
    load.queued(queue.size());
  }

  private Behavior<Command> onBreakerHalfOpened() {
    publishBreakerState();
    getContext().getLog().info("circuit breaker for {} half-open: the next call probes the provider",
        settings.name());
    return this;
  }

  private void publishBreakerState() {
    if (breaker != null) {
      load.breakerState(breaker.state());
    } else {
      int open = 0;
      for (Breaker b : modelBreakers.values()) {
        open += b.isClosed() ? 0 : 1;
      }
      load.openModelBreakers(open);
    }
  }

  private String target(Breaker b) {
    return b.model() == null ? "provider " + settings.name() : settings.name() + "/" + b.model();
  }

  private void recordOutcome(boolean providerFault) {
    if (errorWindowCount == ERROR_WINDOW) {
      errorWindowFailures -= errorWindow[errorWindowNext];
    } else {
      errorWindowCount++;
    }
    errorWindow[errorWindowNext] = (byte) (providerFault ? 1 : 0);
    errorWindowFailures += providerFault ? 1 : 0;
    errorWindowNext = (errorWindowNext + 1) % ERROR_WINDOW;
  }

  // ------------------------------------------------------------------ learned limits

  private static String key(String model) {
    return model == null ? "" : model;
  }

  private Learned learned(String model) {
    String k = key(model);
    Learned l = learned.get(k);
    if (l == null) {
      if (learned.size() >= MAX_TRACKED_MODELS) {
        // Forget what holds nothing rather than grow with every model name callers send.
        learned.values().removeIf(Learned::isEmpty);
        if (learned.size() >= MAX_TRACKED_MODELS) {
          return null;
        }
      }
      l = new Learned();
      learned.put(k, l);
    }
    return l;
  }

  private void hold(String model, Hold hold, Duration until) {
    HoldKey key = new HoldKey(key(model), hold);
    timers.startSingleTimer(key, new WrappedHoldEnded(key), until);
  }

  private Behavior<Command> onRateLimits(WrappedRateLimits msg) {
    Learned l = learned(msg.model());
    if (l == null) {
      return this;
    }
    long now = clock.getAsLong();
    RateLimitHeaders.Learned r = msg.learned();
    if (r.remainingRequests() >= 0) {
      Duration reset = r.resetRequests() == null ? Duration.ofNanos(DEFAULT_RESET_NANOS) : r.resetRequests();
      l.remainingRequests = r.remainingRequests();
      l.requestsResetAt = now + reset.toNanos();
      hold(msg.model(), Hold.REQUESTS, reset);
    }
    if (r.remainingTokens() >= 0) {
      Duration reset = r.resetTokens() == null ? Duration.ofNanos(DEFAULT_RESET_NANOS) : r.resetTokens();
      l.remainingTokens = r.remainingTokens();
      l.tokensResetAt = now + reset.toNanos();
      hold(msg.model(), Hold.TOKENS, reset);
    }
    drain();
    return this;
  }

  /** A reported window reset or a Retry-After passed: what it held is unknown again, and waiting calls may go. */
  private Behavior<Command> onHoldEnded(WrappedHoldEnded msg) {
    Learned l = learned.get(msg.key().model());
    if (l != null) {
      switch (msg.key().hold()) {
        case REQUESTS -> l.remainingRequests = -1;
        case TOKENS -> l.remainingTokens = -1;
        case RETRY_AFTER -> l.retryAfterHeld = false;
      }
      if (l.isEmpty()) {
        learned.remove(msg.key().model());
      }
    }
    drain();
    return this;
  }

  // ------------------------------------------------------------------ health

  private Behavior<Command> onHealthCheckDue() {
    if (provider == null || checkRunning) {
      return this;
    }
    checkRunning = true;
    long start = clock.getAsLong();
    getContext().pipeToSelf(provider.listModels().toCompletableFuture()
            .orTimeout(resilience.healthCheckTimeout().toMillis(), TimeUnit.MILLISECONDS),
        (models, err) -> new WrappedHealthCheck(clock.getAsLong() - start, err));
    return this;
  }

  private Behavior<Command> onHealthCheck(WrappedHealthCheck msg) {
    checkRunning = false;
    boolean ok = msg.error() == null;
    if (lastCheck == null || lastCheck.ok() != ok) {
      getContext().getLog().info("health check of provider {} {}", settings.name(),
          ok ? "succeeds" : "fails: " + msg.error());
    }
    lastCheck = new ProviderStatus.HealthCheck(System.currentTimeMillis(), ok, msg.nanos() / 1e6,
        ok ? null : redactor.redact(String.valueOf(msg.error().getMessage())));
    return this;
  }

  private Behavior<Command> onGetStatus(GetStatus msg) {
    String state;
    long retryAfter = 0;
    if (!resilience.breaker().enabled()) {
      state = "disabled";
    } else if (breaker == null || breaker.isClosed()) {
      state = "closed";
    } else if (breaker.isHalfOpen()) {
      state = "half-open";
    } else {
      state = "open";
      retryAfter = breaker.remaining().toMillis();
    }
    List<String> openModels = new ArrayList<>();
    modelBreakers.forEach((model, b) -> {
      if (!b.isClosed()) {
        openModels.add(model);
      }
    });
    openModels.sort(null);
    msg.replyTo().tell(new ProviderStatus(settings.name(), settings.kind(), provider != null, permits.size(),
        settings.maxInFlight(), requests, failures, lastError, lastErrorAt, avgLatencyMillis, state, retryAfter,
        openModels, queue.size(), limits.queueSize(), errorWindowCount,
        errorWindowCount == 0 ? 0 : (double) errorWindowFailures / errorWindowCount, latency.percentiles(),
        ttft.percentiles(), lastCheck));
    return this;
  }

  private Behavior<Command> closeProvider() {
    // Whoever waits for admission gets an answer rather than an ask timeout.
    for (Waiting w : queue) {
      w.acquire().replyTo().tell(new Denied(new LlmException(ErrorKind.OVERLOADED, "provider '" + settings.name()
          + "' is restarting or stopping", null, true, null)));
    }
    queue.clear();
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
