package io.pekkollm.routing;

import io.pekkollm.catalog.CostCalculator;
import io.pekkollm.metrics.LlmMetrics;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.ContentPart;
import io.pekkollm.model.Cost;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Message;
import io.pekkollm.model.TruncationReport;
import io.pekkollm.model.Usage;
import io.pekkollm.provider.ProviderActor;
import io.pekkollm.provider.ProviderRegistry;
import io.pekkollm.provider.ProviderSettings;
import io.pekkollm.stream.CallInfo;
import io.pekkollm.stream.ChatAccumulator;
import io.pekkollm.stream.DeferredSource;
import io.pekkollm.util.Futures;
import java.time.Duration;
import java.util.List;
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
    return Source.lazySource(() -> new ResilientCall<>(this, plan, router.order(plan), new StreamReader(streaming),
            info).start())
        .mapMaterializedValue(f -> NotUsed.getInstance());
  }

  /** The answer of {@code plan}, read whole: the chunks of the attempt that succeeded, or its LlmException. */
  public CompletionStage<List<ChatChunk>> whole(Plan plan, CallInfo info) {
    return new ResilientCall<>(this, plan, router.order(plan), new WholeReader(), info).start();
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

    StreamReader(boolean streaming) {
      this.streaming = streaming;
    }

    @Override
    public Source<ChatChunk, NotUsed> read(Candidate candidate, Runnable commit) {
      ChatRequest upstream = candidate.upstream();
      String provider = candidate.route().provider();
      TimeLimits limits = TimeLimits.of(settings(candidate).resilience().timeouts(), streaming);
      // One inner stream (the provider's) per attempt: each nested stream on the per-chunk path costs an event.
      return DeferredSource.<ChatChunk, Attempt>of(() -> new Attempt(candidate), a -> a.admit()
              .thenApply(g -> limits.apply(g.provider().stream(upstream, streaming), provider).map(c -> {
                a.onChunk(c);
                commit.run();
                return c;
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

  /** One exchange per attempt, chained as futures: no stream is run. */
  private final class WholeReader implements AttemptReader<CompletionStage<List<ChatChunk>>> {
    @Override
    public CompletionStage<List<ChatChunk>> read(Candidate candidate, Runnable commit) {
      String provider = candidate.route().provider();
      TimeLimits limits = TimeLimits.of(settings(candidate).resilience().timeouts(), false);
      Attempt a = new Attempt(candidate);
      CompletableFuture<List<ChatChunk>> result = new CompletableFuture<>();
      a.admit().thenCompose(g -> {
        CompletionStage<List<ChatChunk>> call;
        try {
          call = g.provider().complete(candidate.upstream(), materializer);
        } catch (RuntimeException e) {
          call = CompletableFuture.failedFuture(e);
        }
        return limits.apply(call, provider, system);
      }).whenComplete((chunks, err) -> {
        Throwable cause = Futures.cause(err);
        try {
          if (cause == null) {
            chunks.forEach(a::onChunk);
            commit.run();
          }
          a.end(cause);
        } finally {
          if (cause == null) {
            result.complete(chunks);
          } else {
            result.completeExceptionally(cause);
          }
        }
      });
      return result;
    }

    @Override
    public CompletionStage<List<ChatChunk>> recover(CompletionStage<List<ChatChunk>> result,
        Predicate<Throwable> handles, Function<Throwable, CompletionStage<List<ChatChunk>>> then) {
      return result.handle((chunks, err) -> {
        Throwable t = Futures.cause(err);
        if (t == null) {
          return CompletableFuture.completedFuture(chunks);
        }
        return handles.test(t) ? then.apply(t) : CompletableFuture.<List<ChatChunk>>failedFuture(t);
      }).thenCompose(Function.identity());
    }

    @Override
    public CompletionStage<List<ChatChunk>> after(Duration delay, Supplier<CompletionStage<List<ChatChunk>>> then) {
      CompletableFuture<CompletionStage<List<ChatChunk>>> due = new CompletableFuture<>();
      system.scheduler().scheduleOnce(delay, () -> due.complete(then.get()), system.executionContext());
      return due.thenCompose(Function.identity());
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

    Attempt(Candidate candidate) {
      this.candidate = candidate;
    }

    CompletionStage<ProviderActor.Granted> admit() {
      Route route = candidate.route();
      admission = providers.acquire(route.provider(), route.model(), estimateTokens(candidate.upstream()));
      return admission;
    }

    void onChunk(ChatChunk c) {
      if (firstChunkNanos < 0) {
        firstChunkNanos = System.nanoTime() - start;
      }
      if (c.usage() != null) {
        usage = usage == null ? c.usage() : usage.merge(c.usage());
      }
      if (providerModel == null && c.model() != null) {
        providerModel = c.model();
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
      metrics.attemptEnded(route.provider(), route.model(), granted != null, kind, cancelled, nanos, firstChunkNanos,
          usage, cost(candidate.id(), providerModel, usage));
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
