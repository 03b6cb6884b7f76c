package io.pekkollm.recovery;

import com.typesafe.config.Config;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Usage;
import io.pekkollm.provider.openai.OpenAiCodec;
import io.pekkollm.util.EntityRegistry;
import io.pekkollm.util.Json;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongConsumer;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.japi.JavaPartialFunction;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Resumable streams: gives every stream a recovery id, persists its chunks before anyone sees them
 * (micro-batched: while one write is in flight the next chunks gather into one batch, so an idle stream
 * waits for no timer and a busy one writes many chunks at once), records how it ended, and resumes it with
 * the exact, paragraph or summarize strategy. Thread-safe; one per {@code LlmClient}.
 */
public final class RecoveryService {
  private static final Logger LOG = LoggerFactory.getLogger(RecoveryService.class);
  private static final SecureRandom RANDOM = new SecureRandom();

  /** What the recovery service needs from its client: run requests, and know provider capabilities. */
  public interface Runtime {
    /** The chunk stream of {@code request}, not journalled. */
    Source<ChatChunk, NotUsed> run(ChatRequest request);

    CompletionStage<ChatResponse> chat(ChatRequest request);

    /** Whether the provider of {@code model} continues a trailing assistant message (assistant prefill). */
    boolean supportsPrefill(String model);
  }

  private final ActorSystem<?> system;
  private final JournalSettings settings;
  private final ActorRef<EntityRegistry.Command<StreamEntity.Command>> registry;
  private final String incarnation = UUID.randomUUID().toString();
  private final LongConsumer writeTimes;

  private RecoveryService(ActorSystem<?> system, JournalSettings settings,
      ActorRef<EntityRegistry.Command<StreamEntity.Command>> registry, LongConsumer writeTimes) {
    this.system = system;
    this.settings = settings;
    this.registry = registry;
    this.writeTimes = writeTimes;
  }

  /** Creates the journal tables if missing, starts the entity registry and the retention sweeps. */
  public static RecoveryService start(ActorSystem<?> system, JournalSettings settings, String name) {
    return start(system, settings, name, nanos -> { });
  }

  /**
   * Like {@link #start(ActorSystem, JournalSettings, String)}, telling {@code writeTimes} how long each batch of
   * chunks took to persist, in nanoseconds (for metrics; called on the journal's reply thread, keep it cheap).
   */
  public static RecoveryService start(ActorSystem<?> system, JournalSettings settings, String name,
      LongConsumer writeTimes) {
    JournalSchema.ensure(settings);
    Config plugin = settings.pluginConfig(system.settings().config());
    ActorRef<EntityRegistry.Command<StreamEntity.Command>> registry = system.systemActorOf(
        EntityRegistry.<StreamEntity.Command>create("stream-", (id, reg) ->
            StreamEntity.create(id, JournalSettings.PLUGIN_ID, plugin, settings.passivateAfter(), reg)),
        name, Props.empty());
    RecoveryService service = new RecoveryService(system, settings, registry, writeTimes);
    Duration interval = settings.sweepInterval();
    if (!interval.isZero()) {
      var blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
      system.scheduler().scheduleWithFixedDelay(Duration.ofSeconds(5), interval, () -> {
        try {
          RetentionSweeper.sweep(settings, System.currentTimeMillis());
        } catch (Exception e) {
          LOG.warn("retention sweep of the journal failed: {}", e.getMessage());
        }
      }, blocking);
    }
    return service;
  }

  public JournalSettings settings() {
    return settings;
  }

  /** 128 random bits, hex: unguessable, since it grants access to the stream's text. */
  public String newRecoveryId() {
    byte[] b = new byte[16];
    RANDOM.nextBytes(b);
    return HexFormat.of().formatHex(b);
  }

  /**
   * Journals a new stream: the Started event is persisted before {@code upstream} runs, every chunk before it
   * is emitted, and the end (completed, failed, cancelled) is recorded.
   */
  public Source<JournaledChunk, NotUsed> journal(String recoveryId, ChatRequest original, String provider,
      Source<ChatChunk, NotUsed> upstream) {
    String request = Json.write(OpenAiCodec.writeStored(original));
    return Source.completionStageSource(this.<Done>ask(recoveryId, r -> new StreamEntity.Start(provider,
            original.model(), request, incarnation, r)).thenApply(d -> journalChunks(recoveryId, upstream)))
        .mapMaterializedValue(m -> NotUsed.getInstance());
  }

  /** An upstream failure carried as an element, so the chunks read before it are persisted and delivered first. */
  private record Failure(Throwable error) {}

