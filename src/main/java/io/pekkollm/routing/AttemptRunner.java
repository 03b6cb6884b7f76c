package io.pekkollm.routing;

import io.pekkollm.catalog.CostCalculator;
import io.pekkollm.metrics.LlmMetrics;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.ContentPart;
import io.pekkollm.model.Cost;
import io.pekkollm.model.EmbeddingRequest;
import io.pekkollm.model.EmbeddingResponse;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Message;
import io.pekkollm.model.TruncationReport;
import io.pekkollm.model.Usage;
import io.pekkollm.provider.EmbeddingJson;
import io.pekkollm.provider.ProviderActor;
import io.pekkollm.provider.ProviderRegistry;
import io.pekkollm.provider.ProviderSettings;
import io.pekkollm.stream.CallInfo;
import io.pekkollm.stream.ChatAccumulator;
import io.pekkollm.stream.DeferredSource;
import io.pekkollm.tracing.AttemptTrace;
import io.pekkollm.tracing.CallTrace;
import io.pekkollm.util.Futures;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.japi.JavaPartialFunction;
import org.apache.pekko.pattern.Patterns;
import org.apache.pekko.stream.Graph;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.SourceShape;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Runs planned calls: every call, streamed or not, is one {@link ResilientCall} (retries and fallbacks) over
 * attempts that each pass their provider's admission (breaker, limits, queue), run under their
 * {@link TimeLimits}, and report their outcome (latency, first chunk, usage, cost) to the provider's actor and
 * the metrics when they end, however they end. What differs is only the {@linkplain AttemptReader reader}: a
 * streamed answer is read as the provider's chunk stream, a non-streamed one through
 * {@link io.pekkollm.provider.ChatProvider#complete} as one exchange (about three times cheaper than a
 * stream), so both get the same decisions, limits and cost by construction. Thread-safe.
 */
public final class AttemptRunner {
  private final ActorSystem<?> system;
  private final Materializer materializer;
  private final ProviderRegistry providers;
  private final Router router;
  private final CostCalculator costs;
  private final LlmMetrics metrics;

  public AttemptRunner(ActorSystem<?> system, ProviderRegistry providers, Router router, CostCalculator costs,
      LlmMetrics metrics) {
    this.system = system;
    this.materializer = Materializer.matFromSystem(system);
    this.providers = providers;
    this.router = router;
    this.costs = costs;
    this.metrics = metrics;
  }

  /**
   * The answer of {@code plan} as chunks, read as a stream ({@code streaming}) or as one upstream exchange
   * emitted as chunks. Nothing is sent until the source is materialized; the group's order is taken then.
   */
  public Source<ChatChunk, NotUsed> stream(Plan plan, boolean streaming, CallInfo info) {
    return Source.lazySource(() -> new ResilientCall<>(this, plan, router.order(plan),
            new StreamReader(streaming, info.trace()), info).start())
        .mapMaterializedValue(f -> NotUsed.getInstance());
  }

  /**
   * The embeddings of {@code request} along {@code plan} (see {@link Router#plan(EmbeddingRequest)}): retried,
   * falling back and admitted like a chat call; the answer is named after the {@code provider/model} that served
   * and priced from the catalog's embedding prices.
   */
  public CompletionStage<EmbeddingResponse> embed(Plan plan, EmbeddingRequest request) {
    return embed(plan, request, CallTrace.NONE);
  }

  /** {@link #embed(Plan, EmbeddingRequest)} recording its attempts into {@code trace}. */
  public CompletionStage<EmbeddingResponse> embed(Plan plan, EmbeddingRequest request, CallTrace trace) {
    CallInfo info = new CallInfo(null, trace);
    return new ResilientCall<>(this, plan, router.order(plan), new EmbeddingReader(request, trace), info).start()
        .thenApply(r -> {
          String model = info.servedModel() != null ? info.servedModel() : request.model();
          return r.with(model, cost(model, r.model(), r.usage()));
        });
  }

  /** The answer of {@code plan}, read whole: the chunks of the attempt that succeeded, or its LlmException. */
  public CompletionStage<List<ChatChunk>> whole(Plan plan, CallInfo info) {
    return new ResilientCall<>(this, plan, router.order(plan), new WholeReader(info.trace()), info).start();
  }

