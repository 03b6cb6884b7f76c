package io.pekkollm.api;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.pekkollm.cache.CacheKeys;
import io.pekkollm.cache.CacheSettings;
import io.pekkollm.cache.DiscoverySettings;
import io.pekkollm.cache.ModelDiscovery;
import io.pekkollm.cache.ProviderModels;
import io.pekkollm.cache.ResponseCache;
import io.pekkollm.catalog.CacheAccounting;
import io.pekkollm.catalog.CatalogSettings;
import io.pekkollm.catalog.ContextFit;
import io.pekkollm.catalog.ContextGuard;
import io.pekkollm.catalog.CostCalculator;
import io.pekkollm.catalog.ModelCatalog;
import io.pekkollm.model.CacheStatus;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.Cost;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.ModelInfo;
import io.pekkollm.model.TruncationReport;
import io.pekkollm.model.Usage;
import io.pekkollm.provider.ChatProvider;
import io.pekkollm.provider.ProviderActor;
import io.pekkollm.provider.ProviderFactory;
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
import io.pekkollm.stream.ChatAccumulator;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.javadsl.AsPublisher;
import org.apache.pekko.stream.javadsl.JavaFlowSupport;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The Java entry point: one interface to every configured provider. Models are named {@code provider/model}
 * ({@code openai/gpt-4o-mini}, {@code mock/echo}).
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
 */
public final class LlmClient implements AutoCloseable {
  private final ActorSystem<?> system;
  private final boolean ownsSystem;
  private final ActorRef<ProviderSupervisor.Command> supervisor;
  private final Map<String, ActorRef<ProviderActor.Command>> providers;
  private final Map<String, ProviderSettings> settingsByName;
  private final LlmSettings settings;
  private final RecoveryService recovery;
  private final ModelCatalog catalog;
  private final CostCalculator costs;
  private final ContextGuard contextGuard;
  private final ResponseCache cache;
  private final ModelDiscovery discovery;
  private final SessionSettings sessionSettings;
  private final JournalSettings journalSettings;
  private volatile SessionClient sessions;