  private Source<JournaledChunk, NotUsed> journalChunks(String recoveryId, Source<ChatChunk, NotUsed> upstream) {
    return Source.lazySource(() -> {
      // Per run: what the Completed event records, and how the stream ended.
      Usage[] usage = new Usage[1];
      FinishReason[] finish = new FinishReason[1];
      AtomicBoolean ended = new AtomicBoolean();
      return upstream
          .<Object>map(c -> c)
          .recover(new JavaPartialFunction<Throwable, Object>() {
            @Override
            public Object apply(Throwable t, boolean isCheck) {
              return isCheck ? null : new Failure(t);
            }
          })
          .batch(settings.batchMaxChunks(), first -> {
            List<Object> l = new ArrayList<>();
            l.add(first);
            return l;
          }, (l, c) -> {
            l.add(c);
            return l;
          })
          .mapAsync(1, items -> persist(recoveryId, items, usage, finish))
          .mapConcat(l -> l)
          .map(x -> {
            if (x instanceof Failure f) {
              throw f.error() instanceof RuntimeException re ? re : new IllegalStateException(f.error());
            }
            return (JournaledChunk) x;
          })
          .concatLazy(Source.lazyCompletionStageSource(() -> {
            ended.set(true);
            return this.<Done>ask(recoveryId, r -> new StreamEntity.Complete(
                    finish[0] == null ? null : finish[0].value(), usage[0], r))
                .thenApply(d -> Source.<JournaledChunk>empty());
          }))
          .recoverWithRetries(1, new JavaPartialFunction<Throwable, org.apache.pekko.stream.Graph<
              org.apache.pekko.stream.SourceShape<JournaledChunk>, NotUsed>>() {
            @Override
            public org.apache.pekko.stream.Graph<org.apache.pekko.stream.SourceShape<JournaledChunk>, NotUsed> apply(
                Throwable t, boolean isCheck) {
              if (isCheck) {
                return null;
              }
              ended.set(true);
              return Source.completionStageSource(interrupt(recoveryId, t, false)
                      .handle((d, e) -> Source.<JournaledChunk>failed(t)))
                  .mapMaterializedValue(m -> NotUsed.getInstance());
            }
          })
          .watchTermination((mat, done) -> {
            done.whenComplete((d, e) -> {
              if (!ended.get()) {
                // Neither finished nor failed: the caller cancelled. Recorded, and still resumable on request.
                interrupt(recoveryId, new LlmException(ErrorKind.CANCELLED, "the caller cancelled the stream"), true);
              }
            });
            return mat;
          });
    }).mapMaterializedValue(m -> NotUsed.getInstance());
  }

  /** Persists the chunks of one batch; the result keeps a trailing {@link Failure} after them. */
  private CompletionStage<List<Object>> persist(String recoveryId, List<Object> items, Usage[] usage,
      FinishReason[] finish) {
    List<ChatChunk> chunks = new ArrayList<>(items.size());
    Failure failure = null;
    for (Object o : items) {
      if (o instanceof ChatChunk c) {
        chunks.add(c);
      } else {
        failure = (Failure) o;
      }
    }
    Failure last = failure;
    if (chunks.isEmpty()) {
      return CompletableFuture.completedFuture(List.of(last));
    }
    long sent = System.nanoTime();
    return this.<List<Long>>ask(recoveryId, r -> new StreamEntity.Append(chunks, r)).thenApply(seqs -> {
      writeTimes.accept(System.nanoTime() - sent);
      List<Object> out = new ArrayList<>(chunks.size() + 1);
      for (int i = 0; i < chunks.size(); i++) {
        ChatChunk c = chunks.get(i);
        if (c.usage() != null) {
          usage[0] = usage[0] == null ? c.usage() : usage[0].merge(c.usage());
        }
        if (c.finishReason() != null) {
          finish[0] = c.finishReason();
        }
        out.add(new JournaledChunk(seqs.get(i), c));
      }
      if (last != null) {
        out.add(last);
      }
      return out;
    });
  }

  private CompletionStage<Done> interrupt(String recoveryId, Throwable t, boolean cancelled) {
    LlmException le = t instanceof LlmException e ? e : new LlmException(ErrorKind.INTERNAL, String.valueOf(t.getMessage()));
    boolean recoverable = cancelled || recoverable(le.kind());
    return this.<Done>ask(recoveryId, r -> new StreamEntity.Interrupt(le.getMessage(), le.kind(), recoverable,
            cancelled, r))
        .exceptionally(e -> {
          LOG.warn("could not record the interruption of stream {}: {}", recoveryId, e.getMessage());
          return Done.getInstance();
        });
  }

  /** Errors a retry of the same request may overcome; the others (bad key, bad request, filtered) may not. */
  static boolean recoverable(ErrorKind kind) {
    return switch (kind) {
      case NETWORK, TIMEOUT, MID_STREAM, OVERLOADED, SERVER_ERROR, RATE_LIMITED, INTERNAL, CANCELLED -> true;
      default -> false;
    };
  }