  /**
   * The folded answer, named after the model that served (else the one asked for), with its cost and
   * truncation. The cost is the one {@link #cost} gives, as for every streamed answer.
   */
  public ChatResponse respond(ChatAccumulator acc, ChatRequest request, String served, TruncationReport truncation) {
    String model = served != null ? served : request.model();
    ChatResponse r = acc.toResponse(model);
    Cost cost = r.usage() == null ? null : cost(model, r.providerModel(), r.usage());
    return new ChatResponse(r.id(), r.model(), r.providerModel(), r.text(), r.reasoning(), r.toolCalls(),
        r.finishReason(), r.usage(), cost, truncation);
  }

  /**
   * The cost of {@code usage} on {@code model} ({@code provider/model}); when the catalog does not know that id, the
   * dated snapshot the provider reported running ({@code providerModel}, may be null) is priced instead. Null when
   * neither is priced.
   */
  public Cost cost(String model, String providerModel, Usage usage) {
    if (usage == null) {
      return null;
    }
    Cost cost = costs.cost(model, usage).orElse(null);
    int slash = model.indexOf('/');
    if (cost == null && slash > 0 && providerModel != null && costs.catalog().find(model).isEmpty()) {
      cost = costs.cost(model.substring(0, slash) + "/" + providerModel, usage).orElse(null);
    }
    return cost;
  }

  LlmMetrics metrics() {
    return metrics;
  }

  ProviderSettings settings(Candidate candidate) {
    return providers.settings(candidate.route().provider());
  }

  /** The provider's chunk stream of one attempt; with {@code streaming} off, one exchange emitted as chunks. */
  private final class StreamReader implements AttemptReader<Source<ChatChunk, NotUsed>> {
    private final boolean streaming;
    private final CallTrace trace;

    StreamReader(boolean streaming, CallTrace trace) {
      this.streaming = streaming;
      this.trace = trace;
    }

    @Override
    public Source<ChatChunk, NotUsed> read(Candidate candidate, int number, AttemptReader.Progress progress) {
      ChatRequest upstream = candidate.upstream();
      String provider = candidate.route().provider();
      TimeLimits limits = TimeLimits.of(settings(candidate).resilience().timeouts(), streaming);
      // One inner stream (the provider's) per attempt: each nested stream on the per-chunk path costs an event.
      return DeferredSource.<ChatChunk, Attempt>of(() -> new Attempt(candidate, estimateTokens(upstream),
              trace, "chat", number), a -> a.admit()
              .thenApply(g -> limits.apply(a.trace.headers().isEmpty() ? g.provider().stream(upstream, streaming)
                  : g.provider().stream(upstream, streaming, a.trace.headers()), provider).filter(c -> {
                a.onChunk(c);
                if (c.isEmpty()) {
                  return progress.lead();
                }
                progress.commit();
                return true;
              })))
          .watchTermination((a, done) -> {
            done.whenComplete((d, err) -> a.end(err));
            return NotUsed.getInstance();
          });
    }

    @Override
    public Source<ChatChunk, NotUsed> recover(Source<ChatChunk, NotUsed> result, Predicate<Throwable> handles,
        Function<Throwable, Source<ChatChunk, NotUsed>> then) {
      return result.recoverWithRetries(1, new JavaPartialFunction<Throwable, Graph<SourceShape<ChatChunk>, NotUsed>>() {
        @Override
        public Graph<SourceShape<ChatChunk>, NotUsed> apply(Throwable t, boolean isCheck) {
          if (!handles.test(t)) {
            throw noMatch();
          }
          return isCheck ? null : then.apply(t);
        }
      });
    }

    @Override
    public Source<ChatChunk, NotUsed> after(Duration delay, Supplier<Source<ChatChunk, NotUsed>> then) {
      return Source.completionStageSource(Patterns.after(delay, system.classicSystem().scheduler(),
              system.executionContext(), () -> CompletableFuture.completedFuture(then.get())))
          .mapMaterializedValue(m -> NotUsed.getInstance());
    }
  }

  /**
   * A reader whose answer is a future: one exchange per attempt (or, for embeddings, one per batch), chained as
   * futures, so no stream is run. A subclass says what one attempt sends ({@link #call}) and what its answer
   * reports ({@link #report}).
   */
  private abstract class FutureReader<T> implements AttemptReader<CompletionStage<T>> {
    private final CallTrace trace;
    private final String operation;

    FutureReader(CallTrace trace, String operation) {
      this.trace = trace;
      this.operation = operation;
    }

    /** The upstream exchange of one admitted attempt. */
    abstract CompletionStage<T> call(Candidate candidate, ProviderActor.Granted granted, AttemptTrace trace);

