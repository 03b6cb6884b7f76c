package io.pekkollm.provider;

import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.ModelInfo;
import io.pekkollm.util.Futures;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * The running provider actors of one client: their refs, settings and live {@link ProviderLoad}, and the two
 * conversations every caller has with them, admission ({@link #acquire}) and status. Started under one
 * {@link ProviderSupervisor}; {@link #stop()} stops them. Providers may be added, replaced and removed while
 * running ({@link #put}, {@link #remove}): new calls see the change at once, calls admitted before it finish on the
 * actor that admitted them, which is stopped once it has drained. Thread-safe.
 */
public final class ProviderRegistry {
  private final ActorSystem<?> system;
  private final ActorRef<ProviderSupervisor.Command> supervisor;
  private final Map<String, ActorRef<ProviderActor.Command>> refs;
  private final Map<String, ProviderLoad> loads;
  private final Map<String, ProviderSettings> settings;
  private final Duration admissionTimeout;
  /** Serialises {@link #put} and {@link #remove}: the three maps change together. */
  private final Object changes = new Object();

  private ProviderRegistry(ActorSystem<?> system, ActorRef<ProviderSupervisor.Command> supervisor,
      ProviderSupervisor.Providers started, Map<String, ProviderSettings> settings, Duration admissionTimeout) {
    this.system = system;
    this.supervisor = supervisor;
    this.refs = new java.util.concurrent.ConcurrentHashMap<>(started.refs());
    this.loads = new java.util.concurrent.ConcurrentHashMap<>(started.loads());
    this.settings = new java.util.concurrent.ConcurrentHashMap<>(settings);
    this.admissionTimeout = admissionTimeout;
  }

  /**
   * Starts one supervised actor per spec (restarting with backoff between {@code minBackoff} and
   * {@code maxBackoff}) as a system actor named {@code name}, and waits (at most 10 s) until they run.
   * {@code admissionTimeout} bounds how long an admission may take beyond a provider's own queue timeout.
   */
  public static ProviderRegistry start(ActorSystem<?> system, Collection<ProviderSupervisor.Spec> specs,
      Duration minBackoff, Duration maxBackoff, Duration admissionTimeout, String name) {
    Map<String, ProviderSettings> byName = new LinkedHashMap<>();
    specs.forEach(spec -> byName.put(spec.settings().name(), spec.settings()));
    ActorRef<ProviderSupervisor.Command> supervisor = system.systemActorOf(
        ProviderSupervisor.create(specs, minBackoff, maxBackoff), name, Props.empty());
    ProviderSupervisor.Providers started;
    try {
      started = AskPattern.<ProviderSupervisor.Command, ProviderSupervisor.Providers>ask(supervisor,
              ProviderSupervisor.GetProviders::new, Duration.ofSeconds(10), system.scheduler())
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("the provider actors did not start", e);
    }
    return new ProviderRegistry(system, supervisor, started, Map.copyOf(byName), admissionTimeout);
  }

  /** The actor of {@code provider}; null when no such provider is configured. */
  public ActorRef<ProviderActor.Command> actor(String provider) {
    return refs.get(provider);
  }

  /** The settings of {@code provider}; null when no such provider is configured. */
  public ProviderSettings settings(String provider) {
    return settings.get(provider);
  }

  /** The live load of {@code provider}; null when no such provider is configured. */
  public ProviderLoad load(String provider) {
    return loads.get(provider);
  }

  /** Every provider's live load, for metrics gauges. */
  public Collection<ProviderLoad> loads() {
    return loads.values();
  }

  /** The names of the configured providers (enabled or not), sorted. */
  public List<String> names() {
    return refs.keySet().stream().sorted().toList();
  }

  /** The names of the providers that may be called (configured and enabled), sorted. */
  public List<String> enabledNames() {
    return settings.values().stream().filter(ProviderSettings::enabled).map(ProviderSettings::name).sorted()
        .toList();
  }

  /** Whether {@code provider/model}'s provider continues an assistant message it is sent (assistant prefill). */
  public boolean supportsPrefill(String model) {
    int slash = model == null ? -1 : model.indexOf('/');
    ProviderSettings ps = slash > 0 ? settings.get(model.substring(0, slash)) : null;
    return ps != null && ps.config().hasPath("assistant-prefill") && ps.config().getBoolean("assistant-prefill");
  }

  /**
   * Admission for one call of {@code model} (the provider's own id; null for calls about no model) on
   * {@code provider}, estimated at {@code tokens}. Fails with the actor's refusal ({@link ProviderActor.Denied}'s
   * error), or OVERLOADED when the actor cannot answer at all (restarting).
   */
  public CompletionStage<ProviderActor.Granted> acquire(String provider, String model, long tokens) {
    ActorRef<ProviderActor.Command> ref = refs.get(provider);
    ProviderSettings ps = settings.get(provider);
    // The actor answers within the queue timeout; the ask only guards against an actor that cannot answer at
    // all, so a call that waits in the queue is never abandoned with its permit still to come.
    Duration timeout = ps == null ? admissionTimeout
        : admissionTimeout.plus(ps.resilience().rateLimit().queueTimeout());
    return AskPattern.<ProviderActor.Command, ProviderActor.Admission>ask(ref,
            r -> new ProviderActor.Acquire(model, tokens, r), timeout, system.scheduler())
        .handle((admission, err) -> {
          if (err != null) {
            throw new LlmException(ErrorKind.OVERLOADED, "provider '" + provider
                + "' did not grant admission within " + timeout.toMillis() + " ms", err, true, null);
          }
          if (admission instanceof ProviderActor.Denied d) {
            throw d.error();
          }
          return (ProviderActor.Granted) admission;
        });
  }

  /** Models of one provider, from its API (uncached), admitted like any call. */
  public CompletionStage<List<ModelInfo>> listModels(String provider) {
    ActorRef<ProviderActor.Command> ref = refs.get(provider);
    if (ref == null) {
      return CompletableFuture.failedFuture(
          new LlmException(ErrorKind.MODEL_NOT_FOUND, "unknown provider '" + provider + "'"));
    }
    return acquire(provider, null, 0).thenCompose(g -> g.provider().listModels().whenComplete((m, err) -> {
      Throwable t = Futures.cause(err);
      ErrorKind kind = t == null ? null : t instanceof LlmException le ? le.kind() : ErrorKind.NETWORK;
      ref.tell(new ProviderActor.Release(g.permit(), 0, kind, t == null ? null : t.getMessage(), false));
    }));
  }

  /**
   * Models of every enabled provider, from their APIs, each listing bounded by {@code timeout}. A provider whose
   * listing fails or times out is left out (and logged); the result is sorted by id.
   */
  public CompletionStage<List<ModelInfo>> listModels(Duration timeout) {
    List<CompletableFuture<List<ModelInfo>>> parts = new ArrayList<>();
    for (String name : enabledNames()) {
      parts.add(listModels(name).toCompletableFuture()
          .completeOnTimeout(List.of(), timeout.toMillis(), TimeUnit.MILLISECONDS)
          .exceptionally(err -> {
            system.log().info("listing models of {} failed: {}", name, err.getMessage());
            return List.of();
          }));
    }
    return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(v -> {
      List<ModelInfo> all = new ArrayList<>();
      parts.forEach(p -> all.addAll(p.join()));
      all.sort(Comparator.comparing(ModelInfo::id));
      return all;
    });
  }

  /** The state of every provider, in name order. */
  public CompletionStage<List<ProviderStatus>> status() {
    List<CompletableFuture<ProviderStatus>> parts = new ArrayList<>();
    refs.values().forEach(ref -> parts.add(AskPattern.<ProviderActor.Command, ProviderStatus>ask(ref,
        ProviderActor.GetStatus::new, Duration.ofSeconds(3), system.scheduler()).toCompletableFuture()));
    return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new))
        .thenApply(v -> parts.stream().map(CompletableFuture::join)
            .sorted(Comparator.comparing(ProviderStatus::name)).toList());
  }

  /**
   * Runs {@code spec} as provider {@code spec.settings().name()}, replacing the one of that name if there is one:
   * completes with the new provider's load once calls go to it. The replaced actor serves the calls it admitted
   * until they end (at most {@code drainTimeout}), then stops.
   */
  public CompletionStage<ProviderLoad> put(ProviderSupervisor.Spec spec, Duration drainTimeout) {
    String name = spec.settings().name();
    return AskPattern.<ProviderSupervisor.Command, ProviderSupervisor.Started>ask(supervisor,
            r -> new ProviderSupervisor.Start(spec, r), Duration.ofSeconds(10), system.scheduler())
        .thenApply(started -> {
          ActorRef<ProviderActor.Command> old;
          ProviderLoad oldLoad;
          synchronized (changes) {
            old = refs.put(name, started.ref());
            oldLoad = loads.put(name, started.load());
            settings.put(name, spec.settings());
          }
          if (old != null) {
            drain(old, oldLoad, drainTimeout);
          }
          return started.load();
        });
  }

  /**
   * Removes provider {@code name}: new calls no longer find it at once; completes when the calls it had admitted
   * have ended (or {@code drainTimeout} passed) and its actor is stopped. Completes at once for an unknown name.
   */
  public CompletionStage<org.apache.pekko.Done> remove(String name, Duration drainTimeout) {
    ActorRef<ProviderActor.Command> old;
    ProviderLoad oldLoad;
    synchronized (changes) {
      old = refs.remove(name);
      oldLoad = loads.remove(name);
      settings.remove(name);
    }
    return old == null ? CompletableFuture.completedFuture(org.apache.pekko.Done.getInstance())
        : drain(old, oldLoad, drainTimeout);
  }

  /** Stops {@code ref} once {@code load} shows no call admitted or waiting, polled every 50 ms, or after the timeout. */
  private CompletionStage<org.apache.pekko.Done> drain(ActorRef<ProviderActor.Command> ref, ProviderLoad load,
      Duration timeout) {
    CompletableFuture<org.apache.pekko.Done> drained = new CompletableFuture<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    Runnable[] check = new Runnable[1];
    check[0] = () -> {
      if ((load.inFlight() == 0 && load.queued() == 0) || System.nanoTime() - deadline >= 0) {
        if (load.inFlight() > 0) {
          system.log().warn("provider actor {} stopped with {} calls still running after {} ms of draining",
              ref.path().name(), load.inFlight(), timeout.toMillis());
        }
        supervisor.tell(new ProviderSupervisor.StopChild(ref));
        drained.complete(org.apache.pekko.Done.getInstance());
      } else {
        system.scheduler().scheduleOnce(Duration.ofMillis(50), check[0], system.executionContext());
      }
    };
    // A call routed just before the swap may still be on its way to the old actor: give it time to arrive.
    system.scheduler().scheduleOnce(Duration.ofMillis(100), check[0], system.executionContext());
    return drained;
  }

  /** Stops the provider actors. */
  public void stop() {
    system.classicSystem().stop(Adapter.toClassic(supervisor));
  }
}
