package io.pekkollm.cache;

import io.pekkollm.model.CacheStatus;
import io.pekkollm.model.ChatChunk;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.japi.JavaPartialFunction;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Graph;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.SourceShape;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The response cache of one node (one per {@code LlmClient}): answers stored by the hash of their canonical
 * request ({@link CacheKeys}), each for its TTL, bounded by entry count and bytes with least-recently-used
 * eviction, and request coalescing: identical requests that arrive while a call runs share that call.
 *
 * <p>{@link #serve} is the one entry point: a stored answer is replayed (a non-streaming caller folds it, a
 * streaming caller receives its chunks again, as they first came); a running identical call is joined; else
 * the upstream call is made and its answer stored when it completes. Errors are never stored.
 *
 * <p>{@link #stats()} answers at once from a snapshot the cache actor publishes on every change (for metrics
 * gauges); {@link #clear()}, {@link #delete} and {@link #entries} ask the actor. With
 * {@code pekko-llm.cache.mode = off} no actor runs and every method answers as an empty cache would.
 * Thread-safe. Stopped with its actor system (or {@link #stop()}).
 */
public final class ResponseCache {
  private static final Logger LOG = LoggerFactory.getLogger(ResponseCache.class);

  private final ActorSystem<?> system;
  private final CacheSettings settings;
  private final ActorRef<CacheActor.Command> actor;
  private final AtomicReference<CacheStats> stats;
  private volatile boolean stopped;

  private ResponseCache(ActorSystem<?> system, CacheSettings settings, ActorRef<CacheActor.Command> actor,
      AtomicReference<CacheStats> stats) {
    this.system = system;
    this.settings = settings;
    this.actor = actor;
    this.stats = stats;
  }

  /** Starts the cache actor as a system actor named {@code name} (none when the mode is off). */
  public static ResponseCache start(ActorSystem<?> system, CacheSettings settings, String name) {
    return start(system, settings, name, Clock.systemUTC());
  }

  /** As {@link #start(ActorSystem, CacheSettings, String)}, with the clock that stamps entries for listings. */
  public static ResponseCache start(ActorSystem<?> system, CacheSettings settings, String name, Clock clock) {
    AtomicReference<CacheStats> stats =
        new AtomicReference<>(CacheStats.empty(settings.maxEntries(), settings.maxBytes()));
    ActorRef<CacheActor.Command> actor = settings.mode() == CacheSettings.Mode.OFF ? null
        : system.systemActorOf(CacheActor.create(settings, clock, stats), name, Props.empty());
    return new ResponseCache(system, settings, actor, stats);
  }

  public CacheSettings settings() {
    return settings;
  }

  /** False when the mode is off: nothing is cached. */
  public boolean enabled() {
    return actor != null;
  }

  /** The counters now, without asking the actor (for metrics). */
  public CacheStats stats() {
    return stats.get();
  }

  /** Removes every stored entry; completes with how many there were. Calls in flight still store their answer. */
  public CompletionStage<Integer> clear() {
    if (actor == null) {
      return CompletableFuture.completedFuture(0);
    }
    return AskPattern.ask(actor, CacheActor.Clear::new, settings.askTimeout(), system.scheduler());
  }

  /** Removes the entry {@code key}; completes with whether there was one. */
  public CompletionStage<Boolean> delete(String key) {
    if (actor == null) {
      return CompletableFuture.completedFuture(false);
    }
    return AskPattern.ask(actor, r -> new CacheActor.Delete(key, r), settings.askTimeout(), system.scheduler());
  }

  /** At most {@code limit} stored entries, most recently used first. */
  public CompletionStage<List<CacheEntryInfo>> entries(int limit) {
    if (actor == null) {
      return CompletableFuture.completedFuture(List.of());
    }
    return AskPattern.ask(actor, r -> new CacheActor.ListEntries(Math.max(0, limit), r), settings.askTimeout(),
        system.scheduler());
  }

  /**
   * The answer of the request whose key is {@code key}: stored, shared with an identical call in flight, or from
   * {@code upstream} (stored for {@code ttl} once complete). {@code model} is the {@code provider/model} id, kept
   * for listings. {@code onStatus} learns the outcome before the first chunk. Nothing happens until the source
   * is materialized. When the cache actor does not answer within {@code ask-timeout}, the call goes upstream
   * without the cache.
   *
   * <p>The upstream of a shared call is read as fast as it answers (not at the pace of the slowest caller); it
   * is cancelled when every caller reading it has cancelled.
   */
  public Source<ChatChunk, NotUsed> serve(String key, String model, Duration ttl,
      Supplier<Source<ChatChunk, NotUsed>> upstream, Consumer<CacheStatus> onStatus) {
    if (actor == null || stopped) {
      return upstream.get();
    }
    return serve(key, model, ttl, upstream, onStatus, 1);
  }

  private Source<ChatChunk, NotUsed> serve(String key, String model, Duration ttl,
      Supplier<Source<ChatChunk, NotUsed>> upstream, Consumer<CacheStatus> onStatus, int retries) {
    AtomicReference<SharedCall> led = new AtomicReference<>();
    Source<ChatChunk, NotUsed> source = Source.lazyCompletionStageSource(() -> AskPattern
            .<CacheActor.Command, CacheActor.LookupResult>ask(actor, r -> new CacheActor.Lookup(key, r),
                settings.askTimeout(), system.scheduler())
            .handle((result, err) -> {
              if (err != null) {
                LOG.warn("the response cache did not answer within {} ms; calling upstream without it",
                    settings.askTimeout().toMillis());
                return upstream.get();
              }
              return answer(key, model, ttl, upstream, onStatus, result, led);
            }))
        .watchTermination((mat, done) -> {
          // A leader cancelled before its reader started still holds its place in the call: release it.
          done.whenComplete((d, e) -> {
            SharedCall call = led.get();
            if (call != null) {
              call.releaseLeader();
            }
          });
          return mat;
        })
        .mapMaterializedValue(m -> NotUsed.getInstance());
    if (retries == 0) {
      return source;
    }
    // A call every earlier reader abandoned just before this one joined: look up again (this caller may lead).
    return source.recoverWithRetries(1, new JavaPartialFunction<Throwable, Graph<SourceShape<ChatChunk>, NotUsed>>() {
      @Override
      public Graph<SourceShape<ChatChunk>, NotUsed> apply(Throwable t, boolean isCheck) {
        if (!(t instanceof SharedCall.Abandoned)) {
          throw noMatch();
        }
        return isCheck ? null : serve(key, model, ttl, upstream, onStatus, retries - 1);
      }
    });
  }

  private Source<ChatChunk, NotUsed> answer(String key, String model, Duration ttl,
      Supplier<Source<ChatChunk, NotUsed>> upstream, Consumer<CacheStatus> onStatus, CacheActor.LookupResult result,
      AtomicReference<SharedCall> led) {
    if (result instanceof CacheActor.Hit hit) {
      onStatus.accept(new CacheStatus(key, CacheStatus.Outcome.HIT));
      return Source.from(hit.chunks());
    }
    if (result instanceof CacheActor.Follow follow) {
      onStatus.accept(new CacheStatus(key, CacheStatus.Outcome.COALESCED));
      return follow.call().reader();
    }
    SharedCall call = ((CacheActor.Lead) result).call();
    led.set(call);
    onStatus.accept(new CacheStatus(key, CacheStatus.Outcome.MISS));
    Pair<UniqueKillSwitch, CompletionStage<Done>> running;
    try {
      running = upstream.get()
          .viaMat(KillSwitches.single(), Keep.right())
          .toMat(Sink.foreach(call::add), Keep.both())
          .run(system);
    } catch (RuntimeException e) {
      forget(key, call).whenComplete((ack, askErr) -> call.fail(e));
      return Source.failed(e);
    }
    call.attach(running.first());
    running.second().whenComplete((done, err) -> {
      if (err == null) {
        // The readers finish once the answer is stored: whoever has it can count on the next lookup to hit.
        AskPattern.<CacheActor.Command, Done>ask(actor, r -> new CacheActor.Completed(key, model, call, ttl, r),
                settings.askTimeout(), system.scheduler())
            .whenComplete((ack, askErr) -> call.finish());
      } else {
        forget(key, call).whenComplete((ack, askErr) -> call.fail(err));
      }
    });
    return call.leaderReader();
  }

  /**
   * The whole answer (an embedding response: not a chunk stream) of the request whose key is {@code key}: stored,
   * shared with an identical call in flight, or from {@code upstream} (stored for {@code ttl} once it succeeded,
   * weighing {@code size} in the cache's byte units). {@code onStatus} learns the outcome before the answer
   * completes. Errors are never stored; an identical call that joined a failing one gets its error. When the cache
   * actor does not answer within {@code ask-timeout}, the call goes upstream without the cache.
   */
  public <T> CompletionStage<T> serveWhole(String key, String model, Duration ttl,
      Supplier<CompletionStage<T>> upstream, java.util.function.ToLongFunction<T> size,
      Consumer<CacheStatus> onStatus) {
    if (actor == null || stopped) {
      return upstream.get();
    }
    return AskPattern.<CacheActor.Command, CacheActor.ValueResult>ask(actor, r -> new CacheActor.LookupValue(key, r),
            settings.askTimeout(), system.scheduler())
        .handle((result, err) -> {
          if (err != null) {
            LOG.warn("the response cache did not answer within {} ms; calling upstream without it",
                settings.askTimeout().toMillis());
            return upstream.get();
          }
          return wholeAnswer(key, model, ttl, upstream, size, onStatus, result);
        })
        .thenCompose(x -> x);
  }

  @SuppressWarnings("unchecked")
  private <T> CompletionStage<T> wholeAnswer(String key, String model, Duration ttl,
      Supplier<CompletionStage<T>> upstream, java.util.function.ToLongFunction<T> size,
      Consumer<CacheStatus> onStatus, CacheActor.ValueResult result) {
    if (result instanceof CacheActor.ValueHit hit) {
      onStatus.accept(new CacheStatus(key, CacheStatus.Outcome.HIT));
      return CompletableFuture.completedFuture((T) hit.value());
    }
    if (result instanceof CacheActor.ValueFollow follow) {
      onStatus.accept(new CacheStatus(key, CacheStatus.Outcome.COALESCED));
      return follow.pending().thenApply(v -> (T) v);
    }
    CompletableFuture<Object> pending = ((CacheActor.ValueLead) result).pending();
    onStatus.accept(new CacheStatus(key, CacheStatus.Outcome.MISS));
    CompletionStage<T> call;
    try {
      call = upstream.get();
    } catch (RuntimeException e) {
      call = CompletableFuture.failedFuture(e);
    }
    return call.handle((value, err) -> {
      CompletionStage<Done> recorded = err == null
          ? AskPattern.<CacheActor.Command, Done>ask(actor, r -> new CacheActor.ValueCompleted(key, model, pending,
              value, size.applyAsLong(value), ttl, r), settings.askTimeout(), system.scheduler())
          : AskPattern.<CacheActor.Command, Done>ask(actor, r -> new CacheActor.ValueFailed(key, pending, r),
              settings.askTimeout(), system.scheduler());
      // Followers and the leader learn the outcome once it is recorded: a retry after an error makes a new call.
      return recorded.handle((ack, askErr) -> {
        if (err == null) {
          pending.complete(value);
          return CompletableFuture.completedFuture(value);
        }
        pending.completeExceptionally(err);
        return CompletableFuture.<T>failedFuture(err);
      }).thenCompose(x -> x);
    }).thenCompose(x -> x);
  }

  /** Removes the failed {@code call} from the calls in flight; completes when it is gone. */
  private CompletionStage<Done> forget(String key, SharedCall call) {
    return AskPattern.ask(actor, r -> new CacheActor.Failed(key, call, r), settings.askTimeout(), system.scheduler());
  }

  /** Stops the cache actor; later calls go upstream as if the mode were off. */
  public void stop() {
    stopped = true;
    if (actor != null) {
      system.classicSystem().stop(org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(actor));
    }
  }
}