    /** Hands the answer's usage and model to the attempt before it ends. */
    abstract void report(Attempt attempt, T answer);

    /** The attempt's token estimate, for the rate limiter. */
    abstract long estimate(Candidate candidate);

    @Override
    public CompletionStage<T> read(Candidate candidate, int number, AttemptReader.Progress progress) {
      String provider = candidate.route().provider();
      TimeLimits limits = TimeLimits.of(settings(candidate).resilience().timeouts(), false);
      Attempt a = new Attempt(candidate, estimate(candidate), trace, operation, number);
      CompletableFuture<T> result = new CompletableFuture<>();
      a.admit().thenCompose(g -> {
        CompletionStage<T> call;
        try {
          call = call(candidate, g, a.trace);
        } catch (RuntimeException e) {
          call = CompletableFuture.failedFuture(e);
        }
        return limits.apply(call, provider, system);
      }).whenComplete((answer, err) -> {
        Throwable cause = Futures.cause(err);
        try {
          if (cause == null) {
            report(a, answer);
            progress.commit();
          }
          a.end(cause);
        } finally {
          if (cause == null) {
            result.complete(answer);
          } else {
            result.completeExceptionally(cause);
          }
        }
      });
      return result;
    }

    @Override
    public CompletionStage<T> recover(CompletionStage<T> result, Predicate<Throwable> handles,
        Function<Throwable, CompletionStage<T>> then) {
      return result.handle((answer, err) -> {
        Throwable t = Futures.cause(err);
        if (t == null) {
          return CompletableFuture.completedFuture(answer);
        }
        return handles.test(t) ? then.apply(t) : CompletableFuture.<T>failedFuture(t);
      }).thenCompose(Function.identity());
    }

    @Override
    public CompletionStage<T> after(Duration delay, Supplier<CompletionStage<T>> then) {
      CompletableFuture<CompletionStage<T>> due = new CompletableFuture<>();
      system.scheduler().scheduleOnce(delay, () -> due.complete(then.get()), system.executionContext());
      return due.thenCompose(Function.identity());
    }
  }

  /** A chat answer read whole through {@link io.pekkollm.provider.ChatProvider#complete}. */
  private final class WholeReader extends FutureReader<List<ChatChunk>> {
    WholeReader(CallTrace trace) {
      super(trace, "chat");
    }

    @Override
    CompletionStage<List<ChatChunk>> call(Candidate candidate, ProviderActor.Granted granted, AttemptTrace trace) {
      return trace.headers().isEmpty() ? granted.provider().complete(candidate.upstream(), materializer)
          : granted.provider().complete(candidate.upstream(), materializer, trace.headers());
    }

    @Override
    void report(Attempt attempt, List<ChatChunk> chunks) {
      chunks.forEach(attempt::onChunk);
    }

    @Override
    long estimate(Candidate candidate) {
      return estimateTokens(candidate.upstream());
    }
  }

  /**
   * Embeddings: the request split into the provider's batches ({@link io.pekkollm.provider.ChatProvider#
   * embeddingBatchSize}), sent one after another under one admission, the vectors merged back in input order
   * and the usage summed. A failed batch fails the attempt, which is retried (or falls back) whole, so every
   * vector of an answer comes from one model.
   */
  private final class EmbeddingReader extends FutureReader<EmbeddingResponse> {
    private final EmbeddingRequest request;

    EmbeddingReader(EmbeddingRequest request, CallTrace trace) {
      super(trace, "embeddings");
      this.request = request;
    }

    @Override
    CompletionStage<EmbeddingResponse> call(Candidate candidate, ProviderActor.Granted granted, AttemptTrace trace) {
      EmbeddingRequest upstream = request.toBuilder().model(candidate.route().model()).retry(null).build();
      int batch = Math.max(1, granted.provider().embeddingBatchSize(upstream.model()));
      Map<String, String> headers = trace.headers();
      if (upstream.size() <= batch) {
        return granted.provider().embed(upstream, headers);
      }
      CompletionStage<List<EmbeddingResponse>> parts = CompletableFuture.completedFuture(new ArrayList<>());
      for (int from = 0; from < upstream.size(); from += batch) {
        EmbeddingRequest slice = upstream.slice(from, Math.min(upstream.size(), from + batch));
        parts = parts.thenCompose(done -> granted.provider().embed(slice, headers).thenApply(r -> {
          done.add(r);
          return done;
        }));
      }
      return parts.thenApply(done -> {
        List<float[]> vectors = new ArrayList<>(upstream.size());
        int tokens = 0;
        for (EmbeddingResponse r : done) {
          vectors.addAll(r.vectors());
          tokens += r.usage() == null ? 0 : r.usage().inputTokens();
        }
        return new EmbeddingResponse(done.get(0).model(), vectors, Usage.of(tokens, 0), null);
      });
    }

