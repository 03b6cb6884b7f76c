package io.pekkollm.api;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.pekkollm.cache.CacheKeys;
import io.pekkollm.cache.CacheSettings;
import io.pekkollm.cache.DiscoverySettings;
import io.pekkollm.cache.ModelDiscovery;
import io.pekkollm.cache.ProviderModels;
import io.pekkollm.cache.ResponseCache;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pekkollm.catalog.CacheAccounting;
import io.pekkollm.catalog.CatalogSettings;
import io.pekkollm.catalog.ContextFit;
import io.pekkollm.catalog.ContextGuard;
import io.pekkollm.catalog.CostCalculator;
import io.pekkollm.catalog.ModelCatalog;
import io.pekkollm.model.CacheStatus;
import io.pekkollm.metrics.LlmMetrics;
import io.pekkollm.metrics.MetricsSettings;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.Cost;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Message;
import io.pekkollm.model.ContentPart;
import io.pekkollm.model.ModelInfo;
import io.pekkollm.model.TruncationReport;
import io.pekkollm.model.Usage;
import io.pekkollm.provider.ChatProvider;
import io.pekkollm.provider.ErrorClassifier;
import io.pekkollm.provider.ProviderActor;
import io.pekkollm.provider.ProviderFactory;
import io.pekkollm.provider.ProviderLoad;
import io.pekkollm.provider.ProviderSettings;
import io.pekkollm.provider.ProviderStatus;
import io.pekkollm.provider.ProviderSupervisor;
import io.pekkollm.provider.Providers;
import io.pekkollm.recovery.JournalSettings;
import io.pekkollm.recovery.JournaledChunk;
import io.pekkollm.recovery.RecoveryService;
import io.pekkollm.recovery.ResumeConflictException;
import io.pekkollm.recovery.ResumeStrategy;
import io.pekkollm.recovery.ResumedStream;
import io.pekkollm.recovery.StreamSnapshot;
import io.pekkollm.session.SessionClient;
import io.pekkollm.session.SessionSettings;
import io.pekkollm.resilience.ChunkTimeouts;
import io.pekkollm.resilience.ModelGroup;
import io.pekkollm.resilience.RoutingSettings;
import io.pekkollm.resilience.TimeoutKind;
import io.pekkollm.resilience.TimeoutSettings;
import io.pekkollm.stream.ChatAccumulator;
import io.pekkollm.stream.DeferredSource;
import io.pekkollm.util.Futures;
import java.util.concurrent.atomic.AtomicLong;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.function.Consumer;
import java.util.concurrent.atomic.AtomicReference;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.AsPublisher;
import org.apache.pekko.stream.javadsl.JavaFlowSupport;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The Java entry point: one interface to every configured provider. Models are named {@code provider/model}
 * ({@code openai/gpt-4o-mini}, {@code mock/echo}), or by the name of a configured model group ({@code fast};
 * see {@link RoutingSettings}).
 *
 * <p>Create it with its own ActorSystem ({@link #create()}, {@link #create(Config)}) or inside an existing
 * one ({@link Builder#system(ActorSystem)}) when embedding in a Pekko application. Thread-safe; meant to be
 * shared. {@link #close()} stops the provider actors, and the ActorSystem too when the client created it.
 *
 * <p>The {@linkplain #catalog() model catalog} is loaded when the client is built (a malformed catalog file fails
 * the build). With it, every {@link ChatResponse} carries its {@linkplain ChatResponse#cost() cost}, and a
 * request that cannot fit its model's context window is rejected before it is sent (CONTEXT_LENGTH_EXCEEDED),
 * or shortened when it names a {@linkplain ChatRequest#truncation() truncation strategy}; see
 * {@link ContextGuard}. Models the catalog does not know are sent as they are.
 *
 * <p>The {@linkplain #cache() response cache} (per client, see {@code pekko-llm.cache}) serves requests that opt
 * in with {@link io.pekkollm.model.ChatRequest#cache()} (or every request in {@code opt-out} mode): stored answers
 * are replayed, identical concurrent requests share one upstream call, and {@link ChatResponse#cacheStatus()} /
 * {@link ChatStream#cacheStatus()} say how a call was served.
 *
 * <p><b>Resilience.</b> Every call passes its provider's circuit breaker and admission (rate limits, bounded
 * queue), runs under its time limits, and is retried on retryable errors before its first chunk reached the
 * caller (after that a failure ends the stream and belongs to {@link #resume}). A model group moves on to its
 * next model on retryable failures, open breakers, full queues, exhausted quota and too-small context windows.
 * {@link ChatResponse#model()} and {@link ChatStream#servedModel()} name the model that answered. Metrics go to
 * {@link #metrics()}.
 */
public final class LlmClient implements AutoCloseable {
  private final ActorSystem<?> system;
  private final Materializer materializer;
  private final boolean ownsSystem;
  private final ActorRef<ProviderSupervisor.Command> supervisor;
  private final Map<String, ActorRef<ProviderActor.Command>> providers;
  private final Map<String, ProviderLoad> loads;
  private final Map<String, ProviderSettings> settingsByName;
  private final LlmSettings settings;
  private final RecoveryService recovery;
  private final ModelCatalog catalog;
  private final CostCalculator costs;
  private final ContextGuard contextGuard;
  private final RoutingSettings routing;
  private final LlmMetrics metrics;
  private final ResponseCache cache;
  private final ModelDiscovery discovery;
  private final SessionSettings sessionSettings;
  private final JournalSettings journalSettings;
  private volatile SessionClient sessions;

  private LlmClient(ActorSystem<?> system, boolean ownsSystem, LlmSettings settings,
      Map<String, ProviderSupervisor.Spec> specs, ModelCatalog catalog, boolean contextCheck, JournalSettings journal,
      RoutingSettings routing, LlmMetrics metrics, CacheSettings cacheSettings, DiscoverySettings discoverySettings,
      SessionSettings sessionSettings) {
    this.system = system;
    this.materializer = Materializer.matFromSystem(system);
    this.ownsSystem = ownsSystem;
    this.settings = settings;
    Map<String, ProviderSettings> byName = new LinkedHashMap<>();
    specs.forEach((name, spec) -> byName.put(name, spec.settings()));
    this.settingsByName = Map.copyOf(byName);
    this.catalog = catalog;
    this.costs = CostCalculator.create(catalog, this::cacheAccounting);
    this.contextGuard = contextCheck ? ContextGuard.create(catalog) : null;
    this.routing = routing;
    this.metrics = metrics;
    checkGroups(routing, byName);
    this.supervisor = system.systemActorOf(
        ProviderSupervisor.create(specs.values(), settings.restartMinBackoff(), settings.restartMaxBackoff()),
        "pekko-llm-providers-" + System.identityHashCode(this), Props.empty());
    ProviderSupervisor.Providers started;
    try {
      started = AskPattern.<ProviderSupervisor.Command, ProviderSupervisor.Providers>ask(supervisor,
              ProviderSupervisor.GetProviders::new, Duration.ofSeconds(10), system.scheduler())
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("the provider actors did not start", e);
    }
    this.providers = started.refs();
    this.loads = started.loads();
    loads.values().forEach(metrics::bind);
    this.recovery = journal.enabled()
        ? RecoveryService.start(system, journal, "pekko-llm-recovery-" + System.identityHashCode(this),
            metrics::journalWrite)
        : null;
    this.cache = ResponseCache.start(system, cacheSettings, "pekko-llm-cache-" + System.identityHashCode(this));
    this.discovery = ModelDiscovery.start(system, discoverySettings, this::listModels,
        provider -> catalog.models(provider).stream().map(e -> new ModelInfo(e.id(), provider, 0, provider)).toList(),
        provider -> discoverySettings.ttlFor(settingsByName.get(provider)),
        "pekko-llm-models-" + System.identityHashCode(this));
    this.sessionSettings = sessionSettings;
    this.journalSettings = journal;
  }

  /** Fails start-up for a group naming a provider that is not configured: a typo should not wait for traffic. */
  private static void checkGroups(RoutingSettings routing, Map<String, ProviderSettings> providers) {
    for (ModelGroup g : routing.groups().values()) {
      for (String m : g.models()) {
        String provider = m.substring(0, m.indexOf('/'));
        if (!providers.containsKey(provider)) {
          throw new IllegalArgumentException("pekko-llm.routing.groups." + g.name() + " lists '" + m
              + "', but provider '" + provider + "' is not configured; configured providers: "
              + String.join(", ", providers.keySet().stream().sorted().toList()));
        }
      }
    }
  }

  /** A client with its own ActorSystem, configured by {@link LlmConfig#load()}. */
  public static LlmClient create() {
    return builder().build();
  }

  /** A client with its own ActorSystem, configured by {@code config}. */
  public static LlmClient create(Config config) {
    return builder().config(config).build();
  }

  public static Builder builder() {
    return new Builder();
  }

  public ActorSystem<?> system() {
    return system;
  }

  /** The model catalog this client prices and checks requests with. */
  public ModelCatalog catalog() {
    return catalog;
  }

  /** This client's metrics (Micrometer); {@link LlmMetrics#scrape()} gives the Prometheus text. */
  public LlmMetrics metrics() {
    return metrics;
  }

  /** The configured model groups. */
  public RoutingSettings routing() {
    return routing;
  }

  /**
   * The cost of {@code usage} on {@code model} ({@code provider/model}); empty when the catalog does not know
   * the model or a price the usage needs. For callers that fold {@link #stream} themselves.
   */
  public Optional<Cost> cost(String model, Usage usage) {
    return costs.cost(model, usage);
  }

  /**
   * Sessions: conversations whose history, usage and cost the library keeps on the journal. Started on first
   * use (a client that never uses sessions opens no session actors). Fails with IllegalStateException when
   * {@code pekko-llm.sessions.enabled} is off.
   */
  public SessionClient sessions() {
    SessionClient s = sessions;
    if (s != null) {
      return s;
    }
    if (!sessionSettings.enabled()) {
      throw new IllegalStateException("sessions are disabled (pekko-llm.sessions.enabled = off)");
    }
    synchronized (this) {
      if (sessions == null) {
        sessions = SessionClient.start(system, sessionSettings, journalSettings, sessionRuntime,
            "pekko-llm-sessions-" + System.identityHashCode(this));
      }
      return sessions;
    }
  }
  /** Whether {@link #sessions()} is available ({@code pekko-llm.sessions.enabled}). */
  public boolean sessionsEnabled() {
    return sessionSettings.enabled();
  }
  /**
   * The response cache: stats (for metrics: {@link ResponseCache#stats()} answers without blocking), listing,
   * clear and delete. Present even when {@code pekko-llm.cache.mode = off} (then it is empty and disabled).
   */
  public ResponseCache cache() {
    return cache;
  }
  /**
   * Sends {@code request} and completes with the whole answer, whose {@link ChatResponse#model()} is the
   * {@code provider/model} that served it. Fails with an {@link LlmException}.
   */
  public CompletionStage<ChatResponse> chat(ChatRequest request) {
    Plan plan;
    try {
      plan = prepare(request);
    } catch (LlmException e) {
      return CompletableFuture.failedFuture(e);
    }
    ChatAccumulator acc = new ChatAccumulator();
    CallInfo info = new CallInfo(plan.truncation());
    if (plan.cacheKey() == null) {
      // No stream to run: admission, one HTTP exchange and a parse, chained as futures.
      return new ResilientCall(this, plan, order(plan), false, info).whole().thenApply(chunks -> {
        for (ChatChunk c : chunks) {
          acc.add(c);
        }
        return respond(acc, request, info);
      });
    }
    AtomicReference<CacheStatus> cacheStatus = new AtomicReference<>();
    return source(plan, false, info, cacheStatus::set)
        .runWith(Sink.foreach(acc::add), system)
        .thenApply(done -> {
          ChatResponse r = respond(acc, request, info);
          return cacheStatus.get() == null ? r : r.withCacheStatus(cacheStatus.get());
        });
  }

  /**
   * Streams the answer. Nothing is sent until the source is materialized; the materialized {@link ChatStream}
   * cancels it and reports truncation and the model that served. Backpressure reaches the provider: a slow
   * consumer slows the upstream read. The context-window check runs now, so a request that cannot fit gives a
   * source that fails at once.
   */
  public Source<ChatChunk, ChatStream> stream(ChatRequest request) {
    return streamJournaled(request).map(JournaledChunk::chunk);
  }

  /**
   * Streams the answer with each chunk's sequence number, the journal's (when recovery is enabled, every chunk
   * is persisted before it is emitted, and {@link ChatStream#recoveryId()} names the stream for
   * {@link #resume}). Usage-only chunks carry sequence number 0.
   */
  public Source<JournaledChunk, ChatStream> streamJournaled(ChatRequest request) {
    try {
      return streamJournaled(prepare(request));
    } catch (LlmException e) {
      return withHandle(Source.failed(e), null, new CallInfo(null), null);
    }
  }

  private Source<ChatChunk, ChatStream> stream(Plan plan) {
    return streamJournaled(plan).map(JournaledChunk::chunk);
  }

  private Source<JournaledChunk, ChatStream> streamJournaled(Plan plan) {
    String recoveryId = recovery == null ? null : recovery.newRecoveryId();
    CallInfo info = new CallInfo(plan.truncation());
    AtomicReference<CacheStatus> cacheStatus = new AtomicReference<>();
    return withHandle(journaled(recoveryId, plan, info, cacheStatus::set), recoveryId, info, cacheStatus);
  }

  private static Source<ChatChunk, ChatStream> failedStream(LlmException e) {
    return withHandle(Source.failed(e), null, new CallInfo(null), null).map(JournaledChunk::chunk);
  }

  private Source<JournaledChunk, NotUsed> journaled(String recoveryId, Plan plan, CallInfo info) {
    return journaled(recoveryId, plan, info, s -> { });
  }

  /**
   * The answer's chunks with their sequence numbers: journalled when recovery is on. A cached answer is
   * journalled like any other, so a replayed stream has its own recovery id and SSE ids 1, 2, 3, ...
   */
  private Source<JournaledChunk, NotUsed> journaled(String recoveryId, Plan plan, CallInfo info,
      Consumer<CacheStatus> cacheStatus) {
    if (recoveryId == null) {
      // The sequence numbers start at 1 for each run (statefulMap: no inner stream on the per-chunk path).
      return source(plan, true, info, cacheStatus)
          .statefulMap(() -> new long[1], (seq, c) -> org.apache.pekko.japi.Pair.create(seq,
              new JournaledChunk(c.usage() != null && isUsageOnly(c) ? 0 : ++seq[0], c)), seq -> Optional.empty());
    }
    ChatRequest stored;
    String provider;
    if (plan.group() == null) {
      // The journal keeps the request as sent (after any truncation) under the caller's provider/model id.
      Prepared only = plan.candidates().get(0);
      stored = only.upstream().withModel(only.id());
      provider = only.route().provider();
    } else {
      // A group's stream is journalled under the group: a resume goes through the group again.
      stored = plan.request().toBuilder().retry(null).build();
      provider = plan.group().name();
    }
    return recovery.journal(recoveryId, stored, provider, source(plan, true, info, cacheStatus));
  }

  /**
   * The upstream answer of {@code plan}, through the response cache when the request uses it (stored answers
   * replayed, identical calls in flight shared), else straight from the provider(s).
   */
  private Source<ChatChunk, NotUsed> source(Plan plan, boolean streaming, CallInfo info,
      Consumer<CacheStatus> cacheStatus) {
    if (plan.cacheKey() == null) {
      return run(plan, streaming, info);
    }
    return cache.serve(plan.cacheKey(), plan.candidates().get(0).id(), plan.cacheTtl(),
        () -> run(plan, streaming, info), cacheStatus);
  }

  /** {@link #run(Plan, boolean, CallInfo)} for a request not yet prepared; errors become a failed source. */
  private Source<ChatChunk, NotUsed> run(ChatRequest request, boolean streaming) {
    try {
      Plan plan = prepare(request);
      return run(plan, streaming, new CallInfo(plan.truncation()));
    } catch (LlmException e) {
      return Source.failed(e);
    }
  }

  private static boolean isUsageOnly(ChatChunk c) {
    return (c.textDelta() == null || c.textDelta().isEmpty()) && (c.reasoningDelta() == null || c.reasoningDelta().isEmpty())
        && c.toolCalls().isEmpty() && c.finishReason() == null;
  }

  private static Source<JournaledChunk, ChatStream> withHandle(Source<JournaledChunk, NotUsed> source, String recoveryId,
      CallInfo info, AtomicReference<CacheStatus> cacheStatus) {
    AtomicLong last = new AtomicLong();
    return source
        .map(j -> {
          if (j.seq() > 0) {
            last.set(j.seq());
          }
          return j;
        })
        .viaMat(KillSwitches.single(), Keep.right())
        .watchTermination((ks, done) -> new ChatStream(ks, done, recoveryId, last, info,
            cacheStatus == null ? new AtomicReference<>() : cacheStatus));
  }

  /**
   * Resumes the journalled stream {@code recoveryId}. {@code lastEventId} is the sequence number of the last
   * chunk the caller has (null: it has none, everything is replayed); {@code model} optionally names another
   * {@code provider/model} to continue with. Fails with kind NOT_FOUND for an unknown id and with
   * {@link ResumeConflictException} (409) for a completed or still running stream.
   */
  public CompletionStage<ResumedStream> resume(String recoveryId, ResumeStrategy strategy, String model,
      Long lastEventId) {
    if (recovery == null) {
      return CompletableFuture.failedFuture(new LlmException(ErrorKind.NOT_FOUND,
          "stream recovery is disabled (pekko-llm.recovery.enabled = off)"));
    }
    if (model != null) {
      try {
        if (groupOf(model) == null) {
          resolve(model);
        }
      } catch (LlmException e) {
        return CompletableFuture.failedFuture(e);
      }
    }
    return recovery.resume(recoveryId, strategy, model, lastEventId, runtime);
  }

  /** Resumes with the caller holding every chunk it was sent (its {@link ChatStream#lastEventId()}). */
  public CompletionStage<ResumedStream> resume(ChatStream interrupted, ResumeStrategy strategy) {
    return resume(interrupted.recoveryId(), strategy, null, interrupted.lastEventId());
  }

  /**
   * Why the stream journal cannot be used now (its entity registry or database not answering), empty when it can
   * or when recovery is disabled. Cheap enough for every health check.
   */
  public CompletionStage<Optional<String>> journalProblem() {
    return recovery == null ? CompletableFuture.completedFuture(Optional.empty()) : recovery.health();
  }

  /** What the journal knows of a stream; empty for an unknown id or when recovery is disabled. */
  public CompletionStage<Optional<StreamSnapshot>> streamStatus(String recoveryId) {
    return recovery == null ? CompletableFuture.completedFuture(Optional.empty()) : recovery.snapshot(recoveryId);
  }

  /**
   * One uninterrupted stream for callers who prefer it: when the stream breaks with a recoverable error, it
   * is resumed (strategy exact, so nothing the caller has is taken back) up to {@code maxResumes} times,
   * waiting {@code backoff} (doubling) before each. Without recovery it is the plain stream.
   */
  public Source<ChatChunk, NotUsed> streamWithAutoResume(ChatRequest request, int maxResumes, Duration backoff) {
    if (recovery == null) {
      return run(request, true);
    }
    Plan plan;
    try {
      plan = prepare(request);
    } catch (LlmException e) {
      return Source.failed(e);
    }
    String recoveryId = recovery.newRecoveryId();
    AtomicLong last = new AtomicLong();
    return autoResume(journaled(recoveryId, plan, new CallInfo(plan.truncation())), recoveryId, last, maxResumes,
        backoff);
  }

  private Source<ChatChunk, NotUsed> autoResume(Source<JournaledChunk, NotUsed> source, String recoveryId,
      AtomicLong last, int resumesLeft, Duration backoff) {
    return source
        .map(j -> {
          if (j.seq() > 0) {
            last.set(j.seq());
          }
          return j.chunk();
        })
        .recoverWithRetries(1, new org.apache.pekko.japi.JavaPartialFunction<Throwable,
            org.apache.pekko.stream.Graph<org.apache.pekko.stream.SourceShape<ChatChunk>, NotUsed>>() {
          @Override
          public org.apache.pekko.stream.Graph<org.apache.pekko.stream.SourceShape<ChatChunk>, NotUsed> apply(
              Throwable t, boolean isCheck) {
            boolean retry = resumesLeft > 0 && t instanceof LlmException le && le.isRetryable();
            if (isCheck) {
              if (!retry) {
                throw org.apache.pekko.japi.JavaPartialFunction.noMatch();
              }
              return null;
            }
            CompletionStage<Source<ChatChunk, NotUsed>> next = org.apache.pekko.pattern.Patterns
                .after(backoff, system.classicSystem().scheduler(), system.executionContext(),
                    () -> resume(recoveryId, ResumeStrategy.EXACT, null, last.get()))
                .thenApply(r -> autoResume(r.chunks(), recoveryId, last, resumesLeft - 1, backoff.multipliedBy(2)));
            return Source.completionStageSource(next).mapMaterializedValue(m -> NotUsed.getInstance());
          }
        });
  }

  private final RecoveryService.Runtime runtime = new RecoveryService.Runtime() {
    @Override
    public Source<ChatChunk, NotUsed> run(ChatRequest request) {
      return LlmClient.this.run(request, true);
    }

    @Override
    public CompletionStage<ChatResponse> chat(ChatRequest request) {
      return LlmClient.this.chat(request);
    }

    @Override
    public boolean supportsPrefill(String model) {
      int slash = model.indexOf('/');
      ProviderSettings ps = slash > 0 ? settingsByName.get(model.substring(0, slash)) : null;
      return ps != null && ps.config().hasPath("assistant-prefill") && ps.config().getBoolean("assistant-prefill");
    }
  };

  private final SessionClient.Runtime sessionRuntime = new SessionClient.Runtime() {
    @Override
    public CompletionStage<ChatResponse> chat(ChatRequest request) {
      return LlmClient.this.chat(request);
    }

    @Override
    public Source<JournaledChunk, ChatStream> streamJournaled(ChatRequest request) {
      return LlmClient.this.streamJournaled(request);
    }

    @Override
    public Optional<Cost> cost(String model, Usage usage) {
      return LlmClient.this.cost(model, usage);
    }

    @Override
    public void checkModel(String model) {
      resolve(model);
    }
  };

  /** The stream as a {@link Flow.Publisher}, for plain Java or other Reactive Streams libraries. Single subscriber. */
  public Flow.Publisher<ChatChunk> publisher(ChatRequest request) {
    return run(request, true).runWith(JavaFlowSupport.Sink.asPublisher(AsPublisher.WITHOUT_FANOUT), system);
  }

  /** Streams to callbacks. Returns the handle that cancels it. */
  public ChatStream stream(ChatRequest request, ChatStreamHandler handler) {
    Source<ChatChunk, ChatStream> source;
    try {
      source = stream(prepare(request));
    } catch (LlmException e) {
      source = failedStream(e);
    }
    ChatAccumulator acc = new ChatAccumulator();
    var pair = source
        .map(c -> {
          acc.add(c);
          handler.onChunk(c);
          return c;
        })
        .toMat(Sink.ignore(), Keep.both())
        .run(system);
    ChatStream handle = pair.first();
    pair.second().whenComplete((done, err) -> {
      if (err != null) {
        handler.onError(err);
      } else {
        handler.onComplete(respond(acc, request, handle.servedModel().orElse(null),
            handle.truncation().orElse(null)));
      }
    });
    return handle;
  }

  /**
   * One model a call may go to: its route, its {@code provider/model} id, the request that model gets (its own
   * model id; shortened when truncation was asked for and needed) and what truncation did (null when nothing).
   */
  record Prepared(String id, Route route, ChatRequest upstream, TruncationReport truncation) {}

  /**
   * A call ready to run: the caller's request, its group (null for one model), and the models it may go to, in
   * configured order (a group's strategy orders them per call). {@code truncation} is what the single model's
   * request lost.
   */
  /**
   * A call ready to run: its models (one, or a group's), and its response-cache key and TTL (null when the
   * request does not use the cache; calls to a model group are not cached).
   */
  record Plan(ChatRequest request, ModelGroup group, List<Prepared> candidates, String cacheKey, Duration cacheTtl) {
    TruncationReport truncation() {
      return candidates.size() == 1 ? candidates.get(0).truncation() : null;
    }
  }

  private ModelGroup groupOf(String model) {
    return model != null && model.indexOf('/') < 0 ? routing.group(model).orElse(null) : null;
  }

  /**
   * Resolves the provider (or the group's models) and fits the request to each model's context window. Cheap
   * on the hot path: one map read for the catalog entry, then a character count; tokenizing only happens near
   * the window (see {@link ContextGuard}).
   */
  private Plan prepare(ChatRequest request) {
    ModelGroup group = groupOf(request.model());
    if (group == null) {
      Prepared only = prepareOne(request, request.model(), resolve(request.model()), true);
      Duration ttl = cache.enabled() ? cache.settings().ttlFor(request.cache()) : null;
      // Keyed by what is sent (after truncation) to which provider/model: requests that send the same share it.
      String key = ttl == null ? null : CacheKeys.of(only.upstream().withModel(only.id()));
      return new Plan(request, null, List.of(only), key, ttl);
    }
    List<Prepared> fits = new ArrayList<>(group.models().size());
    LlmException tooLong = null;
    String firstEnabled = null;
    for (String id : group.models()) {
      Route route = resolve(id);
      if (!settingsByName.get(route.provider()).enabled()) {
        continue;
      }
      firstEnabled = firstEnabled == null ? id : firstEnabled;
      try {
        // Truncation is the last resort: first look for a member whose window holds the whole request.
        fits.add(prepareOne(request, id, route, false));
      } catch (LlmException e) {
        if (e.kind() != ErrorKind.CONTEXT_LENGTH_EXCEEDED) {
          throw e;
        }
        tooLong = e;
        metrics.fellBack(group.name(), id, "context_window");
      }
    }
    if (fits.isEmpty()) {
      if (firstEnabled == null) {
        throw new LlmException(ErrorKind.AUTHENTICATION, "no model of group '" + group.name()
            + "' has an enabled provider: " + String.join(", ", group.models()), null, false, "model");
      }
      if (request.truncation() == null) {
        throw new LlmException(ErrorKind.CONTEXT_LENGTH_EXCEEDED, "the request fits the context window of no model "
            + "of group '" + group.name() + "' (" + String.join(", ", group.models()) + "); the last said: "
            + tooLong.getMessage(), tooLong, false, "messages");
      }
      fits.add(prepareOne(request, firstEnabled, resolve(firstEnabled), true));
    }
    return new Plan(request, group, List.copyOf(fits), null, null);
  }

  private Prepared prepareOne(ChatRequest request, String id, Route route, boolean mayTruncate) {
    ChatRequest toSend = id.equals(request.model()) ? request : request.withModel(id);
    TruncationReport truncation = null;
    if (contextGuard != null) {
      ContextFit fit = contextGuard.fit(mayTruncate || toSend.truncation() == null ? toSend
          : toSend.withTruncation(null));
      toSend = fit.request();
      truncation = fit.truncation().orElse(null);
    }
    // The truncation and retry options are the client's business; the provider gets a copy without them.
    // The truncation, retry and cache options are the client's business; the provider gets a copy without them.
    ChatRequest upstream = toSend.truncation() == null && toSend.retry() == null && toSend.cache() == null
        ? toSend.withModel(route.model())
        : toSend.toBuilder().model(route.model()).truncation(null).retry(null).cache(null).build();
    return new Prepared(id, route, upstream, truncation);
  }

  /**
   * The folded answer, named after the model that served (else the one asked for), with its cost (by that model,
   * else the one the provider ran) and truncation.
   */
  private ChatResponse respond(ChatAccumulator acc, ChatRequest request, CallInfo info) {
    return respond(acc, request, info.servedModel(), info.truncation());
  }

  private ChatResponse respond(ChatAccumulator acc, ChatRequest request, String served, TruncationReport truncation) {
    String model = served != null ? served : request.model();
    ChatResponse r = acc.toResponse(model);
    Optional<Cost> cost = Optional.empty();
    if (r.usage() != null) {
      cost = costs.cost(model, r.usage());
      int slash = model.indexOf('/');
      if (cost.isEmpty() && slash > 0 && catalog.find(model).isEmpty() && r.providerModel() != null) {
        // A model id the catalog lacks may still resolve to a dated snapshot it lists.
        cost = costs.cost(model.substring(0, slash) + "/" + r.providerModel(), r.usage());
      }
    }
    return new ChatResponse(r.id(), r.model(), r.providerModel(), r.text(), r.reasoning(), r.toolCalls(),
        r.finishReason(), r.usage(), cost.orElse(null), truncation);
  }

  private CacheAccounting cacheAccounting(String provider) {
    ProviderSettings ps = settingsByName.get(provider);
    if (ps != null && CacheAccounting.forProvider(ps.kind()) == CacheAccounting.SEPARATE_FROM_INPUT) {
      return CacheAccounting.SEPARATE_FROM_INPUT;
    }
    return CacheAccounting.forProvider(provider);
  }

  /**
   * The one path every call takes: its models in the group's order, each attempt through {@link #attempt}, with
   * retries and fallbacks decided by {@link ResilientCall} until the first chunk reaches the caller.
   */
  private Source<ChatChunk, NotUsed> run(Plan plan, boolean streaming, CallInfo info) {
    return Source.lazySource(() -> new ResilientCall(this, plan, order(plan), streaming, info).start())
        .mapMaterializedValue(f -> NotUsed.getInstance());
  }

  /** The plan's models in the order its group's strategy gives now; models with an open breaker go last. */
  private List<Prepared> order(Plan plan) {
    List<Prepared> c = plan.candidates();
    if (c.size() == 1) {
      return c;
    }
    List<Prepared> out = new ArrayList<>(c);
    switch (plan.group().strategy()) {
      case LEAST_LATENCY -> out.sort(Comparator.comparingDouble(p -> load(p).ttftEwmaMillis() > 0
          ? load(p).ttftEwmaMillis() : load(p).latencyEwmaMillis()));
      case LEAST_BUSY -> out.sort(Comparator.comparingInt(p -> load(p).inFlight() + load(p).queued()));
      case LOWEST_COST -> out.sort(Comparator.comparing(p -> catalog.find(p.id())
          .flatMap(e -> e.pricing().blended()).orElse(null), Comparator.nullsLast(Comparator.naturalOrder())));
      case ORDERED -> { }
    }
    out.sort(Comparator.comparingInt(p -> load(p).breakerState() == ProviderLoad.OPEN ? 1 : 0));
    return out;
  }

  private ProviderLoad load(Prepared p) {
    return loads.get(p.route().provider());
  }

  ActorSystem<?> actorSystem() {
    return system;
  }

  LlmMetrics meters() {
    return metrics;
  }

  ProviderSettings providerSettings(String provider) {
    return settingsByName.get(provider);
  }

  /**
   * One attempt on one model: admission from its provider's actor (breaker, limits, queue), the provider's
   * stream under the provider's time limits, and the outcome reported to the actor and the metrics when it
   * ends, however it ends.
   */
  Source<ChatChunk, NotUsed> attempt(Prepared prepared, boolean streaming) {
    Route route = prepared.route();
    ChatRequest upstream = prepared.upstream();
    ProviderSettings ps = settingsByName.get(route.provider());
    // One inner stream (the provider's) per attempt: each nested stream on the per-chunk path costs an event.
    return DeferredSource.<ChatChunk, Attempt>of(() -> new Attempt(prepared, System.nanoTime()), a -> {
          a.admission = acquire(route, route.model(), estimateTokens(upstream), ps);
          return a.admission.thenApply(g -> ChunkTimeouts.apply(
              g.provider().stream(upstream, streaming), ps.resilience().timeouts(), route.provider(), streaming)
              .map(a::onChunk));
        })
        .watchTermination((a, done) -> {
          done.whenComplete((d, err) -> {
            CompletionStage<ProviderActor.Granted> admission = a.admission;
            if (admission == null) {
              a.ended(null, err);
            } else {
              admission.whenComplete((g, denied) -> a.ended(g, err));
            }
          });
          return NotUsed.getInstance();
        });
  }

  /**
   * {@link #attempt} for a non-streamed call, without a stream: admission, the provider's
   * {@link ChatProvider#complete} under the response and total time limits, and the same report when it ends.
   * Fails with the attempt's {@link LlmException} (never wrapped).
   */
  CompletionStage<List<ChatChunk>> attemptWhole(Prepared prepared) {
    Route route = prepared.route();
    ChatRequest upstream = prepared.upstream();
    ProviderSettings ps = settingsByName.get(route.provider());
    Attempt a = new Attempt(prepared, System.nanoTime());
    CompletableFuture<List<ChatChunk>> result = new CompletableFuture<>();
    acquire(route, route.model(), estimateTokens(upstream), ps).whenComplete((granted, denied) -> {
      if (denied != null) {
        Throwable cause = Futures.cause(denied);
        a.ended(null, cause);
        result.completeExceptionally(cause);
        return;
      }
      CompletionStage<List<ChatChunk>> call;
      try {
        call = granted.provider().complete(upstream, materializer);
      } catch (RuntimeException e) {
        call = CompletableFuture.failedFuture(e);
      }
      withTimeLimit(call, ps.resilience().timeouts(), route.provider()).whenComplete((chunks, err) -> {
        Throwable cause = Futures.cause(err);
        try {
          if (cause == null) {
            for (ChatChunk c : chunks) {
              a.onChunk(c);
            }
          }
          a.ended(granted, cause);
        } finally {
          if (cause == null) {
            result.complete(chunks);
          } else {
            result.completeExceptionally(cause);
          }
        }
      });
    }).exceptionally(t -> {
      // A bug above must not leave the caller waiting forever.
      result.completeExceptionally(Futures.cause(t));
      return null;
    });
    return result;
  }

  /** {@code call} failed with the TIMEOUT error of the tighter of the response and total limits, if any is set. */
  private <T> CompletionStage<T> withTimeLimit(CompletionStage<T> call, TimeoutSettings timeouts, String provider) {
    Duration response = timeouts.response();
    Duration total = timeouts.total();
    if (response.isZero() && total.isZero()) {
      return call;
    }
    boolean byResponse = total.isZero() || (!response.isZero() && response.compareTo(total) <= 0);
    Duration limit = byResponse ? response : total;
    TimeoutKind kind = byResponse ? TimeoutKind.RESPONSE : TimeoutKind.TOTAL;
    CompletableFuture<T> out = new CompletableFuture<>();
    Cancellable timer = system.scheduler().scheduleOnce(limit,
        () -> out.completeExceptionally(ErrorClassifier.timeout(provider, kind, limit, null)), system.executionContext());
    call.whenComplete((v, err) -> {
      timer.cancel();
      if (err != null) {
        out.completeExceptionally(err);
      } else {
        out.complete(v);
      }
    });
    return out;
  }

  /** The state of one attempt; its stream's stages touch it one at a time. */
  private final class Attempt {
    private final Prepared prepared;
    private final long start;
    // Set when the attempt starts (asks for admission); read when it ends.
    private volatile CompletionStage<ProviderActor.Granted> admission;
    private long firstChunkNanos = -1;
    private Usage usage;

    Attempt(Prepared prepared, long start) {
      this.prepared = prepared;
      this.start = start;
    }

    ChatChunk onChunk(ChatChunk c) {
      if (firstChunkNanos < 0) {
        firstChunkNanos = System.nanoTime() - start;
      }
      if (c.usage() != null) {
        usage = usage == null ? c.usage() : usage.merge(c.usage());
      }
      return c;
    }

    /** {@code granted} null when admission was refused; {@code err} null when the stream completed. */
    void ended(ProviderActor.Granted granted, Throwable err) {
      long nanos = System.nanoTime() - start;
      boolean cancelled = err instanceof org.apache.pekko.stream.AbruptStageTerminationException
          || err instanceof org.apache.pekko.stream.SubscriptionWithCancelException.NonFailureCancellation;
      LlmException le = err instanceof LlmException e ? e : null;
      ErrorKind kind = err == null ? null : cancelled ? ErrorKind.CANCELLED : le != null ? le.kind() : ErrorKind.INTERNAL;
      Route route = prepared.route();
      if (granted != null) {
        long tokens = usage == null ? 0 : (long) usage.inputTokens() + usage.outputTokens();
        route.actor().tell(new ProviderActor.Release(granted.permit(), nanos, firstChunkNanos, kind,
            err == null ? null : err.getMessage(), le == null ? null : le.retryAfter().orElse(null), tokens,
            cancelled));
      }
      Cost cost = usage == null ? null : costs.cost(prepared.id(), usage).orElse(null);
      metrics.attemptEnded(route.provider(), route.model(), granted != null, kind, cancelled, nanos, firstChunkNanos,
          usage, cost);
    }
  }

  /**
   * A cheap upper-side token estimate for rate limiting: four characters a token, plus the whole max_tokens
   * (OpenAI counts max_tokens against tokens-per-minute too). Corrected by the reported usage when the call ends.
   */
  private static long estimateTokens(ChatRequest request) {
    long chars = 0;
    for (Message m : request.messages()) {
      if (m instanceof Message.User u) {
        // User.text() joins the parts into a new string; counting them does not allocate.
        for (ContentPart part : u.content()) {
          if (part instanceof ContentPart.Text t) {
            chars += t.text().length();
          }
        }
      } else {
        chars += m.text().length();
      }
    }
    return chars / 4 + (request.maxTokens() == null ? 0 : request.maxTokens());
  }

  private CompletionStage<ProviderActor.Granted> acquire(Route route, String model, long tokens, ProviderSettings ps) {
    // The actor answers within the queue timeout; the ask only guards against an actor that cannot answer at
    // all (restarting), so a call that waits in the queue is never abandoned with its permit still to come.
    Duration timeout = ps == null ? settings.admissionTimeout()
        : settings.admissionTimeout().plus(ps.resilience().rateLimit().queueTimeout());
    return AskPattern.<ProviderActor.Command, ProviderActor.Admission>ask(route.actor(),
            r -> new ProviderActor.Acquire(model, tokens, r), timeout, system.scheduler())
        .handle((admission, err) -> {
          if (err != null) {
            throw new LlmException(ErrorKind.OVERLOADED, "provider '" + route.provider()
                + "' did not grant admission within " + timeout.toMillis() + " ms", err, true, null);
          }
          if (admission instanceof ProviderActor.Denied d) {
            throw d.error();
          }
          return (ProviderActor.Granted) admission;
        });
  }

  record Route(String provider, String model, ActorRef<ProviderActor.Command> actor) {}

  private Route resolve(String model) {
    if (model == null || model.isBlank()) {
      throw LlmException.invalidRequest("'model' is required: use provider/model, e.g. mock/echo", "model");
    }
    int slash = model.indexOf('/');
    if (slash <= 0 || slash == model.length() - 1) {
      String groups = routing.groups().isEmpty() ? ""
          : "; or a model group: " + String.join(", ", routing.groups().keySet().stream().sorted().toList());
      throw new LlmException(ErrorKind.MODEL_NOT_FOUND, "model '" + model
          + "' must be named provider/model, e.g. openai/gpt-4o-mini or mock/echo; providers: "
          + String.join(", ", providers.keySet().stream().sorted().toList()) + groups, null, false, "model");
    }
    String provider = model.substring(0, slash);
    ActorRef<ProviderActor.Command> ref = providers.get(provider);
    if (ref == null) {
      throw new LlmException(ErrorKind.MODEL_NOT_FOUND, "unknown provider '" + provider + "' in model '" + model
          + "'; configured providers: " + String.join(", ", providers.keySet().stream().sorted().toList()),
          null, false, "model");
    }
    return new Route(provider, model.substring(slash + 1), ref);
  }

  /**
   * Models of every enabled provider, from their APIs. A provider whose listing fails or times out is left
   * out (its error is in {@link #providerStatus()} once it has served calls); the result is sorted by id.
   */
  public CompletionStage<List<ModelInfo>> listModels() {
    List<CompletableFuture<List<ModelInfo>>> parts = new ArrayList<>();
    for (String name : providers.keySet()) {
      if (!settingsByName.get(name).enabled()) {
        continue;
      }
      parts.add(listModels(name).toCompletableFuture()
          .completeOnTimeout(List.of(), settings.modelsTimeout().toMillis(), TimeUnit.MILLISECONDS)
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

  /**
   * Models of every enabled provider as discovery knows them: each provider's API listing, kept for its TTL
   * ({@code pekko-llm.model-discovery}), or its catalog models when its API fails and has never answered (its
   * last answer when it has). Sorted by id. What {@code GET /v1/models} serves.
   */
  public CompletionStage<List<ModelInfo>> discoverModels() {
    return discovery.models(enabledProviderNames()).thenApply(lists -> {
      List<ModelInfo> all = new ArrayList<>();
      lists.forEach(l -> all.addAll(l.models()));
      all.sort(Comparator.comparing(ModelInfo::id));
      return all;
    });
  }

  /** Model discovery: per-provider listings with their source ({@link ProviderModels}), invalidation. */
  public ModelDiscovery modelDiscovery() {
    return discovery;
  }

  /** Models of one provider, from its API (uncached; see {@link #discoverModels()} for the kept lists). */
  public CompletionStage<List<ModelInfo>> listModels(String provider) {
    ActorRef<ProviderActor.Command> ref = providers.get(provider);
    if (ref == null) {
      return CompletableFuture.failedFuture(new LlmException(ErrorKind.MODEL_NOT_FOUND, "unknown provider '" + provider + "'"));
    }
    Route route = new Route(provider, "", ref);
    return acquire(route, null, 0, settingsByName.get(provider)).thenCompose(g -> g.provider().listModels()
        .whenComplete((m, err) -> {
          Throwable t = io.pekkollm.util.Futures.cause(err);
          ErrorKind kind = t == null ? null : t instanceof LlmException le ? le.kind() : ErrorKind.NETWORK;
          ref.tell(new ProviderActor.Release(g.permit(), 0, kind, t == null ? null : t.getMessage(), false));
        }));
  }

  /** The state of every provider, in name order. */
  public CompletionStage<List<ProviderStatus>> providerStatus() {
    List<CompletableFuture<ProviderStatus>> parts = new ArrayList<>();
    providers.values().forEach(ref -> parts.add(AskPattern.<ProviderActor.Command, ProviderStatus>ask(ref,
        ProviderActor.GetStatus::new, Duration.ofSeconds(3), system.scheduler()).toCompletableFuture()));
    return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new))
        .thenApply(v -> parts.stream().map(CompletableFuture::join)
            .sorted(Comparator.comparing(ProviderStatus::name)).toList());
  }

  /** The names of the configured providers (enabled or not). */
  public List<String> providerNames() {
    return providers.keySet().stream().sorted().toList();
  }

  /** The names of the providers that may be called (configured and enabled), sorted. */
  public List<String> enabledProviderNames() {
    return settingsByName.values().stream().filter(ProviderSettings::enabled).map(ProviderSettings::name).sorted()
        .toList();
  }

  /** Stops the provider actors; terminates the ActorSystem when this client created it. */
  public CompletionStage<Done> shutdown() {
    cache.stop();
    discovery.stop();
    synchronized (this) {
      if (sessions != null) {
        sessions.stop();
      }
    }
    system.classicSystem().stop(org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(supervisor));
    if (ownsSystem) {
      system.terminate();
      return system.getWhenTerminated();
    }
    return CompletableFuture.completedFuture(Done.getInstance());
  }

  @Override
  public void close() {
    shutdown().toCompletableFuture().join();
  }

  /** Builds an {@link LlmClient}. Not thread-safe. */
  public static final class Builder {
    private Config config;
    private ActorSystem<?> system;
    private final Map<String, ChatProvider> customProviders = new LinkedHashMap<>();
    private ModelCatalog catalog;
    private MeterRegistry meterRegistry;

    private Builder() {}

    /** The configuration; default {@link LlmConfig#load()}, or the host system's when embedding. */
    public Builder config(Config value) {
      this.config = value;
      return this;
    }

    /** Run inside this (host) ActorSystem instead of creating one; the client will not terminate it. */
    public Builder system(ActorSystem<?> value) {
      this.system = value;
      return this;
    }

    /**
     * Adds a provider instance (a {@link io.pekkollm.provider.mock.MockProvider}, or your own
     * {@link ChatProvider}) under its {@link ChatProvider#name()}, replacing a configured one of that name.
     * It gets the {@code provider-defaults} settings (retries, breaker, limits, timeouts), overridden by a
     * {@code pekko-llm.providers.<name>} block when the configuration has one.
     */
    public Builder provider(ChatProvider provider) {
      customProviders.put(provider.name(), provider);
      return this;
    }

    /**
     * The model catalog to use instead of loading one from {@code pekko-llm.catalog} (the bundled catalog plus
     * {@code models-dir}).
     */
    public Builder catalog(ModelCatalog value) {
      this.catalog = value;
      return this;
    }

    /**
     * Where metrics go, e.g. your application's registry; default a new {@link PrometheusMeterRegistry}, which
     * the gateway serves at {@code /metrics} (another registry type is recorded into but not served there).
     */
    public Builder meterRegistry(MeterRegistry value) {
      this.meterRegistry = value;
      return this;
    }

    public LlmClient build() {
      boolean owns = system == null;
      Config cfg = config != null ? config : owns ? LlmConfig.load() : system.settings().config();
      cfg = cfg.withFallback(ConfigFactory.defaultReference());
      LlmSettings llmSettings = LlmSettings.create(cfg);
      CatalogSettings catalogSettings = CatalogSettings.create(cfg);
      RoutingSettings routing = RoutingSettings.create(cfg);
      LlmMetrics metrics = LlmMetrics.create(meterRegistry != null ? meterRegistry
          : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), MetricsSettings.create(cfg));
      // Before any actor starts: a malformed catalog file must fail start-up with nothing to clean up.
      ModelCatalog models = catalog != null ? catalog : ModelCatalog.load(catalogSettings);
      JournalSettings journal = JournalSettings.create(cfg);
      if (journal.enabled()) {
        // Opens the database and creates the tables while the actor system starts; RecoveryService waits for it.
        io.pekkollm.recovery.JournalSchema.prepare(journal);
      }
      ActorSystem<?> sys;
      try {
        sys = owns ? ActorSystem.create(Behaviors.empty(), "pekko-llm", cfg) : system;
      } catch (RuntimeException | Error e) {
        io.pekkollm.recovery.JournalSchema.forget(journal);
        throw e;
      }
      try {
        Map<String, ProviderSupervisor.Spec> specs = new LinkedHashMap<>();
        for (ProviderSettings ps : llmSettings.providers()) {
          specs.put(ps.name(), new ProviderSupervisor.Spec(ps, Providers.factoryFor(ps)));
        }
        Config defaults = cfg.getConfig("pekko-llm.provider-defaults");
        Config configured = cfg.getConfig("pekko-llm.providers");
        for (ChatProvider p : customProviders.values()) {
          // A provider instance has no URL of its own; the settings still need one (shown in status and logs).
          Config own = configured.hasPath("\"" + p.name() + "\"") ? configured.getConfig("\"" + p.name() + "\"")
              : ConfigFactory.empty();
          ProviderSettings base = ProviderSettings.create(p.name(), ConfigFactory.parseMap(Map.of("kind", "custom",
              "enabled", "on", "default-base-url", "custom://" + p.name())).withFallback(own.withoutPath("kind")
              .withoutPath("enabled").withoutPath("base-url")).withFallback(defaults));
          ProviderFactory fixed = (s, sy) -> p;
          specs.put(p.name(), new ProviderSupervisor.Spec(base, fixed));
        }
        return new LlmClient(sys, owns, llmSettings, specs, models, catalogSettings.contextCheck(),
            journal, routing, metrics, CacheSettings.create(cfg), DiscoverySettings.create(cfg),
            SessionSettings.create(cfg));
      } catch (RuntimeException e) {
        io.pekkollm.recovery.JournalSchema.forget(journal);
        if (owns) {
          sys.terminate();
        }
        throw e;
      }
    }
  }
}