  /**
   * Resumes {@code recoveryId}: {@code lastEventId} is the last SSE id the client received (null when it has
   * nothing), {@code model} an optional other {@code provider/model} to continue with. Fails with kind
   * NOT_FOUND for an unknown id and with {@link ResumeConflictException} for a completed or running stream.
   */
  public CompletionStage<ResumedStream> resume(String recoveryId, ResumeStrategy strategy, String model,
      Long lastEventId, Runtime runtime) {
    return this.<StreamEntity.ResumeOutcome>askPlain(recoveryId,
            r -> new StreamEntity.BeginResume(strategy, model, lastEventId, incarnation, r))
        .thenCompose(outcome -> {
          if (outcome instanceof StreamEntity.NotFound) {
            throw new LlmException(ErrorKind.NOT_FOUND, "no stream with recovery id '" + recoveryId + "'", null, false,
                "recovery_id");
          }
          if (outcome instanceof StreamEntity.Conflict c) {
            throw new ResumeConflictException(c.reason(), c.finalText());
          }
          ResumePlan plan = ((StreamEntity.Accepted) outcome).plan();
          return continuation(plan, runtime).thenApply(continuation -> {
            Source<JournaledChunk, NotUsed> replay = Source.from(plan.replay())
                .map(s -> new JournaledChunk(s.seq(), Chunks.chunk(s)));
            return new ResumedStream(recoveryId, strategy, plan.keptCodePoints(), plan.discardedCodePoints(),
                plan.model(), plan.attempt(), replay.concat(journalChunks(recoveryId, continuation)));
          });
        });
  }

  private CompletionStage<Source<ChatChunk, NotUsed>> continuation(ResumePlan plan, Runtime runtime) {
    ChatRequest original;
    try {
      original = OpenAiCodec.readStored(Json.parse(plan.request()));
    } catch (Exception e) {
      return CompletableFuture.failedFuture(new LlmException(ErrorKind.INTERNAL,
          "the journalled request of stream " + plan.recoveryId() + " cannot be read: " + e.getMessage()));
    }
    boolean prefill = runtime.supportsPrefill(plan.model());
    CompletionStage<String> summary = plan.strategy() == ResumeStrategy.SUMMARIZE && !plan.baseText().isEmpty()
        ? runtime.chat(Continuations.summaryRequest(
            settings.summarizeModel().isEmpty() ? plan.model() : settings.summarizeModel(), plan.baseText()))
            .thenApply(ChatResponse::text)
        : CompletableFuture.completedFuture(null);
    return summary.thenApply(s -> {
      ChatRequest next = Continuations.build(original, plan.model(), plan.baseText(), s, prefill,
          plan.outputTokensSoFar(), settings.maxTokensFloor());
      // With prefill the model continues its own message and does not restate it: only the whitespace that was
      // stripped from the prefill and comes back is trimmed. Told to continue by instruction, models do restate
      // the last words, so repeats of at least overlap.min-chars are removed too.
      Continuations.OverlapTrimmer trimmer = new Continuations.OverlapTrimmer(
          s == null ? plan.baseText() : "", prefill ? Integer.MAX_VALUE : settings.overlapMinChars(),
          settings.overlapWindowChars());
      return runtime.run(next)
          .mapConcat(trimmer::onChunk)
          .concatLazy(Source.lazySource(() -> Source.from(trimmer.onComplete())))
          .mapMaterializedValue(m -> NotUsed.getInstance());
    });
  }

  /** The journal's view of a stream; empty for an unknown id. */
  public CompletionStage<Optional<StreamSnapshot>> snapshot(String recoveryId) {
    return askPlain(recoveryId, r -> new StreamEntity.Get(incarnation, r));
  }

  /** Runs one retention sweep now (on the caller's thread); returns how many streams it deleted. */
  public int sweepNow() {
    try {
      return RetentionSweeper.sweep(settings, System.currentTimeMillis());
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException("retention sweep failed: " + e.getMessage(), e);
    }
  }

  private <T> CompletionStage<T> ask(String recoveryId,
      java.util.function.Function<ActorRef<StatusReply<T>>, StreamEntity.Command> command) {
    return AskPattern.<EntityRegistry.Command<StreamEntity.Command>, StatusReply<T>>ask(registry,
            r -> new EntityRegistry.Envelope<>(recoveryId, command.apply(r)), settings.askTimeout(), system.scheduler())
        .handle((reply, err) -> {
          if (err != null) {
            throw journalError(recoveryId, err);
          }
          if (reply.isError()) {
            throw new LlmException(ErrorKind.INTERNAL, "journal refused: " + reply.getError().getMessage());
          }
          return reply.getValue();
        });
  }

  private <T> CompletionStage<T> askPlain(String recoveryId,
      java.util.function.Function<ActorRef<T>, StreamEntity.Command> command) {
    return AskPattern.<EntityRegistry.Command<StreamEntity.Command>, T>ask(registry,
            r -> new EntityRegistry.Envelope<>(recoveryId, command.apply(r)), settings.askTimeout(), system.scheduler())
        .exceptionally(err -> {
          throw journalError(recoveryId, err);
        });
  }

  private LlmException journalError(String recoveryId, Throwable err) {
    Throwable t = err instanceof java.util.concurrent.CompletionException && err.getCause() != null ? err.getCause() : err;
    if (t instanceof LlmException le) {
      return le;
    }
    return new LlmException(ErrorKind.INTERNAL, "the stream journal did not answer for " + recoveryId + " within "
        + settings.askTimeout().toMillis() + " ms: " + t.getMessage(), t, true, null);
  }
}