    @Override
    void report(Attempt attempt, EmbeddingResponse answer) {
      attempt.onUsage(answer.usage(), answer.model());
    }

    @Override
    long estimate(Candidate candidate) {
      return EmbeddingJson.estimateTokens(request);
    }
  }

  /** One attempt on one model: its admission, and what it reports when it ends. */
  private final class Attempt {
    private final Candidate candidate;
    private final long start = System.nanoTime();
    // Set when the attempt asks for admission; read when it ends.
    private volatile CompletionStage<ProviderActor.Granted> admission;
    private long firstChunkNanos = -1;
    private Usage usage;
    private String providerModel;

    private final long tokens;
    /** Its span and upstream trace headers ({@link AttemptTrace#NONE} when the call is untraced). */
    final AttemptTrace trace;

    /**
     * Attempt {@code number} of {@code operation}, estimated at {@code tokens} for the rate limiter, traced into
     * {@code call}.
     */
    Attempt(Candidate candidate, long tokens, CallTrace call, String operation, int number) {
      this.candidate = candidate;
      this.tokens = tokens;
      Route route = candidate.route();
      if (call == CallTrace.NONE) {
        this.trace = AttemptTrace.NONE;
      } else {
        ProviderSettings ps = settings(candidate);
        this.trace = call.attempt(operation, route.provider(), ps == null ? null : ps.kind(),
            ps == null ? null : ps.baseUrl(), route.model(), number);
      }
    }

    CompletionStage<ProviderActor.Granted> admit() {
      Route route = candidate.route();
      admission = providers.acquire(route.provider(), route.model(), tokens);
      return admission;
    }

    void onChunk(ChatChunk c) {
      onUsage(c.usage(), c.model());
      trace.onChunk(c);
    }

    /** An answer (a chunk, or a whole embedding answer) arrived, reporting {@code reported} (may be null). */
    void onUsage(Usage reported, String model) {
      if (firstChunkNanos < 0) {
        firstChunkNanos = System.nanoTime() - start;
      }
      if (reported != null) {
        usage = usage == null ? reported : usage.merge(reported);
      }
      if (providerModel == null && model != null) {
        providerModel = model;
      }
    }

    /** Reports the outcome once admission has answered ({@code err} null: the attempt succeeded). */
    void end(Throwable err) {
      CompletionStage<ProviderActor.Granted> a = admission;
      if (a == null) {
        ended(null, err);
      } else {
        a.whenComplete((g, denied) -> ended(g, err));
      }
    }

    /** {@code granted} null when admission was refused. */
    private void ended(ProviderActor.Granted granted, Throwable err) {
      long nanos = System.nanoTime() - start;
      boolean cancelled = err instanceof org.apache.pekko.stream.AbruptStageTerminationException
          || err instanceof org.apache.pekko.stream.SubscriptionWithCancelException.NonFailureCancellation;
      LlmException le = err instanceof LlmException e ? e : null;
      ErrorKind kind = err == null ? null : cancelled ? ErrorKind.CANCELLED : le != null ? le.kind() : ErrorKind.INTERNAL;
      Route route = candidate.route();
      if (granted != null) {
        long tokens = usage == null ? 0 : (long) usage.inputTokens() + usage.outputTokens();
        route.actor().tell(new ProviderActor.Release(granted.permit(), nanos, firstChunkNanos, kind,
            err == null ? null : err.getMessage(), le == null ? null : le.retryAfter().orElse(null), tokens,
            cancelled));
      }
      Cost cost = cost(candidate.id(), providerModel, usage);
      metrics.attemptEnded(route.provider(), route.model(), granted != null, kind, cancelled, nanos, firstChunkNanos,
          usage, cost);
      trace.end(providerModel, usage, cost, kind, err);
    }
  }

  /**
   * A cheap upper-side token estimate for rate limiting: four characters a token, plus the whole max_tokens
   * (OpenAI counts max_tokens against tokens-per-minute too). Corrected by the reported usage when the call ends.
   */
  static long estimateTokens(ChatRequest request) {
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
}
