package io.pekkollm.api;

import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pekkollm.cache.CacheKeys;
import io.pekkollm.cache.CacheSettings;
import io.pekkollm.discovery.DiscoverySettings;
import io.pekkollm.discovery.ModelDiscovery;
import io.pekkollm.discovery.ProviderModels;
import io.pekkollm.cache.ResponseCache;
import io.pekkollm.callback.CallbackSettings;
import io.pekkollm.callback.Callbacks;
import io.pekkollm.callback.JsonLinesFileSink;
import io.pekkollm.callback.LlmCallback;
import io.pekkollm.callback.WebhookSink;
import io.pekkollm.catalog.CacheAccounting;
import io.pekkollm.catalog.Capability;
import io.pekkollm.catalog.CatalogSettings;
import io.pekkollm.catalog.ContextGuard;
import io.pekkollm.catalog.CostCalculator;
import io.pekkollm.catalog.ModelCatalog;
import io.pekkollm.catalog.Support;
import io.pekkollm.metrics.LlmMetrics;
import io.pekkollm.metrics.MetricsSettings;
import io.pekkollm.model.CacheStatus;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.EmbeddingRequest;
import io.pekkollm.model.EmbeddingResponse;
import io.pekkollm.model.Embeddings;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.Cost;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.ModelInfo;
import io.pekkollm.model.Usage;
import io.pekkollm.provider.ChatProvider;
import io.pekkollm.provider.ProviderFactory;
import io.pekkollm.provider.ProviderRegistry;
import io.pekkollm.provider.ProviderSettings;
import io.pekkollm.provider.ProviderStatus;
import io.pekkollm.provider.ProviderSupervisor;
import io.pekkollm.provider.Providers;
import io.pekkollm.journal.JournalSchema;
import io.pekkollm.journal.ClusterSettings;
import io.pekkollm.journal.EntityHost;
import io.pekkollm.journal.JournalSettings;
import io.pekkollm.recovery.JournaledChunk;
import io.pekkollm.recovery.RecoveryService;
import io.pekkollm.recovery.ResumeConflictException;
import io.pekkollm.recovery.ResumeStrategy;
import io.pekkollm.recovery.ResumedStream;
import io.pekkollm.recovery.StreamSnapshot;
import io.pekkollm.resilience.RoutingSettings;
import io.pekkollm.routing.AttemptRunner;
import io.pekkollm.routing.Plan;
import io.pekkollm.routing.Router;
import io.pekkollm.keys.KeyService;
import io.pekkollm.responses.ResponseStore;
import io.pekkollm.session.SessionClient;
import io.pekkollm.session.SessionSettings;
import io.pekkollm.stream.CallInfo;
import io.pekkollm.stream.ChatStream;
import io.pekkollm.stream.ChatAccumulator;
import io.pekkollm.structured.Structured;
import io.pekkollm.structured.StructuredOutput;
import io.pekkollm.tools.ToolFunction;
import io.pekkollm.tools.ToolLoop;
import io.pekkollm.tools.ToolLoopEvent;
import io.pekkollm.tools.ToolLoopOptions;
import io.pekkollm.tools.ToolLoopResult;
import io.pekkollm.tracing.CallTrace;
import io.pekkollm.tracing.Tracing;
import io.pekkollm.tracing.TracingSettings;
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
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.KillSwitches;
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
 *
 * <p>This class is a facade: routing is {@link Router}'s, every attempt (streamed or whole) runs through one
 * {@link AttemptRunner}, and the journal, cache, sessions and discovery are their packages' services, all wired
 * once in {@link Builder#build()}.
 */
public final class LlmClient implements AutoCloseable {
  private final ActorSystem<?> system;
  private final boolean ownsSystem;
  private final LlmSettings settings;
  private final ProviderRegistry providers;
  private final Router router;
  private final AttemptRunner runner;
  private final ModelCatalog catalog;
  private final CostCalculator costs;
  private final LlmMetrics metrics;
  private final RecoveryService recovery;
  private final ResponseCache cache;
  private final ModelDiscovery discovery;
  private final SessionSettings sessionSettings;
  private final JournalSettings journalSettings;
  private volatile SessionClient sessions;
  private volatile ResponseStore responses;
  private volatile KeyService keys;
  private final java.time.Clock clock;
  private final Callbacks callbacks;
  private final Tracing tracing;
  /** Where the stream and session entities live: this process, or the cluster. */
  private final EntityHost entityHost;
  /** The providers of the configuration and the builder, by name: what {@link #removeProvider} restores. */
  private final Map<String, ProviderSupervisor.Spec> configured;
  /** Model ids discovery falls back to for providers added at runtime that the catalog does not know. */
  private final Map<String, List<String>> fallbackModels = new java.util.concurrent.ConcurrentHashMap<>();

  private LlmClient(ActorSystem<?> system, boolean ownsSystem, LlmSettings settings, ProviderRegistry providers,
      ModelCatalog catalog, boolean contextCheck, JournalSettings journal, RoutingSettings routing,
      LlmMetrics metrics, CacheSettings cacheSettings, DiscoverySettings discoverySettings,
      SessionSettings sessionSettings, EntityHost entityHost, Callbacks callbacks, Tracing tracing,
      java.time.Clock clock, Map<String, ProviderSupervisor.Spec> configured) {
    this.system = system;
    this.tracing = tracing;
    this.configured = Map.copyOf(configured);
    this.clock = clock;
    this.entityHost = entityHost;
    this.callbacks = callbacks;
    this.ownsSystem = ownsSystem;
    this.settings = settings;
    this.providers = providers;
    this.catalog = catalog;
    this.metrics = metrics;
    this.costs = CostCalculator.create(catalog, this::cacheAccounting);
    providers.loads().forEach(metrics::bind);
    // The router first: it fails for a group naming an unknown provider, before anything else has started.
    this.router = new Router(providers, routing, catalog, contextCheck ? ContextGuard.create(catalog) : null,
        cacheSettings::ttlFor, metrics);
    String suffix = "-" + System.identityHashCode(this);
    this.cache = ResponseCache.start(system, cacheSettings, "pekko-llm-cache" + suffix);
    metrics.bind(cache);
    this.runner = new AttemptRunner(system, providers, router, costs, metrics);
    this.recovery = journal.enabled()
        ? RecoveryService.start(system, journal, entityHost, metrics::journalWrite)
        : null;
    this.discovery = ModelDiscovery.start(system, discoverySettings, this::listModels,
        this::fallbackModels,
        provider -> discoverySettings.ttlFor(providers.settings(provider)), "pekko-llm-models" + suffix);
    this.sessionSettings = sessionSettings;
    this.journalSettings = journal;
    if (entityHost.clustered()) {
      // In a cluster every node runs every entity kind from the start (EntityHost.clustered): otherwise a session
      // index, key directory or shard coordinator whose oldest node never used it runs nowhere, and a leaving
      // oldest node cannot hand it over to a node that has not started it.
      if (sessionSettings.enabled()) {
        sessions();
      }
      responses();
      keys();
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

  /**
   * Whether the catalog lists {@code model} ({@code provider/model} or an alias) as taking images: its
   * {@code vision} capability. {@link Support#UNKNOWN} for a model the catalog does not list (such a model is
   * still sent images; its provider decides).
   */
  public Support supportsVision(String model) {
    return catalog.supports(model, Capability.VISION);
  }

  /**
   * This client's tracing: {@link Tracing#off()} unless {@code pekko-llm.tracing} or {@code OTEL_EXPORTER_OTLP_ENDPOINT}
   * turn it on, or the builder was given an {@link io.opentelemetry.api.OpenTelemetry}.
   */
  public Tracing tracing() {
    return tracing;
  }

  /** This client's metrics (Micrometer); {@link LlmMetrics#scrape()} gives the Prometheus text. */
  public LlmMetrics metrics() {
    return metrics;
  }

  /** The configured model groups. */
  public RoutingSettings routing() {
    return router.routing();
  }

  /**
   * The cost of {@code usage} on {@code model} ({@code provider/model}); empty when the catalog does not know
   * the model or a price the usage needs. For callers that fold {@link #stream} themselves.
   */
  public Optional<Cost> cost(String model, Usage usage) {
    return costs.cost(model, usage);
  }

  /**
   * The cost of {@code usage} on {@code model} as every answer of this client is priced: when the catalog does not
   * know {@code model}, the dated snapshot the provider reported ({@code providerModel}, the chunks'
   * {@link ChatChunk#model()}; may be null) is priced instead. Empty when neither is priced.
   */
  public Optional<Cost> cost(String model, String providerModel, Usage usage) {
    return Optional.ofNullable(runner.cost(model, providerModel, usage));
  }

  /**
   * Sessions: conversations whose history, usage and cost the library keeps on the journal. Started on first
   * use (a client that never uses sessions opens no session actors), in cluster mode at start. Fails with IllegalStateException when
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
        sessions = SessionClient.start(system, sessionSettings, journalSettings, sessionRuntime, entityHost);
      }
      return sessions;
    }
  }

  /**
   * Stored responses of the Responses API, on the journal (H2 or PostgreSQL). Started on first use (in cluster mode
   * at start).
   */
  public ResponseStore responses() {
    ResponseStore r = responses;
    if (r != null) {
      return r;
    }
    synchronized (this) {
      if (responses == null) {
        responses = ResponseStore.start(system, journalSettings,
            system.settings().config().getConfig("pekko-llm.responses"), entityHost);
      }
      return responses;
    }
  }

  /**
   * Virtual keys (their management, checks, limits, spend and audit log), on the journal (H2 or PostgreSQL).
   * Started on first use (in cluster mode at start). The gateway checks its callers' keys here; an embedding service may hand out keys of
   * its own and admit its users' calls with {@link KeyService#admit}.
   */
  public KeyService keys() {
    KeyService k = keys;
    if (k != null) {
      return k;
    }
    synchronized (this) {
      if (keys == null) {
        keys = KeyService.start(system, journalSettings, system.settings().config().getConfig("pekko-llm.keys"),
            entityHost, clock, this::knowsModel,
            name -> router.groupOf(name) == null ? List.of() : router.groupOf(name).models(),
            alert -> callbacks.softBudgetExceeded(new io.pekkollm.callback.CallEvent.SoftBudgetExceeded(
                "soft-budget-" + alert.keyId() + "-" + alert.at(), java.time.Instant.ofEpochMilli(alert.at()),
                alert.keyId(), alert.team(), alert.spend(), alert.softBudget(),
                alert.periodEndsAt() == null ? null : java.time.Instant.ofEpochMilli(alert.periodEndsAt()))),
            metrics.enabled() ? metrics.registry() : null);
      }
      return keys;
    }
  }

  /**
   * This client calling on behalf of {@code identity}: a host service's own user, whose limits and budget are those
   * of a virtual key made with {@link #keys()} ({@link KeyService#create}), without any HTTP key. See
   * {@link IdentifiedClient}.
   */
  public IdentifiedClient as(io.pekkollm.keys.CallerIdentity identity) {
    return new IdentifiedClient(this, keys(), identity);
  }

  /** Whether {@code model} names a model group, or a model ({@code provider/model}, {@code provider/*}) of a provider. */
  private boolean knowsModel(String model) {
    int slash = model.indexOf('/');
    return router.groupOf(model) != null || (slash > 0 && slash < model.length() - 1
        && providers.settings(model.substring(0, slash)) != null);
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
   * The model a caller's id names: a {@code provider/model} id or a group name unchanged, a bare id
   * ({@code claude-sonnet-4-5}) through {@code pekko-llm.routing.model-aliases} or the catalog of the one enabled
   * provider that lists it. Fails with an {@link LlmException} (MODEL_NOT_FOUND) when that is none or several.
   * {@link #chat} and {@link #stream} take {@code provider/model} ids and groups only; callers that accept bare
   * ids resolve them here first.
   */
  public String resolveModel(String model) {
    return router.canonical(model);
  }

  /**
   * Sends {@code request} and completes with the whole answer, whose {@link ChatResponse#model()} is the
   * {@code provider/model} that served it. Fails with an {@link LlmException}.
   */
  public CompletionStage<ChatResponse> chat(ChatRequest request) {
    return callbacks.whole(request, () -> chatUnobserved(request));
  }

  private CompletionStage<ChatResponse> chatUnobserved(ChatRequest request) {
    CallTrace trace = tracing.startCall("chat", request.model());
    CompletionStage<ChatResponse> answer = chatTraced(request, trace);
    return trace.recording() ? answer.whenComplete((r, err) -> trace.end(io.pekkollm.util.Futures.cause(err))) : answer;
  }

  private CompletionStage<ChatResponse> chatTraced(ChatRequest request, CallTrace trace) {
    Plan plan;
    try {
      plan = router.plan(request);
    } catch (LlmException e) {
      return CompletableFuture.failedFuture(e);
    }
    ChatAccumulator acc = new ChatAccumulator();
    CallInfo info = new CallInfo(plan.truncation(), trace);
    if (plan.cacheKey() == null) {
      return runner.whole(plan, info).thenApply(chunks -> {
        chunks.forEach(acc::add);
        return runner.respond(acc, request, info.servedModel(), info.truncation());
      });
    }
    AtomicReference<CacheStatus> cacheStatus = new AtomicReference<>();
    return source(plan, false, info, cacheStatus(cacheStatus, trace))
        .runWith(Sink.foreach(acc::add), system)
        .thenApply(done -> {
          ChatResponse r = runner.respond(acc, request, info.servedModel(), info.truncation());
          return cacheStatus.get() == null ? r : r.withCacheStatus(cacheStatus.get());
        });
  }

  /** Where a call's cache status goes: {@code ref}, and the trace when it records. */
  private static Consumer<CacheStatus> cacheStatus(AtomicReference<CacheStatus> ref, CallTrace trace) {
    if (!trace.recording()) {
      return ref::set;
    }
    return s -> {
      ref.set(s);
      trace.cacheStatus(s);
    };
  }

  /**
   * Embeds {@code request}'s inputs: one vector per input, in order, named after the {@code provider/model} that
   * served, with the input tokens and their cost (from the catalog's embedding prices). Inputs above the
   * provider's batch limit ({@code embedding-batch-size}) are sent in several calls and merged back in order.
   * Admission, breakers, retries and model-group fallbacks are those of chat calls, and so is the response cache
   * ({@link EmbeddingRequest#cache()}, {@code pekko-llm.cache.mode}; {@link EmbeddingResponse#cache()}). Fails with an
   * {@link LlmException} (INVALID_REQUEST for a provider without embeddings).
   */
  public CompletionStage<EmbeddingResponse> embed(EmbeddingRequest request) {
    CallTrace trace = tracing.startCall("embeddings", request.model());
    CompletionStage<EmbeddingResponse> answer;
    try {
      Plan plan = router.plan(request);
      if (plan.cacheKey() == null) {
        answer = runner.embed(plan, request, trace);
      } else {
        AtomicReference<CacheStatus> status = new AtomicReference<>();
        answer = cache.serveWhole(plan.cacheKey(), plan.candidates().get(0).id(), plan.cacheTtl(),
                () -> runner.embed(plan, request, trace), r -> CacheKeys.estimateBytes(plan.cacheKey(), r),
                cacheStatus(status, trace))
            .thenApply(r -> status.get() == null ? r : r.withCacheStatus(status.get()));
      }
    } catch (LlmException e) {
      answer = CompletableFuture.failedFuture(e);
    }
    return trace.recording() ? answer.whenComplete((r, err) -> trace.end(io.pekkollm.util.Futures.cause(err))) : answer;
  }

  /** Embeds {@code texts} with {@code model} ({@code provider/model} or a group); see {@link #embed(EmbeddingRequest)}. */
  public CompletionStage<EmbeddingResponse> embed(String model, List<String> texts) {
    try {
      return embed(EmbeddingRequest.builder(model).texts(texts).build());
    } catch (LlmException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * The {@code k} of {@code candidates} nearest to {@code query} by the cosine similarity of their embeddings
   * with {@code model}, best first (one embedding call for all of them); see {@link Embeddings#findSimilar}.
   */
  public CompletionStage<List<Embeddings.Match>> findSimilar(String model, String query, List<String> candidates,
      int k) {
    List<String> all = new ArrayList<>(candidates.size() + 1);
    all.add(query);
    all.addAll(candidates);
    return embed(model, all).thenApply(r -> Embeddings.findSimilar(r.vectors().get(0),
        r.vectors().subList(1, r.vectors().size()), k));
  }

  /** The cosine similarity of two embeddings; see {@link Embeddings#cosineSimilarity}. */
  public static double cosineSimilarity(float[] a, float[] b) {
    return Embeddings.cosineSimilarity(a, b);
  }

  /**
   * Sends {@code request} and completes with the answer as a {@code type}: the JSON Schema generated from the
   * type goes out as the response format (each provider's native way), the answer is validated and repaired by
   * asking again up to 3 model calls in all; see {@link StructuredOutput}. Fails with
   * {@link io.pekkollm.structured.StructuredOutputException} (every attempt's text and problems) when no answer
   * matches, else as {@link #chat(ChatRequest)} does.
   */
  public <T> CompletionStage<T> chat(ChatRequest request, Class<T> type) {
    return chat(request, StructuredOutput.of(type)).thenApply(Structured::value);
  }

  /** {@link #chat(ChatRequest, Class)} with a schema or attempt count of your own, and the whole result. */
  public <T> CompletionStage<Structured<T>> chat(ChatRequest request, StructuredOutput<T> output) {
    Context context = Context.current();
    return output.chat(r -> inContext(context, () -> chat(r)), request);
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
    return streamJournaled(request, null);
  }

  /**
   * As {@link #streamJournaled(ChatRequest)}, with {@code origin} kept in the journal with the stream (any string,
   * null for none; bounded by the request it travels with): {@link StreamSnapshot#origin()} and
   * {@link ResumedStream#origin()} give it back, also after a restart. The gateway keeps there the API a stream was
   * started through, so its resume answers in that API's event format.
   */
  public Source<JournaledChunk, ChatStream> streamJournaled(ChatRequest request, String origin) {
    CallTrace trace = tracing.startCall("chat", request.model());
    Plan plan;
    try {
      plan = router.plan(request);
    } catch (LlmException e) {
      return withHandle(callbacks.observe(Source.failed(e), request, JournaledChunk::chunk, acc -> null), null,
          new CallInfo(null, trace), new AtomicReference<>());
    }
    String recoveryId = recovery == null ? null : recovery.newRecoveryId();
    if (recoveryId != null) {
      trace.recoveryId(recoveryId);
    }
    CallInfo info = new CallInfo(plan.truncation(), trace);
    AtomicReference<CacheStatus> cacheStatus = new AtomicReference<>();
    Source<JournaledChunk, NotUsed> chunks = callbacks.observe(journaled(recoveryId, plan, info,
            cacheStatus(cacheStatus, trace), origin),
        request, JournaledChunk::chunk, acc -> {
          ChatResponse r = runner.respond(acc, request, info.servedModel(), info.truncation());
          return cacheStatus.get() == null ? r : r.withCacheStatus(cacheStatus.get());
        });
    return withHandle(chunks, recoveryId, info, cacheStatus);
  }

  /**
   * The answer's chunks with their sequence numbers: journalled when recovery is on. A cached answer is
   * journalled like any other, so a replayed stream has its own recovery id and SSE ids 1, 2, 3, ...
   */
  private Source<JournaledChunk, NotUsed> journaled(String recoveryId, Plan plan, CallInfo info,
      Consumer<CacheStatus> cacheStatus, String origin) {
    Source<ChatChunk, NotUsed> chunks = source(plan, true, info, cacheStatus);
    if (recoveryId == null) {
      // The sequence numbers start at 1 for each run (statefulMap: no inner stream on the per-chunk path); a chunk
      // without content (usage only, role only) gets 0, as the journal gives it.
      return chunks.statefulMap(() -> new long[1], (seq, c) -> Pair.create(seq,
          new JournaledChunk(carriesNoEvent(c) ? 0 : ++seq[0], c)), seq -> Optional.empty());
    }
    CallTrace trace = info.trace();
    return recovery.journal(recoveryId, plan.journalRequest(), plan.journalProvider(), chunks, origin,
        trace.recording() ? trace::journalWrite : null);
  }

  /**
   * The upstream answer of {@code plan}, through the response cache when the request uses it (stored answers
   * replayed, identical calls in flight shared), else straight from the attempt runner.
   */
  private Source<ChatChunk, NotUsed> source(Plan plan, boolean streaming, CallInfo info,
      Consumer<CacheStatus> cacheStatus) {
    if (plan.cacheKey() == null) {
      return runner.stream(plan, streaming, info);
    }
    return cache.serve(plan.cacheKey(), plan.candidates().get(0).id(), plan.cacheTtl(),
        () -> runner.stream(plan, streaming, info), cacheStatus);
  }

  /** The streamed answer of a request not yet planned, without journal or cache; errors become a failed source. */
  private Source<ChatChunk, NotUsed> run(ChatRequest request) {
    CallTrace trace = tracing.startCall("chat", request.model());
    Source<ChatChunk, NotUsed> chunks;
    try {
      Plan plan = router.plan(request);
      chunks = runner.stream(plan, true, new CallInfo(plan.truncation(), trace));
    } catch (LlmException e) {
      chunks = Source.failed(e);
    }
    if (!trace.recording()) {
      return chunks;
    }
    return chunks.watchTermination((nu, done) -> {
      done.whenComplete((d, err) -> trace.end(io.pekkollm.util.Futures.cause(err)));
      return nu;
    });
  }

  private static boolean carriesNoEvent(ChatChunk c) {
    return (c.textDelta() == null || c.textDelta().isEmpty())
        && (c.reasoningDelta() == null || c.reasoningDelta().isEmpty())
        && c.toolCalls().isEmpty() && c.finishReason() == null;
  }

  private static Source<JournaledChunk, ChatStream> withHandle(Source<JournaledChunk, NotUsed> source,
      String recoveryId, CallInfo info, AtomicReference<CacheStatus> cacheStatus) {
    AtomicLong last = new AtomicLong();
    return source
        .map(j -> {
          if (j.seq() > 0) {
            last.set(j.seq());
          }
          return j;
        })
        .viaMat(KillSwitches.single(), Keep.right())
        .watchTermination((ks, done) -> {
          CallTrace trace = info.trace();
          if (trace.recording()) {
            done.whenComplete((d, err) -> trace.end(io.pekkollm.util.Futures.cause(err)));
          }
          return new ChatStream(ks, done, recoveryId, last, info, cacheStatus);
        });
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
        router.check(model);
      } catch (LlmException e) {
        return CompletableFuture.failedFuture(e);
      }
    }
    return recovery.resume(recoveryId, strategy, model, lastEventId, recoveryRuntime(Context.current()));
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

  /**
   * Why this gateway should not receive traffic yet, empty when it should ({@code GET /health/ready}): in cluster
   * mode this node must be {@code Up}, and the journal must answer ({@link #journalProblem}).
   */
  public CompletionStage<Optional<String>> readinessProblem() {
    Optional<String> membership = entityHost.membershipProblem();
    return membership.isPresent() ? CompletableFuture.completedFuture(membership) : journalProblem();
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
      return run(request);
    }
    Plan plan;
    try {
      plan = router.plan(request);
    } catch (LlmException e) {
      return Source.failed(e);
    }
    String recoveryId = recovery.newRecoveryId();
    return recovery.withAutoResume(journaled(recoveryId, plan, new CallInfo(plan.truncation()), s -> { }, null),
        recoveryId, maxResumes, backoff, recoveryRuntime(Context.current()));
  }

  /**
   * What a resume needs of the client: a continuation runs through the same router and attempts, traced in
   * {@code context} (the resume's caller's: the gateway's request span), since it starts later, on another thread.
   */
  private RecoveryService.Runtime recoveryRuntime(Context context) {
    return new RecoveryService.Runtime() {
      @Override
      public Source<ChatChunk, NotUsed> run(ChatRequest request) {
        return inContext(context, () -> LlmClient.this.run(request));
      }

      @Override
      public CompletionStage<ChatResponse> chat(ChatRequest request) {
        return inContext(context, () -> LlmClient.this.chat(request));
      }

      @Override
      public boolean supportsPrefill(String model) {
        return providers.supportsPrefill(model);
      }
    };
  }

  /** What sessions need of the client. */
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
      router.resolve(model);
    }
  };

  /**
   * Runs {@code tools} for the model until it answers without calling one, or {@code options.maxSteps()} model
   * calls: see {@link ToolLoop}. The request's own tool definitions are replaced by those of {@code tools}. Fails
   * only when a model call fails; a model's mistake (unknown tool, invalid arguments) and a tool that throws or
   * times out become error results the model sees.
   */
  public CompletionStage<ToolLoopResult> runTools(ChatRequest request, List<ToolFunction> tools,
      ToolLoopOptions options) {
    return ToolLoop.run(toolRuntime(Context.current()), request, tools, options);
  }

  /**
   * {@link #runTools} as a stream of events (text deltas, tool calls started, tool results, steps finished), for
   * UIs; the materialized stage completes with the result. Nothing runs until it is materialized.
   */
  public Source<ToolLoopEvent, CompletionStage<ToolLoopResult>> streamTools(ChatRequest request,
      List<ToolFunction> tools, ToolLoopOptions options) {
    return ToolLoop.stream(toolRuntime(Context.current()), request, tools, options);
  }

  /** A streamed call whose materialized stage completes with its folded, priced answer. */
  private Source<ChatChunk, CompletionStage<ChatResponse>> answerStream(ChatRequest request) {
    ChatAccumulator acc = new ChatAccumulator();
    return stream(request).map(c -> {
      acc.add(c);
      return c;
    }).watchTermination((handle, done) -> done.thenApply(d -> runner.respond(acc, request,
        handle.servedModel().orElse(null), handle.truncation().orElse(null))));
  }

  /**
   * {@link #chat(ChatRequest, Class)} streamed: the value while its JSON arrives (the members complete so far,
   * each {@link StructuredOutput.PartialValue} a fresh copy), then the materialized stage completes with the
   * validated value, or fails with {@link io.pekkollm.structured.StructuredOutputException} when no answer
   * matched (a repaired answer's partial values follow with the next attempt number). Nothing is sent until the
   * source is materialized.
   */
  public <T> Source<StructuredOutput.PartialValue, CompletionStage<Structured<T>>> streamStructured(
      ChatRequest request, Class<T> type) {
    return streamStructured(request, StructuredOutput.of(type));
  }

  /** {@link #streamStructured(ChatRequest, Class)} with a schema or attempt count of your own. */
  public <T> Source<StructuredOutput.PartialValue, CompletionStage<Structured<T>>> streamStructured(
      ChatRequest request, StructuredOutput<T> output) {
    Context context = Context.current();
    return output.stream(r -> inContext(context, () -> answerStream(r)), request);
  }

  /**
   * What the tool loop needs of the client: streamed calls with their folded, priced answer, each traced in
   * {@code context} (the loop's caller's), since later steps start on other threads.
   */
  private ToolLoop.Runtime toolRuntime(Context context) {
    return new ToolLoop.Runtime() {
      @Override
      public Source<ChatChunk, CompletionStage<ChatResponse>> answer(ChatRequest request) {
        return inContext(context, () -> answerStream(request));
      }

      @Override
      public ActorSystem<?> system() {
        return system;
      }
    };
  }

  /**
   * {@code call} made with {@code context} current: a call that starts later, on another thread (a repair, a
   * tool loop's next step, a resume's continuation), is traced where the operation that made it was started.
   */
  private static <T> T inContext(Context context, java.util.function.Supplier<T> call) {
    try (Scope s = context.makeCurrent()) {
      return call.get();
    }
  }

  /** The stream as a {@link Flow.Publisher}, for plain Java or other Reactive Streams libraries. Single subscriber. */
  public Flow.Publisher<ChatChunk> publisher(ChatRequest request) {
    return run(request).runWith(JavaFlowSupport.Sink.asPublisher(AsPublisher.WITHOUT_FANOUT), system);
  }

  /** Streams to callbacks. Returns the handle that cancels it. */
  public ChatStream stream(ChatRequest request, ChatStreamHandler handler) {
    ChatAccumulator acc = new ChatAccumulator();
    var pair = stream(request)
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
        handler.onComplete(runner.respond(acc, request, handle.servedModel().orElse(null),
            handle.truncation().orElse(null)));
      }
    });
    return handle;
  }

  private CacheAccounting cacheAccounting(String provider) {
    ProviderSettings ps = providers.settings(provider);
    if (ps != null && CacheAccounting.forProvider(ps.kind()) == CacheAccounting.SEPARATE_FROM_INPUT) {
      return CacheAccounting.SEPARATE_FROM_INPUT;
    }
    return CacheAccounting.forProvider(provider);
  }

  /**
   * Models of every enabled provider, from their APIs. A provider whose listing fails or times out is left
   * out (its error is in {@link #providerStatus()} once it has served calls); the result is sorted by id.
   */
  public CompletionStage<List<ModelInfo>> listModels() {
    return providers.listModels(settings.modelsTimeout());
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

  /** What discovery serves for {@code provider} when its API has never answered: its catalog or fallback models. */
  private List<ModelInfo> fallbackModels(String provider) {
    List<ModelInfo> known = catalog.models(provider).stream()
        .map(e -> new ModelInfo(e.id(), provider, 0, provider)).toList();
    List<String> fallback = fallbackModels.get(provider);
    return !known.isEmpty() || fallback == null ? known
        : fallback.stream().map(id -> new ModelInfo(provider + "/" + id, provider, 0, provider)).toList();
  }

  /**
   * Runs a provider from {@code settings} (see {@link LlmSettings#provider}) without a restart, replacing the one of
   * that name: calls routed from now on go to it, calls already admitted by the one it replaces finish there
   * (within {@code drainTimeout}). {@code fallbackModels} (the provider's own model ids) is what model discovery
   * lists when the provider's API has never answered and the catalog does not know it. Completes once new calls
   * go to the new provider; fails with IllegalArgumentException for an unknown kind.
   */
  public CompletionStage<Done> putProvider(ProviderSettings settings, List<String> fallbackModels,
      java.time.Duration drainTimeout) {
    ProviderSupervisor.Spec spec = new ProviderSupervisor.Spec(settings, Providers.factoryFor(settings));
    boolean known = providers.settings(settings.name()) != null;
    return providers.put(spec, drainTimeout).thenApply(load -> {
      if (fallbackModels == null || fallbackModels.isEmpty()) {
        this.fallbackModels.remove(settings.name());
      } else {
        this.fallbackModels.put(settings.name(), List.copyOf(fallbackModels));
      }
      if (!known) {
        metrics.bind(load);
      }
      discovery.invalidate(settings.name());
      return Done.getInstance();
    });
  }

  /**
   * Removes a provider added by {@link #putProvider}: new calls no longer reach it, the calls it admitted finish
   * (within {@code drainTimeout}); completes when its actor has stopped. When the configuration (or the builder)
   * has a provider of that name, that one serves again.
   */
  public CompletionStage<Done> removeProvider(String name, java.time.Duration drainTimeout) {
    fallbackModels.remove(name);
    discovery.invalidate(name);
    ProviderSupervisor.Spec original = configured.get(name);
    if (original != null) {
      return providers.put(original, drainTimeout).thenApply(l -> Done.getInstance());
    }
    return providers.remove(name, drainTimeout);
  }

  /** The names of the providers of the configuration and the builder, sorted. */
  public List<String> configuredProviderNames() {
    return configured.keySet().stream().sorted().toList();
  }

  /** The journal this client's entities persist to, for services built on the client (the admin API). */
  public JournalSettings journalSettings() {
    return journalSettings;
  }

  /** Where this client's entities run (this process, or the cluster), for services built on the client. */
  public EntityHost entityHost() {
    return entityHost;
  }

  /** The settings of provider {@code name} as the configuration (or the builder) has it; null when it has none. */
  public ProviderSettings configuredProvider(String name) {
    ProviderSupervisor.Spec spec = configured.get(name);
    return spec == null ? null : spec.settings();
  }

  /** The settings provider {@code name} runs with now (configured or added at runtime); null when there is none. */
  public ProviderSettings providerSettings(String name) {
    return providers.settings(name);
  }

  /** Models of one provider, from its API (uncached; see {@link #discoverModels()} for the kept lists). */
  public CompletionStage<List<ModelInfo>> listModels(String provider) {
    return providers.listModels(provider);
  }

  /** The state of every provider, in name order. */
  public CompletionStage<List<ProviderStatus>> providerStatus() {
    return providers.status();
  }

  /** The names of the configured providers (enabled or not). */
  public List<String> providerNames() {
    return providers.names();
  }

  /**
   * The kinds of provider {@code model} may be sent to ({@code anthropic}, {@code openai}, ...): one for a
   * {@code provider/model} id, one per member's provider for a group; empty for an unknown provider. For ingress
   * formats that pass a provider's own fields on only to that kind of provider.
   */
  public java.util.Set<String> providerKinds(String model) {
    var group = router.groupOf(model);
    List<String> ids = group != null ? group.models() : model == null ? List.of() : List.of(model);
    java.util.Set<String> kinds = new java.util.TreeSet<>();
    for (String id : ids) {
      int slash = id.indexOf('/');
      ProviderSettings ps = slash <= 0 ? null : providers.settings(id.substring(0, slash));
      if (ps != null) {
        kinds.add(ps.kind());
      }
    }
    return kinds;
  }

  /** The names of the providers that may be called (configured and enabled), sorted. */
  public List<String> enabledProviderNames() {
    return providers.enabledNames();
  }

  /** Stops the provider actors; terminates the ActorSystem when this client created it. */
  public CompletionStage<Done> shutdown() {
    callbacks.close();
    tracing.close();
    cache.stop();
    discovery.stop();
    synchronized (this) {
      if (sessions != null) {
        sessions.stop();
      }
    }
    providers.stop();
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
    private final List<LlmCallback> callbacks = new ArrayList<>();
    private java.time.Clock clock = java.time.Clock.systemUTC();
    private io.opentelemetry.api.OpenTelemetry openTelemetry;

    private Builder() {}

    /**
     * Traces calls into this OpenTelemetry instance (your application's; the client never closes it), whatever
     * {@code pekko-llm.tracing.enabled} says. Without it, tracing follows {@code pekko-llm.tracing} and the standard
     * {@code OTEL_*} variables, with an SDK of the client's own.
     */
    public Builder openTelemetry(io.opentelemetry.api.OpenTelemetry value) {
      this.openTelemetry = java.util.Objects.requireNonNull(value, "openTelemetry");
      return this;
    }

    /** The clock of key expiry and budget periods ({@link #keys()}); default the system's. For tests. */
    public Builder clock(java.time.Clock value) {
      this.clock = java.util.Objects.requireNonNull(value, "clock");
      return this;
    }

    /**
     * Adds a callback that hears of every call's start, success and failure (and chunks, when it asks), besides
     * the sinks {@code pekko-llm.callbacks} configures. It is closed when the client shuts down.
     */
    public Builder callback(LlmCallback value) {
      callbacks.add(java.util.Objects.requireNonNull(value, "callback"));
      return this;
    }

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

    private static String rootMessage(Throwable e) {
      Throwable t = e;
      StringBuilder out = new StringBuilder(String.valueOf(t.getMessage()));
      while (t.getCause() != null && t.getCause() != t) {
        t = t.getCause();
        out.append(": ").append(t.getMessage());
      }
      return out.toString();
    }

    /** The callbacks given to the builder, then the sinks the configuration asks for. */
    private Callbacks callbacks(Config cfg, LlmSettings llmSettings, LlmMetrics metrics) {
      CallbackSettings cs = CallbackSettings.create(cfg);
      List<LlmCallback> all = new ArrayList<>(callbacks);
      io.pekkollm.util.Redactor redactor = io.pekkollm.util.LoggingSettings.create(cfg.getConfig("pekko-llm.logging"))
          .redactor(llmSettings.providers().stream().flatMap(p -> p.secrets().stream()).toList());
      if (cs.file() != null) {
        all.add(new JsonLinesFileSink(java.nio.file.Path.of(cs.file()), cs.includeBodies(), redactor));
      }
      if (cs.webhook() != null) {
        all.add(new WebhookSink(cs.webhook(), cs.includeBodies(), redactor));
      }
      return Callbacks.start(all, cs, metrics.registry());
    }

    /** Builds the client; a configuration error fails here, before anything is started. */
    public LlmClient build() {
      boolean owns = system == null;
      Config cfg = config != null ? config : owns ? LlmConfig.load() : system.settings().config();
      cfg = cfg.withFallback(ConfigFactory.defaultReference());
      LlmSettings llmSettings = LlmSettings.create(cfg);
      TracingSettings tracingSettings = TracingSettings.create(cfg);
      CatalogSettings catalogSettings = CatalogSettings.create(cfg);
      RoutingSettings routing = RoutingSettings.create(cfg);
      LlmMetrics metrics = LlmMetrics.create(meterRegistry != null ? meterRegistry
          : new PrometheusMeterRegistry(PrometheusConfig.DEFAULT), MetricsSettings.create(cfg));
      // Before any actor starts: a malformed catalog file must fail start-up with nothing to clean up.
      ModelCatalog models = catalog != null ? catalog : ModelCatalog.load(catalogSettings);
      JournalSettings journal = JournalSettings.create(cfg);
      ClusterSettings cluster = ClusterSettings.create(cfg);
      if (cluster.enabled()) {
        if (!journal.enabled() || !journal.postgres()) {
          throw new IllegalStateException("cluster mode (PEKKO_LLM_CLUSTER_SEED_NODES is set) needs the PostgreSQL "
              + "journal, shared by every node: set PEKKO_LLM_JOURNAL_URL=jdbc:postgresql://... (with "
              + "pekko-llm.recovery.enabled = on); the embedded H2 journal belongs to one process");
        }
        if (owns) {
          cfg = cluster.pekkoConfig().withFallback(cfg);
        } else if (!"cluster".equals(system.settings().config().getString("pekko.actor.provider"))) {
          throw new IllegalStateException("cluster mode (pekko-llm.cluster.seed-nodes) in an ActorSystem whose "
              + "pekko.actor.provider is not cluster: configure the host system for Pekko Cluster");
        }
      }
      if (journal.enabled()) {
        // Opens the database and creates the tables while the actor system starts; RecoveryService waits for it.
        JournalSchema.prepare(journal);
      }
      ActorSystem<?> sys;
      try {
        sys = owns ? ActorSystem.create(Behaviors.empty(), ClusterSettings.SYSTEM_NAME, cfg) : system;
      } catch (RuntimeException | Error e) {
        JournalSchema.forget(journal);
        if (cluster.enabled() && e instanceof RuntimeException) {
          // Typically the remoting port is in use: Artery fails to bind.
          throw new IllegalStateException("cannot start the cluster node on " + cluster.host() + ":" + cluster.port()
              + " (PEKKO_LLM_CLUSTER_HOST, PEKKO_LLM_CLUSTER_PORT): " + rootMessage(e), e);
        }
        throw e;
      }
      try {
        CallbackSettings.create(cfg);
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
        // The provider actors first: the router checks model groups against them.
        ProviderRegistry registry = ProviderRegistry.start(sys, specs.values(), llmSettings.restartMinBackoff(),
            llmSettings.restartMaxBackoff(), llmSettings.admissionTimeout(),
            "pekko-llm-providers-" + System.nanoTime());
        Callbacks started = callbacks(cfg, llmSettings, metrics);
        Tracing tracing = openTelemetry != null
            ? Tracing.create(openTelemetry, new TracingSettings(true, tracingSettings.journalSpanEvery(),
                tracingSettings.journalSpansPerStream()))
            : Tracing.fromSettings(tracingSettings);
        try {
          return new LlmClient(sys, owns, llmSettings, registry, models, catalogSettings.contextCheck(),
              journal, routing, metrics, CacheSettings.create(cfg), DiscoverySettings.create(cfg),
              SessionSettings.create(cfg), cluster.enabled() ? EntityHost.cluster(sys) : EntityHost.local(sys),
              started, tracing, clock, specs);
        } catch (RuntimeException e) {
          tracing.close();
          started.close();
          registry.stop();
          throw e;
        }
      } catch (RuntimeException e) {
        JournalSchema.forget(journal);
        if (owns) {
          sys.terminate();
        }
        throw e;
      }
    }
  }
}