  private LlmClient(ActorSystem<?> system, boolean ownsSystem, LlmSettings settings,
      Map<String, ProviderSupervisor.Spec> specs, ModelCatalog catalog, boolean contextCheck, JournalSettings journal,
      CacheSettings cacheSettings, DiscoverySettings discoverySettings, SessionSettings sessionSettings) {
    this.system = system;
    this.ownsSystem = ownsSystem;
    this.settings = settings;
    Map<String, ProviderSettings> byName = new LinkedHashMap<>();
    specs.forEach((name, spec) -> byName.put(name, spec.settings()));
    this.settingsByName = Map.copyOf(byName);
    this.catalog = catalog;
    this.costs = CostCalculator.create(catalog, this::cacheAccounting);
    this.contextGuard = contextCheck ? ContextGuard.create(catalog) : null;
    this.supervisor = system.systemActorOf(
        ProviderSupervisor.create(specs.values(), settings.restartMinBackoff(), settings.restartMaxBackoff()),
        "pekko-llm-providers-" + System.identityHashCode(this), Props.empty());
    try {
      this.providers = AskPattern.<ProviderSupervisor.Command, ProviderSupervisor.Providers>ask(supervisor,
              ProviderSupervisor.GetProviders::new, Duration.ofSeconds(10), system.scheduler())
          .toCompletableFuture().get(10, TimeUnit.SECONDS).refs();
    } catch (Exception e) {
      throw new IllegalStateException("the provider actors did not start", e);
    }
    this.recovery = journal.enabled()
        ? RecoveryService.start(system, journal, "pekko-llm-recovery-" + System.identityHashCode(this))
        : null;
    this.cache = ResponseCache.start(system, cacheSettings, "pekko-llm-cache-" + System.identityHashCode(this));
    this.discovery = ModelDiscovery.start(system, discoverySettings, this::listModels,
        provider -> catalog.models(provider).stream().map(e -> new ModelInfo(e.id(), provider, 0, provider)).toList(),
        provider -> discoverySettings.ttlFor(settingsByName.get(provider)),
        "pekko-llm-models-" + System.identityHashCode(this));
    this.sessionSettings = sessionSettings;
    this.journalSettings = journal;
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

  /** A client with its own ActorSystem, configured by {@code ConfigFactory.load()}. */
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

  /**
   * The response cache: stats (for metrics: {@link ResponseCache#stats()} answers without blocking), listing,
   * clear and delete. Present even when {@code pekko-llm.cache.mode = off} (then it is empty and disabled).
   */
  public ResponseCache cache() {
    return cache;
  }

  /** The model catalog this client prices and checks requests with. */
  public ModelCatalog catalog() {
    return catalog;
  }

  /**
   * The cost of {@code usage} on {@code model} ({@code provider/model}); empty when the catalog does not know
   * the model or a price the usage needs. For callers that fold {@link #stream} themselves.
   */
  public Optional<Cost> cost(String model, Usage usage) {
    return costs.cost(model, usage);
  }

  /** Sends {@code request} and completes with the whole answer. Fails with an {@link LlmException}. */
  public CompletionStage<ChatResponse> chat(ChatRequest request) {
    Prepared prepared;
    try {
      prepared = prepare(request);
    } catch (LlmException e) {
      return CompletableFuture.failedFuture(e);
    }
    ChatAccumulator acc = new ChatAccumulator();
    AtomicReference<CacheStatus> cacheStatus = new AtomicReference<>();
    return source(prepared, false, cacheStatus::set)
        .runWith(Sink.foreach(acc::add), system)
        .thenApply(done -> {
          ChatResponse r = respond(acc, request, prepared);
          return cacheStatus.get() == null ? r : r.withCacheStatus(cacheStatus.get());
        });
  }

  /**
   * Streams the answer. Nothing is sent until the source is materialized; the materialized {@link ChatStream}
   * cancels it and reports truncation. Backpressure reaches the provider: a slow consumer slows the upstream
   * read. The context-window check runs now, so a request that cannot fit gives a source that fails at once.
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
      return withHandle(Source.failed(e), null, null, null);
    }
  }

  private Source<ChatChunk, ChatStream> stream(Prepared prepared) {
    return streamJournaled(prepared).map(JournaledChunk::chunk);
  }

  private Source<JournaledChunk, ChatStream> streamJournaled(Prepared prepared) {
    String recoveryId = recovery == null ? null : recovery.newRecoveryId();
    AtomicReference<CacheStatus> cacheStatus = new AtomicReference<>();
    return withHandle(journaled(recoveryId, prepared, cacheStatus::set), recoveryId, prepared.truncation(),
        cacheStatus);
  }

  private static Source<ChatChunk, ChatStream> failedStream(LlmException e) {
    return withHandle(Source.failed(e), null, null, null).map(JournaledChunk::chunk);
  }

  private Source<JournaledChunk, NotUsed> journaled(String recoveryId, Prepared prepared) {
    return journaled(recoveryId, prepared, s -> { });
  }

  /**
   * The answer's chunks with their sequence numbers: journalled when recovery is on. A cached answer is
   * journalled like any other, so a replayed stream has its own recovery id and SSE ids 1, 2, 3, ...
   */
  private Source<JournaledChunk, NotUsed> journaled(String recoveryId, Prepared prepared,
      Consumer<CacheStatus> cacheStatus) {
    if (recoveryId == null) {
      long[] seq = new long[1];
      return Source.lazySource(() -> source(prepared, true, cacheStatus)
              .map(c -> new JournaledChunk(c.usage() != null && isUsageOnly(c) ? 0 : ++seq[0], c)))
          .mapMaterializedValue(m -> NotUsed.getInstance());
    }
    // The journal keeps the request as sent (after any truncation) under the caller's provider/model id.
    Route route = prepared.route();
    ChatRequest stored = prepared.upstream().withModel(route.provider() + "/" + route.model());
    return recovery.journal(recoveryId, stored, route.provider(), source(prepared, true, cacheStatus));
  }

  /**
   * The upstream answer of {@code prepared}, through the response cache when the request uses it (stored answers
   * replayed, identical calls in flight shared), else straight from the provider.
   */
  private Source<ChatChunk, NotUsed> source(Prepared prepared, boolean streaming, Consumer<CacheStatus> cacheStatus) {
    if (prepared.cacheKey() == null) {
      return run(prepared, streaming);
    }
    Route route = prepared.route();
    return cache.serve(prepared.cacheKey(), route.provider() + "/" + route.model(), prepared.cacheTtl(),
        () -> run(prepared, streaming), cacheStatus);
  }

  /** {@link #run(Prepared, boolean)} for a request not yet prepared; errors become a failed source. */
  private Source<ChatChunk, NotUsed> run(ChatRequest request, boolean streaming) {
    try {
      return run(prepare(request), streaming);
    } catch (LlmException e) {
      return Source.failed(e);
    }
  }

  private static boolean isUsageOnly(ChatChunk c) {
    return (c.textDelta() == null || c.textDelta().isEmpty()) && (c.reasoningDelta() == null || c.reasoningDelta().isEmpty())
        && c.toolCalls().isEmpty() && c.finishReason() == null;
  }

  private static Source<JournaledChunk, ChatStream> withHandle(Source<JournaledChunk, NotUsed> source, String recoveryId,
      TruncationReport truncation, AtomicReference<CacheStatus> cacheStatus) {
    AtomicLong last = new AtomicLong();
    return source
        .map(j -> {
          if (j.seq() > 0) {
            last.set(j.seq());
          }
          return j;
        })
        .viaMat(KillSwitches.single(), Keep.right())
        .watchTermination((ks, done) -> new ChatStream(ks, done, recoveryId, last, truncation,
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
        resolve(model);
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
    Prepared prepared;
    try {
      prepared = prepare(request);
    } catch (LlmException e) {
      return Source.failed(e);
    }
    String recoveryId = recovery.newRecoveryId();
    AtomicLong last = new AtomicLong();
    return autoResume(journaled(recoveryId, prepared), recoveryId, last, maxResumes, backoff);
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
    Source<ChatChunk, NotUsed> source;
    try {
      source = source(prepare(request), true, s -> { });
    } catch (LlmException e) {
      source = Source.failed(e);
    }
    return source.runWith(JavaFlowSupport.Sink.asPublisher(AsPublisher.WITHOUT_FANOUT), system);
  }

  /** Streams to callbacks. Returns the handle that cancels it. */
  public ChatStream stream(ChatRequest request, ChatStreamHandler handler) {
    Prepared prepared;
    Source<ChatChunk, ChatStream> source;
    try {
      prepared = prepare(request);
      source = stream(prepared);
    } catch (LlmException e) {
      prepared = null;
      source = failedStream(e);
    }
    Prepared p = prepared;
    ChatAccumulator acc = new ChatAccumulator();
    var pair = source
        .map(c -> {
          acc.add(c);
          handler.onChunk(c);
          return c;
        })
        .toMat(Sink.ignore(), Keep.both())
        .run(system);
    pair.second().whenComplete((done, err) -> {
      if (err != null) {
        handler.onError(err);
      } else {
        handler.onComplete(respond(acc, request, p));
      }
    });
    return pair.first();
  }

  /**
   * A request ready to send: its route, the request the provider gets (its own model id; shortened when
   * truncation was asked for and needed) and what truncation did (null when nothing).
   */
  private record Prepared(Route route, ChatRequest upstream, TruncationReport truncation, String cacheKey,
      Duration cacheTtl) {}

  /**
   * Resolves the provider and fits the request to the model's context window. Cheap on the hot path: one map
   * read for the catalog entry, then a character count; tokenizing only happens near the window (see
   * {@link ContextGuard}).
   */
  private Prepared prepare(ChatRequest request) {
    Route route = resolve(request.model());
    ChatRequest toSend = request;
    TruncationReport truncation = null;
    if (contextGuard != null) {
      ContextFit fit = contextGuard.fit(request);
      toSend = fit.request();
      truncation = fit.truncation().orElse(null);
    }
    // The truncation option is the client's business; the provider gets a copy without it.
    ChatRequest upstream = toSend.truncation() == null ? toSend.withModel(route.model())
        : toSend.toBuilder().model(route.model()).truncation(null).build();
    Duration ttl = cache.enabled() ? cache.settings().ttlFor(request.cache()) : null;
    // Keyed by what is sent (after truncation) to which provider/model: requests that send the same share it.
    String key = ttl == null ? null : CacheKeys.of(upstream.withModel(route.provider() + "/" + route.model()));
    return new Prepared(route, upstream, truncation, key, ttl);
  }

  /** The folded answer, with its cost (by the model asked for, else the one the provider ran) and truncation. */
  private ChatResponse respond(ChatAccumulator acc, ChatRequest request, Prepared prepared) {
    ChatResponse r = acc.toResponse(request.model());
    Optional<Cost> cost = Optional.empty();
    if (r.usage() != null) {
      cost = costs.cost(request.model(), r.usage());
      if (cost.isEmpty() && catalog.find(request.model()).isEmpty() && r.providerModel() != null) {
        // A model id the catalog lacks may still resolve to a dated snapshot it lists.
        cost = costs.cost(prepared.route().provider() + "/" + r.providerModel(), r.usage());
      }
    }
    return new ChatResponse(r.id(), r.model(), r.providerModel(), r.text(), r.reasoning(), r.toolCalls(),
        r.finishReason(), r.usage(), cost.orElse(null), prepared.truncation());
  }

  private CacheAccounting cacheAccounting(String provider) {
    ProviderSettings ps = settingsByName.get(provider);
    if (ps != null && CacheAccounting.forProvider(ps.kind()) == CacheAccounting.SEPARATE_FROM_INPUT) {
      return CacheAccounting.SEPARATE_FROM_INPUT;
    }
    return CacheAccounting.forProvider(provider);
  }

  /**
   * The one path every call takes: get admission from the provider's actor, run the provider's stream outside
   * the actor, and report the outcome when it ends, however it ends.
   */
  private Source<ChatChunk, NotUsed> run(Prepared prepared, boolean streaming) {
    Route route = prepared.route();
    ChatRequest upstream = prepared.upstream();
    return Source.lazySource(() -> {
      long start = System.nanoTime();
      CompletionStage<ProviderActor.Granted> admission = acquire(route);
      return Source.completionStageSource(admission.thenApply(g -> g.provider().stream(upstream, streaming)))
          .watchTermination((mat, done) -> {
            done.whenComplete((d, err) -> admission.thenAccept(g -> route.actor().tell(release(g, start, err))));
            return mat;
          });
    }).mapMaterializedValue(f -> NotUsed.getInstance());
  }

  private static ProviderActor.Release release(ProviderActor.Granted g, long start, Throwable err) {
    long nanos = System.nanoTime() - start;
    if (err == null) {
      return new ProviderActor.Release(g.permit(), nanos, null, null, false);
    }
    boolean cancelled = err instanceof org.apache.pekko.stream.AbruptStageTerminationException
        || err instanceof org.apache.pekko.stream.SubscriptionWithCancelException.NonFailureCancellation;
    ErrorKind kind = err instanceof LlmException le ? le.kind() : ErrorKind.INTERNAL;
    return new ProviderActor.Release(g.permit(), nanos, kind, err.getMessage(), cancelled);
  }

  private CompletionStage<ProviderActor.Granted> acquire(Route route) {
    return AskPattern.<ProviderActor.Command, ProviderActor.Admission>ask(route.actor(), ProviderActor.Acquire::new,
            settings.admissionTimeout(), system.scheduler())
        .handle((admission, err) -> {
          if (err != null) {
            throw new LlmException(ErrorKind.OVERLOADED, "provider '" + route.provider()
                + "' did not grant admission within " + settings.admissionTimeout().toMillis() + " ms", err, true, null);
          }
          if (admission instanceof ProviderActor.Denied d) {
            throw d.error();
          }
          return (ProviderActor.Granted) admission;
        });
  }

  private record Route(String provider, String model, ActorRef<ProviderActor.Command> actor) {}

  private Route resolve(String model) {
    if (model == null || model.isBlank()) {
      throw LlmException.invalidRequest("'model' is required: use provider/model, e.g. mock/echo", "model");
    }
    int slash = model.indexOf('/');
    if (slash <= 0 || slash == model.length() - 1) {
      throw new LlmException(ErrorKind.MODEL_NOT_FOUND, "model '" + model
          + "' must be named provider/model, e.g. openai/gpt-4o-mini or mock/echo; providers: "
          + String.join(", ", providers.keySet().stream().sorted().toList()), null, false, "model");
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
    return acquire(route).thenCompose(g -> g.provider().listModels().whenComplete((m, err) ->
        ref.tell(new ProviderActor.Release(g.permit(), 0, err == null ? null : ErrorKind.NETWORK,
            err == null ? null : err.getMessage(), false))));
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

    private Builder() {}

    /** The configuration; default {@code ConfigFactory.load()}, or the host system's when embedding. */
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

    public LlmClient build() {
      boolean owns = system == null;
      Config cfg = config != null ? config : owns ? ConfigFactory.load() : system.settings().config();
      cfg = cfg.withFallback(ConfigFactory.defaultReference());
      LlmSettings llmSettings = LlmSettings.create(cfg);
      CatalogSettings catalogSettings = CatalogSettings.create(cfg);
      // Before any actor starts: a malformed catalog file must fail start-up with nothing to clean up.
      ModelCatalog models = catalog != null ? catalog : ModelCatalog.load(catalogSettings);
      ActorSystem<?> sys = owns ? ActorSystem.create(Behaviors.empty(), "pekko-llm", cfg) : system;
      try {
        Map<String, ProviderSupervisor.Spec> specs = new LinkedHashMap<>();
        for (ProviderSettings ps : llmSettings.providers()) {
          specs.put(ps.name(), new ProviderSupervisor.Spec(ps, Providers.factoryFor(ps)));
        }
        Config defaults = cfg.getConfig("pekko-llm.provider-defaults");
        for (ChatProvider p : customProviders.values()) {
          // A provider instance has no URL of its own; the settings still need one (shown in status and logs).
          ProviderSettings base = ProviderSettings.create(p.name(), ConfigFactory.parseMap(Map.of("kind", "custom",
              "enabled", "on", "default-base-url", "custom://" + p.name())).withFallback(defaults));
          ProviderFactory fixed = (s, sy) -> p;
          specs.put(p.name(), new ProviderSupervisor.Spec(base, fixed));
        }
        return new LlmClient(sys, owns, llmSettings, specs, models, catalogSettings.contextCheck(),
            JournalSettings.create(cfg), CacheSettings.create(cfg), DiscoverySettings.create(cfg),
            SessionSettings.create(cfg));
      } catch (RuntimeException e) {
        if (owns) {
          sys.terminate();
        }
        throw e;
      }
    }
  }
}
