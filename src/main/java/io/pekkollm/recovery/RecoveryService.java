package io.pekkollm.recovery;

import io.pekkollm.journal.JournalSettings;
import io.pekkollm.journal.JournalMaintenance;
import com.typesafe.config.Config;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.provider.ErrorClassifier;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Usage;
import io.pekkollm.journal.Entities;
import io.pekkollm.journal.EntityHost;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
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
  private final Entities<StreamEntity.Command> streams;
  private final String incarnation;
  private final LongConsumer writeTimes;
  private final JournalMaintenance maintenance;
  /** Journalled streams running now (admission: at most {@code settings.maxStreams()}). */
  private final AtomicInteger active = new AtomicInteger();
  /** Journal writes asked for by streams (a test and benchmark measure: writes per stream). */
  private final java.util.concurrent.atomic.AtomicLong writes = new java.util.concurrent.atomic.AtomicLong();

  private RecoveryService(ActorSystem<?> system, JournalSettings settings, Entities<StreamEntity.Command> streams,
      String incarnation, LongConsumer writeTimes, JournalMaintenance maintenance) {
    this.maintenance = maintenance;
    this.system = system;
    this.settings = settings;
    this.streams = streams;
    this.incarnation = incarnation;
    this.writeTimes = writeTimes;
  }

  /**
   * Creates the journal tables if missing, starts the stream entities on this process and the retention sweeps
   * (in a cluster, run by the oldest node only: {@link EntityHost#runsJournalJobs}).
   */
  public static RecoveryService start(ActorSystem<?> system, JournalSettings settings) {
    return start(system, settings, EntityHost.local(system), nanos -> { });
  }

  /**
   * Like {@link #start(ActorSystem, JournalSettings)}, with the stream entities on {@code host} (this process, or
   * the cluster), telling {@code writeTimes} how long each batch of chunks took to persist, in nanoseconds (for
   * metrics; called on the journal's reply thread, keep it cheap).
   */
  public static RecoveryService start(ActorSystem<?> system, JournalSettings settings, EntityHost host,
      LongConsumer writeTimes) {
    JournalMaintenance maintenance = JournalMaintenance.start(system, settings);
    Config plugin = settings.pluginConfig(system.settings().config());
    Entities<StreamEntity.Command> streams = host.entities("stream", StreamEntity.Command.class,
        (id, passivation) -> StreamEntity.create(id, JournalSettings.PLUGIN_ID, plugin, settings.passivateAfter(),
            settings.passivateAfterEnd(), passivation, host::writerAlive));
    RecoveryService service = new RecoveryService(system, settings, streams, host.incarnation(), writeTimes,
        maintenance);
    Duration interval = settings.sweepInterval();
    if (!interval.isZero()) {
      var blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
      system.scheduler().scheduleWithFixedDelay(Duration.ofSeconds(5), interval, () -> {
        if (!host.runsJournalJobs()) {
          return; // in a cluster, the oldest node sweeps for all
        }
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

  /** Journal writes the streams of this service asked for so far. */
  long writes() {
    return writes.get();
  }

  /** 128 random bits, hex: unguessable, since it grants access to the stream's text. */
  public String newRecoveryId() {
    return RecoveryIds.newId();
  }

  /**
   * Journals a new stream: {@code upstream} runs at once, while the stream's entity starts; the Started event is
   * persisted with the first chunks (or with the end, for a stream that ends before its first chunk), every chunk
   * before it is emitted, and the end (completed, failed, cancelled) is recorded, with the last chunks when they
   * are written together.
   */
  public Source<JournaledChunk, NotUsed> journal(String recoveryId, ChatRequest original, String provider,
      Source<ChatChunk, NotUsed> upstream) {
    return journal(recoveryId, original, provider, upstream, null, null);
  }

  /**
   * As {@link #journal(String, ChatRequest, String, Source)}, keeping {@code origin} (any string, null for none) in
   * the Started event ({@link StreamSnapshot#origin()} and {@link ResumedStream#origin()} give it back) and telling
   * {@code onWrite} (may be null) of each of this stream's journal writes that carried chunks: how long it took and
   * how many chunks it wrote.
   */
  public Source<JournaledChunk, NotUsed> journal(String recoveryId, ChatRequest original, String provider,
      Source<ChatChunk, NotUsed> upstream, String origin, WriteObserver onWrite) {
    String request = StoredRequest.write(original);
    return journalChunks(recoveryId, RecoveryIds.newId(), upstream, onWrite, () -> {
      StreamEntity.Begin begin = new StreamEntity.Begin(provider, original.model(), request, incarnation,
          System.currentTimeMillis(), origin, original.owner());
      streams.tell(recoveryId, new StreamEntity.Announce(begin));
      return begin;
    });
  }

  /** An upstream failure carried as an element, so the chunks read before it are persisted and delivered first. */
  private record Failure(Throwable error) {}

  /** Hears of one stream's journal writes (for trace spans). */
  @FunctionalInterface
  public interface WriteObserver {
    /** A write of {@code chunks} chunks took {@code nanos}, ending now. */
    void written(long nanos, int chunks);
  }

  /** The upstream's completion, carried as an element so that it can be written with the last chunks. */
  private enum End { INSTANCE }

  /**
   * One run of a journalled stream: what its end records, whether that is recorded, and the run's id and write
   * numbers, which let the entity recognise a write sent again ({@link StreamEntity.Write}).
   */
  private static final class Run {
    /** The Started event's content until a write carrying it succeeded (null for a resumed stream). */
    volatile StreamEntity.Begin start;
    final String writer;
    /** The number of the last write sent (writes go one at a time, a cancellation's interrupt may be one more). */
    final java.util.concurrent.atomic.AtomicLong written = new java.util.concurrent.atomic.AtomicLong();
    Usage usage;
    FinishReason finish;
    /** The end is recorded (or being recorded by the failure path): nothing left for a cancellation to record. */
    final AtomicBoolean ended = new AtomicBoolean();
    /** Told of each write with chunks; null for none. */
    final WriteObserver onWrite;

    Run(StreamEntity.Begin start, String writer, WriteObserver onWrite) {
      this.start = start;
      this.writer = writer;
      this.onWrite = onWrite;
    }
  }

  /**
   * The journalled run {@code writer} of {@code upstream}; {@code start}, called when it starts, gives the Started
   * event's content of a new stream (null for a resumed one).
   */
  private Source<JournaledChunk, NotUsed> journalChunks(String recoveryId, String writer,
      Source<ChatChunk, NotUsed> upstream, WriteObserver onWrite, java.util.function.Supplier<StreamEntity.Begin> start) {
    return Source.lazySource(() -> {
      if (active.incrementAndGet() > settings.maxStreams()) {
        active.decrementAndGet();
        return Source.<JournaledChunk>failed(new LlmException(ErrorKind.OVERLOADED, "the stream journal is at "
            + "capacity: " + settings.maxStreams() + " streams are running (pekko-llm.recovery.max-streams); retry "
            + "shortly", null, true, null));
      }
      Run run;
      try {
        run = new Run(start.get(), writer, onWrite);
      } catch (RuntimeException e) {
        active.decrementAndGet();
        throw e;
      }
      return upstream
          .<Object>map(c -> c)
          .concat(Source.single(End.INSTANCE))
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
          .mapAsync(1, items -> persist(recoveryId, items, run))
          .mapConcat(l -> l)
          .map(x -> {
            if (x instanceof Failure f) {
              throw f.error() instanceof RuntimeException re ? re : new IllegalStateException(f.error());
            }
            return (JournaledChunk) x;
          })
          .recoverWithRetries(1, new JavaPartialFunction<Throwable, org.apache.pekko.stream.Graph<
              org.apache.pekko.stream.SourceShape<JournaledChunk>, NotUsed>>() {
            @Override
            public org.apache.pekko.stream.Graph<org.apache.pekko.stream.SourceShape<JournaledChunk>, NotUsed> apply(
                Throwable t, boolean isCheck) {
              if (isCheck) {
                return null;
              }
              if (!run.ended.compareAndSet(false, true)) {
                // The upstream's failure was written with the chunks before it.
                return Source.failed(t);
              }
              return Source.completionStageSource(interrupt(recoveryId, run, t, false)
                      .handle((d, e) -> Source.<JournaledChunk>failed(t)))
                  .mapMaterializedValue(m -> NotUsed.getInstance());
            }
          })
          .watchTermination((mat, done) -> {
            done.whenComplete((d, e) -> {
              active.decrementAndGet();
              if (run.ended.compareAndSet(false, true)) {
                // Neither finished nor failed: the caller cancelled. Recorded, and still resumable on request.
                interrupt(recoveryId, run, new LlmException(ErrorKind.CANCELLED, "the caller cancelled the stream"),
                    true);
              }
            });
            return mat;
          });
    }).mapMaterializedValue(m -> NotUsed.getInstance());
  }

  /**
   * Persists one batch in one write: the chunks, with the Started event until one write carried it, and the end
   * when the batch holds it. The result keeps a trailing {@link Failure} after the chunks.
   */
  private CompletionStage<List<Object>> persist(String recoveryId, List<Object> items, Run run) {
    List<ChatChunk> chunks = new ArrayList<>(items.size());
    List<StreamEvent.StoredChunk> stored = new ArrayList<>(items.size());
    Failure failure = null;
    boolean complete = false;
    for (Object o : items) {
      if (o instanceof ChatChunk c) {
        chunks.add(c);
        stored.add(Chunks.store(0, c));
        if (c.usage() != null) {
          run.usage = run.usage == null ? c.usage() : run.usage.merge(c.usage());
        }
        if (c.finishReason() != null) {
          run.finish = c.finishReason();
        }
      } else if (o instanceof Failure f) {
        failure = f;
      } else {
        complete = true;
      }
    }
    StreamEntity.End end = null;
    if (complete) {
      end = new StreamEntity.Finish(run.finish == null ? null : run.finish.value(), Chunks.store(run.usage));
    } else if (failure != null) {
      end = stop(failure.error(), false);
    }
    Failure last = failure;
    StreamEntity.End recorded = end;
    StreamEntity.Begin begin = run.start;
    long sent = System.nanoTime();
    writes.incrementAndGet();
    long write = run.written.incrementAndGet();
    return this.<StreamEntity.Seqs>askRetried(recoveryId, settings.writeDeadline(),
            r -> new StreamEntity.Write(begin, stored, recorded, run.writer, write, r))
        .thenApply(reply -> {
      List<Long> seqs = reply.seqs();
      if (!chunks.isEmpty()) {
        long nanos = System.nanoTime() - sent;
        writeTimes.accept(nanos);
        if (run.onWrite != null) {
          run.onWrite.written(nanos, chunks.size());
        }
      }
      run.start = null;
      if (recorded != null) {
        run.ended.set(true);
      }
      List<Object> out = new ArrayList<>(chunks.size() + 1);
      for (int i = 0; i < chunks.size(); i++) {
        out.add(new JournaledChunk(seqs.get(i), chunks.get(i)));
      }
      if (last != null) {
        out.add(last);
      }
      return out;
    });
  }

  private static StreamEntity.Stop stop(Throwable t, boolean cancelled) {
    LlmException le = t instanceof LlmException e ? e : new LlmException(ErrorKind.INTERNAL, String.valueOf(t.getMessage()));
    return new StreamEntity.Stop(le.getMessage(), le.kind(), cancelled || ErrorClassifier.resumable(le.kind()), cancelled);
  }

  private CompletionStage<Done> interrupt(String recoveryId, Run run, Throwable t, boolean cancelled) {
    StreamEntity.Begin begin = run.start;
    writes.incrementAndGet();
    long write = run.written.incrementAndGet();
    // A stream that failed because its journal did not answer for write-deadline gets one more attempt, not another
    // write-deadline: its caller is waiting for the failure.
    Duration deadline = io.pekkollm.journal.Retries.timedOut(t) ? Duration.ZERO : settings.writeDeadline();
    return this.<StreamEntity.Seqs>askRetried(recoveryId, deadline,
            r -> new StreamEntity.Write(begin, List.of(), stop(t, cancelled), run.writer, write, r))
        .thenApply(seqs -> Done.getInstance())
        .exceptionally(e -> {
          LOG.warn("could not record the interruption of stream {}: {}", recoveryId, e.getMessage());
          return Done.getInstance();
        });
  }

  /**
   * Resumes {@code recoveryId}: {@code lastEventId} is the last SSE id the client received (null when it has
   * nothing), {@code model} an optional other {@code provider/model} to continue with. Fails with kind
   * NOT_FOUND for an unknown id and with {@link ResumeConflictException} for a completed or running stream.
   */
  public CompletionStage<ResumedStream> resume(String recoveryId, ResumeStrategy strategy, String model,
      Long lastEventId, Runtime runtime) {
    if (!RecoveryIds.isValid(recoveryId)) {
      return CompletableFuture.failedFuture(notFound(recoveryId));
    }
    String writer = RecoveryIds.newId();
    // Sent in short attempts within ask-timeout: one sent to a node that just died (its shards not yet moved) is lost,
    // and waiting the whole ask-timeout for it would delay the resume by that much. The same resume sent again gets
    // the plan it was given (the entity knows it by its writer), and an attempt that arrives after its own deadline
    // is refused, so a late one accepts nothing. The deadline is this node's wall clock, compared on the entity's
    // node: cluster nodes keep their clocks in sync.
    Duration attempt = settings.askTimeout().compareTo(RESUME_ATTEMPT) < 0 ? settings.askTimeout() : RESUME_ATTEMPT;
    return io.pekkollm.journal.Retries.<StreamEntity.ResumeOutcome>untilDeadline(system, attempt,
            settings.askTimeout(), timeout -> streams.<StreamEntity.ResumeOutcome>ask(recoveryId,
                r -> new StreamEntity.BeginResume(strategy, model, lastEventId, incarnation, writer,
                    System.currentTimeMillis() + timeout.toMillis(), r), timeout))
        .exceptionally(err -> {
          throw journalError(recoveryId, err);
        })
        .thenCompose(outcome -> {
          if (outcome instanceof StreamEntity.NotFound) {
            throw notFound(recoveryId);
          }
          if (outcome instanceof StreamEntity.Conflict c) {
            throw new ResumeConflictException(c.reason(), c.finalText());
          }
          ResumePlan plan = ((StreamEntity.Accepted) outcome).plan();
          return continuation(plan, runtime).thenApply(continuation -> {
            Source<JournaledChunk, NotUsed> replay = Source.from(plan.replay())
                .map(s -> new JournaledChunk(s.seq(), Chunks.chunk(s)));
            return new ResumedStream(recoveryId, strategy, plan.keptCodePoints(), plan.discardedCodePoints(),
                plan.model(), plan.attempt(),
                replay.concat(journalChunks(recoveryId, writer, continuation, null, () -> null)),
                Texts.prefix(plan.baseText(), plan.keptCodePoints()), plan.origin());
          });
        });
  }

  /** The longest one attempt of a resume waits for its entity (less when ask-timeout is shorter). */
  private static final Duration RESUME_ATTEMPT = Duration.ofSeconds(2);

  private static LlmException notFound(String recoveryId) {
    return new LlmException(ErrorKind.NOT_FOUND, "no stream with recovery id '" + recoveryId + "'", null, false,
        "recovery_id");
  }

  private CompletionStage<Source<ChatChunk, NotUsed>> continuation(ResumePlan plan, Runtime runtime) {
    ChatRequest original;
    try {
      original = StoredRequest.read(plan.request());
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
          s == null ? plan.baseText() : "", prefill, settings.overlapMinChars(), settings.overlapWindowChars());
      return runtime.run(next)
          .mapConcat(trimmer::onChunk)
          .concatLazy(Source.lazySource(() -> Source.from(trimmer.onComplete())))
          .mapMaterializedValue(m -> NotUsed.getInstance());
    });
  }

  /**
   * {@code source} (the journalled stream {@code recoveryId}) as one uninterrupted stream: when it breaks with a
   * retryable error it is resumed (strategy exact, so nothing the caller has is taken back) up to
   * {@code maxResumes} times, waiting {@code backoff} (doubling) before each.
   */
  public Source<ChatChunk, NotUsed> withAutoResume(Source<JournaledChunk, NotUsed> source, String recoveryId,
      int maxResumes, Duration backoff, Runtime runtime) {
    return autoResume(source, recoveryId, new java.util.concurrent.atomic.AtomicLong(), maxResumes, backoff, runtime);
  }

  private Source<ChatChunk, NotUsed> autoResume(Source<JournaledChunk, NotUsed> source, String recoveryId,
      java.util.concurrent.atomic.AtomicLong last, int resumesLeft, Duration backoff, Runtime runtime) {
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
            if (!retry) {
              throw noMatch();
            }
            if (isCheck) {
              return null;
            }
            CompletionStage<Source<ChatChunk, NotUsed>> next = org.apache.pekko.pattern.Patterns
                .after(backoff, system.classicSystem().scheduler(), system.executionContext(),
                    () -> resume(recoveryId, ResumeStrategy.EXACT, null, last.get(), runtime))
                .thenApply(r -> autoResume(r.chunks(), recoveryId, last, resumesLeft - 1, backoff.multipliedBy(2),
                    runtime));
            return Source.completionStageSource(next).mapMaterializedValue(m -> NotUsed.getInstance());
          }
        });
  }

  /** The journal's view of a stream; empty for an unknown id. */
  public CompletionStage<Optional<StreamSnapshot>> snapshot(String recoveryId) {
    if (!RecoveryIds.isValid(recoveryId)) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    return this.<StreamEntity.SnapshotReply>askPlain(recoveryId, StreamEntity.Get::new)
        .thenApply(r -> Optional.ofNullable(r.snapshot()));
  }

  /**
   * Why the journal cannot be used now, empty when it can: its entity registry must answer within a second or
   * two (in a cluster: this node must be Up), and the last scheduled probe of the database (pekko-llm.recovery.checkpoint.interval) must have
   * succeeded and not be hanging for longer than ask-timeout. Cheap: no database call of its own.
   */
  public CompletionStage<Optional<String>> health() {
    Duration patience = settings.askTimeout().compareTo(Duration.ofSeconds(2)) < 0 ? settings.askTimeout()
        : Duration.ofSeconds(2);
    return streams.problem(patience).thenApply(problem -> problem.isPresent() ? problem
        : maintenance.problem(settings.askTimeout()));
  }

  /** Runs one retention sweep now (on the caller's thread); returns how many streams it deleted. */
  public int sweepNow() {
    try {
      return RetentionSweeper.sweep(settings, System.currentTimeMillis());
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException("retention sweep failed: " + e.getMessage(), e);
    }
  }

  /**
   * Asks for an idempotent command (a numbered {@link StreamEntity.Write}); an attempt that gets no answer within
   * ask-timeout is sent again, with backoff, until {@code deadline} has passed since the first. An error reply fails.
   */
  private <T> CompletionStage<T> askRetried(String recoveryId, Duration deadline,
      java.util.function.Function<ActorRef<StatusReply<T>>, StreamEntity.Command> command) {
    return io.pekkollm.journal.Retries.<StatusReply<T>>untilDeadline(system, settings.askTimeout(),
            deadline, timeout -> streams.<StatusReply<T>>ask(recoveryId, command, timeout))
        .handle((reply, err) -> {
          if (err != null) {
            throw journalError(recoveryId, err, "within " + settings.askTimeout().toMillis() + " ms per attempt, "
                + "retried for " + deadline.toMillis() + " ms (pekko-llm.recovery.write-deadline)");
          }
          if (reply.isError()) {
            throw new LlmException(ErrorKind.INTERNAL, "journal refused: " + reply.getError().getMessage());
          }
          return reply.getValue();
        });
  }

  private <T> CompletionStage<T> askPlain(String recoveryId,
      java.util.function.Function<ActorRef<T>, StreamEntity.Command> command) {
    return streams.<T>ask(recoveryId, command, settings.askTimeout())
        .exceptionally(err -> {
          throw journalError(recoveryId, err);
        });
  }

  private LlmException journalError(String recoveryId, Throwable err) {
    return journalError(recoveryId, err, "within " + settings.askTimeout().toMillis() + " ms");
  }

  private LlmException journalError(String recoveryId, Throwable err, String waited) {
    Throwable t = io.pekkollm.util.Futures.cause(err);
    if (t instanceof LlmException le) {
      return le;
    }
    return new LlmException(ErrorKind.INTERNAL, "the stream journal did not answer for " + recoveryId + " " + waited
        + ": " + t.getMessage(), t, true, null);
  }
}
