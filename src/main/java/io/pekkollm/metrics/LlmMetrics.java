package io.pekkollm.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pekkollm.model.Cost;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.Usage;
import io.pekkollm.provider.ProviderLoad;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.ToDoubleFunction;

/**
 * The client's metrics, recorded into a Micrometer {@link MeterRegistry} (a {@link PrometheusMeterRegistry} by
 * default, whose text the gateway serves at {@code GET /metrics}). In Prometheus names:
 * <ul>
 *   <li>{@code pekko_llm_requests_total{provider,model,outcome}}: attempts, outcome {@code success},
 *   {@code error} or {@code cancelled} (a retried call counts each attempt);</li>
 *   <li>{@code pekko_llm_errors_total{provider,model,kind}}: failed attempts by {@link ErrorKind};</li>
 *   <li>{@code pekko_llm_retries_total{provider,model,kind}}: retries, by the error that caused them;</li>
 *   <li>{@code pekko_llm_fallbacks_total{group,from,reason}}: a model group moving on from a model;</li>
 *   <li>{@code pekko_llm_request_duration_seconds} and {@code pekko_llm_time_to_first_token_seconds}
 *   {@code {provider,model}}: histograms of admitted attempts;</li>
 *   <li>{@code pekko_llm_tokens_total{provider,model,type}} ({@code input}, {@code output}) and
 *   {@code pekko_llm_cost_usd_total{provider,model}} (catalog prices);</li>
 *   <li>{@code pekko_llm_in_flight}, {@code pekko_llm_queued}, {@code pekko_llm_circuit_breaker_state} (0 closed, 1
 *   half-open, 2 open), {@code pekko_llm_circuit_breaker_open_models}, {@code pekko_llm_circuit_breaker_opens_total}
 *   and {@code pekko_llm_rejections_total{reason}} ({@code circuit_open}, {@code queue_full},
 *   {@code queue_timeout}, {@code local_rate_limit}), all by {@code provider};</li>
 *   <li>{@code pekko_llm_journal_write_seconds}: histogram of the recovery journal's chunk writes;</li>
 *   <li>{@code pekko_llm_cache_*}: the response cache's lookups by outcome, stores, evictions, expirations,
 *   entries and bytes ({@link #bind(io.pekkollm.cache.ResponseCache)}).</li>
 * </ul>
 * Meters are looked up once per provider and model and cached, so recording is a map read and a few adds. The
 * {@code model} tag is bounded by {@link MetricsSettings#maxModelsPerProvider()}. Thread-safe.
 */
public final class LlmMetrics {
  private static final Duration[] DURATION_BUCKETS = seconds(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600);
  private static final Duration[] TTFT_BUCKETS = seconds(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120);
  private static final Duration[] JOURNAL_BUCKETS = seconds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
      1, 2.5);
  private static final String OTHER = "other";

  private final MeterRegistry registry;
  private final boolean enabled;
  private final int maxModels;
  // provider -> model -> meters: two reads and no key to build per call.
  private final ConcurrentHashMap<String, ConcurrentHashMap<String, RouteMeters>> routes = new ConcurrentHashMap<>();
  private final Timer journalWrites;

  private LlmMetrics(MeterRegistry registry, boolean enabled, int maxModels) {
    this.registry = registry;
    this.enabled = enabled;
    this.maxModels = maxModels;
    this.journalWrites = enabled ? Timer.builder("pekko.llm.journal.write")
        .description("Time to persist one batch of streamed chunks in the recovery journal")
        .serviceLevelObjectives(JOURNAL_BUCKETS)
        .register(registry) : null;
  }

  /** Metrics recorded into {@code registry}; with {@code settings.enabled()} off, nothing is recorded. */
  public static LlmMetrics create(MeterRegistry registry, MetricsSettings settings) {
    return new LlmMetrics(registry, settings.enabled(), settings.maxModelsPerProvider());
  }

  public MeterRegistry registry() {
    return registry;
  }

  public boolean enabled() {
    return enabled;
  }

  /** The Prometheus text exposition of the registry; empty when disabled or the registry is not Prometheus's. */
  public Optional<String> scrape() {
    return enabled && registry instanceof PrometheusMeterRegistry p ? Optional.of(p.scrape()) : Optional.empty();
  }

  /** Registers the gauges and counters that read {@code load} (the provider's actor keeps it current). */
  public void bind(ProviderLoad load) {
    if (!enabled) {
      return;
    }
    String p = load.provider();
    gauge("pekko.llm.in.flight", "Calls admitted and not finished", load, ProviderLoad::inFlight, p);
    gauge("pekko.llm.queued", "Calls waiting for admission", load, ProviderLoad::queued, p);
    gauge("pekko.llm.circuit.breaker.state", "Provider circuit breaker: 0 closed, 1 half-open, 2 open", load,
        ProviderLoad::breakerState, p);
    gauge("pekko.llm.circuit.breaker.open.models", "Per-model circuit breakers that are open or half-open", load,
        ProviderLoad::openModelBreakers, p);
    FunctionCounter.builder("pekko.llm.circuit.breaker.opens", load, ProviderLoad::breakerOpens)
        .description("Times a circuit breaker of the provider opened").tag("provider", p).register(registry);
    rejections(load, "circuit_open", ProviderLoad::rejectedCircuitOpen);
    rejections(load, "queue_full", ProviderLoad::rejectedQueueFull);
    rejections(load, "queue_timeout", ProviderLoad::rejectedQueueTimeout);
    rejections(load, "local_rate_limit", ProviderLoad::rejectedRateLimited);
  }

  /**
   * Registers the response cache's counters and gauges, read from its published snapshot (no ask per scrape):
   * {@code pekko_llm_cache_lookups_total{outcome}} ({@code hit}, {@code miss}, {@code coalesced}),
   * {@code pekko_llm_cache_stores_total}, {@code pekko_llm_cache_evictions_total},
   * {@code pekko_llm_cache_expirations_total}, {@code pekko_llm_cache_entries} and {@code pekko_llm_cache_bytes}.
   */
  public void bind(io.pekkollm.cache.ResponseCache cache) {
    if (!enabled) {
      return;
    }
    cacheCounter("pekko.llm.cache.lookups", "Response cache lookups by outcome", cache, s -> s.hits(), "outcome", "hit");
    cacheCounter("pekko.llm.cache.lookups", "Response cache lookups by outcome", cache, s -> s.misses(), "outcome",
        "miss");
    cacheCounter("pekko.llm.cache.lookups", "Response cache lookups by outcome", cache, s -> s.coalesced(), "outcome",
        "coalesced");
    cacheCounter("pekko.llm.cache.stores", "Answers stored in the response cache", cache, s -> s.stores());
    cacheCounter("pekko.llm.cache.evictions", "Entries evicted to stay within the cache's bounds", cache,
        s -> s.evictions());
    cacheCounter("pekko.llm.cache.expirations", "Entries removed because their TTL passed", cache,
        s -> s.expirations());
    Gauge.builder("pekko.llm.cache.entries", cache, c -> c.stats().entries()).description("Entries held by the cache")
        .register(registry);
    Gauge.builder("pekko.llm.cache.bytes", cache, c -> c.stats().bytes()).baseUnit("bytes")
        .description("Estimated bytes held by the cache").register(registry);
  }

  private void cacheCounter(String name, String description, io.pekkollm.cache.ResponseCache cache,
      ToDoubleFunction<io.pekkollm.cache.CacheStats> f, String... tags) {
    FunctionCounter.builder(name, cache, c -> f.applyAsDouble(c.stats())).description(description).tags(tags)
        .register(registry);
  }

  private void gauge(String name, String description, ProviderLoad load, ToDoubleFunction<ProviderLoad> f, String p) {
    Gauge.builder(name, load, f).description(description).tag("provider", p).register(registry);
  }

  private void rejections(ProviderLoad load, String reason, ToDoubleFunction<ProviderLoad> f) {
    FunctionCounter.builder("pekko.llm.rejections", load, f)
        .description("Calls refused before reaching the provider").tags("provider", load.provider(), "reason", reason)
        .register(registry);
  }

  /**
   * One attempt on {@code provider}'s {@code model} ended. {@code error} null on success; {@code admitted} false
   * when it never reached the provider (then durations are not recorded); {@code firstChunkNanos} -1 when no
   * chunk came; {@code usage} and {@code cost} may be null.
   */
  public void attemptEnded(String provider, String model, boolean admitted, ErrorKind error, boolean cancelled,
      long durationNanos, long firstChunkNanos, Usage usage, Cost cost) {
    if (!enabled) {
      return;
    }
    RouteMeters m = route(provider, model);
    (cancelled ? m.cancelled : error != null ? m.errors : m.successes).increment();
    if (error != null && !cancelled) {
      m.errorCounter(error).increment();
    }
    if (admitted) {
      m.duration.record(durationNanos, TimeUnit.NANOSECONDS);
      if (firstChunkNanos >= 0) {
        m.ttft.record(firstChunkNanos, TimeUnit.NANOSECONDS);
      }
    }
    if (usage != null) {
      m.inputTokens.increment(usage.inputTokens());
      m.outputTokens.increment(usage.outputTokens());
    }
    if (cost != null) {
      m.cost.increment(cost.total().doubleValue());
    }
  }

  /** A failed attempt of {@code provider}'s {@code model} is retried because of {@code kind}. */
  public void retried(String provider, String model, ErrorKind kind) {
    if (enabled) {
      route(provider, model).retryCounter(kind).increment();
    }
  }

  /** Model group {@code group} moves on from {@code from} ({@code provider/model}) for {@code reason}. */
  public void fellBack(String group, String from, String reason) {
    if (enabled) {
      // Groups and their members come from configuration, so these tags are bounded.
      Counter.builder("pekko.llm.fallbacks").description("A model group moving on to its next model")
          .tags("group", group, "from", from, "reason", reason).register(registry).increment();
    }
  }

  /** The recovery journal persisted one batch of chunks in {@code nanos}. */
  public void journalWrite(long nanos) {
    if (enabled) {
      journalWrites.record(nanos, TimeUnit.NANOSECONDS);
    }
  }

  private RouteMeters route(String provider, String model) {
    ConcurrentHashMap<String, RouteMeters> models = routes.get(provider);
    if (models == null) {
      models = routes.computeIfAbsent(provider, p -> new ConcurrentHashMap<>());
    }
    RouteMeters m = models.get(model);
    if (m != null) {
      return m;
    }
    // Approximate under races (a few over the bound at most), which is all the bound needs.
    String tag = models.size() >= maxModels ? OTHER : model;
    return models.computeIfAbsent(tag, t -> new RouteMeters(provider, t));
  }

  /** The meters of one provider and model, created once. */
  private final class RouteMeters {
    final String provider;
    final String model;
    final Counter successes;
    final Counter errors;
    final Counter cancelled;
    final Timer duration;
    final Timer ttft;
    final Counter inputTokens;
    final Counter outputTokens;
    final Counter cost;
    final AtomicReferenceArray<Counter> errorsByKind = new AtomicReferenceArray<>(ErrorKind.values().length);
    final AtomicReferenceArray<Counter> retriesByKind = new AtomicReferenceArray<>(ErrorKind.values().length);

    RouteMeters(String provider, String model) {
      this.provider = provider;
      this.model = model;
      this.successes = requests("success");
      this.errors = requests("error");
      this.cancelled = requests("cancelled");
      this.duration = Timer.builder("pekko.llm.request.duration")
          .description("Duration of admitted attempts, first byte sent to last chunk")
          .tags("provider", provider, "model", model).serviceLevelObjectives(DURATION_BUCKETS).register(registry);
      this.ttft = Timer.builder("pekko.llm.time.to.first.token")
          .description("Time from an admitted attempt's start to its first chunk")
          .tags("provider", provider, "model", model).serviceLevelObjectives(TTFT_BUCKETS).register(registry);
      this.inputTokens = tokens("input");
      this.outputTokens = tokens("output");
      this.cost = Counter.builder("pekko.llm.cost").baseUnit("usd").description("Cost of calls by catalog prices")
          .tags("provider", provider, "model", model).register(registry);
    }

    private Counter requests(String outcome) {
      return Counter.builder("pekko.llm.requests").description("Attempts sent to providers, by outcome")
          .tags("provider", provider, "model", model, "outcome", outcome).register(registry);
    }

    private Counter tokens(String type) {
      return Counter.builder("pekko.llm.tokens").description("Tokens reported by providers")
          .tags("provider", provider, "model", model, "type", type).register(registry);
    }

    Counter errorCounter(ErrorKind kind) {
      return lazily(errorsByKind, kind, "pekko.llm.errors", "Failed attempts by error kind");
    }

    Counter retryCounter(ErrorKind kind) {
      return lazily(retriesByKind, kind, "pekko.llm.retries", "Retries by the error that caused them");
    }

    private Counter lazily(AtomicReferenceArray<Counter> slots, ErrorKind kind, String name, String description) {
      Counter c = slots.get(kind.ordinal());
      if (c == null) {
        // The registry returns the same counter to racing callers, so a lost race is harmless.
        c = Counter.builder(name).description(description)
            .tags("provider", provider, "model", model, "kind", kind.name().toLowerCase(java.util.Locale.ROOT))
            .register(registry);
        slots.set(kind.ordinal(), c);
      }
      return c;
    }
  }

  private static Duration[] seconds(double... values) {
    Duration[] out = new Duration[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = Duration.ofNanos((long) (values[i] * 1e9));
    }
    return out;
  }
}
