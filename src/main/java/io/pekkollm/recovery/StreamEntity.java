package io.pekkollm.recovery;

import io.pekkollm.journal.JournalledBehavior;
import com.typesafe.config.Config;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.recovery.StreamEvent.StoredChunk;
import io.pekkollm.recovery.StreamState.Status;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import io.pekkollm.journal.Entities;
import io.pekkollm.util.JsonSerializable;
import io.pekkollm.recovery.StreamEvent.StoredUsage;
import java.util.function.Predicate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;

/**
 * One stream, event-sourced by recovery id: it assigns sequence numbers, persists chunks before they are
 * released to a caller, records how the stream ended, and decides resumes (one at a time: a second resume of
 * a running stream is refused). A stream still marked as running by an earlier gateway process (killed before
 * it could record anything) counts as interrupted.
 */
final class StreamEntity extends JournalledBehavior<StreamEntity.Command, StreamEvent, StreamState> {

  /** Serialized (Jackson) when it crosses cluster nodes, as every reply below. */
  sealed interface Command extends JsonSerializable {}

  record Start(String provider, String model, String request, String incarnation, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  /**
   * What a stream's Started event will record; {@code atMillis} and {@code incarnation} also tell this stream's
   * own later writes apart from another stream under the same id.
   */
  record Begin(String provider, String model, String request, String incarnation, long atMillis, String origin,
      String owner) {}

  /**
   * A stream is starting (nothing persisted yet, no reply): the entity starts and recovers while the upstream
   * request runs, and answers status and resume questions about the stream as running.
   */
  record Announce(Begin begin) implements Command {}

  /** How a {@link Write} ends the stream. */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME)
  @JsonSubTypes({@JsonSubTypes.Type(value = Finish.class, name = "finish"),
      @JsonSubTypes.Type(value = Stop.class, name = "stop")})
  sealed interface End {}

  record Finish(String finishReason, StoredUsage usage) implements End {}

  record Stop(String cause, ErrorKind kind, boolean recoverable, boolean cancelled) implements End {}

  /**
   * One journal write of a stream, all its events persisted atomically: the Started event when {@code start} is
   * set and the stream is not in the journal yet, the chunks (may be empty), and the end when {@code end} is set.
   * The chunks come in their stored form without sequence numbers ({@link Chunks#store}); replies each one's
   * sequence number (0 for usage-only chunks).
   *
   * <p>{@code writer} is the run of the stream sending it (a random id per run: the new stream, or one resume of
   * it) and {@code write} the write's number in that run (1, 2, 3, ...; one at a time). They make a write safe to
   * send again when its answer did not come (in a cluster, the entity's shard may have been moving): a repeat of
   * the run's last persisted write is answered with the sequence numbers it got then and persists nothing, an older
   * one is refused, and so is a write of any run other than the one the stream's latest Started or Resumed event
   * names. A null {@code writer} skips these checks (entities journalled before writes were numbered).
   */
  record Write(Begin start, List<StoredChunk> chunks, End end, String writer, long write,
      ActorRef<StatusReply<Seqs>> replyTo) implements Command {}

  /** The sequence numbers a {@link Write} gave its chunks, in order. */
  record Seqs(List<Long> seqs) implements JsonSerializable {}

  /** Persist these chunks; replies each one's sequence number (0 for usage-only chunks). */
  record Append(List<ChatChunk> chunks, ActorRef<StatusReply<List<Long>>> replyTo) implements Command {}

  record Complete(String finishReason, io.pekkollm.model.Usage usage, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  record Interrupt(String cause, ErrorKind kind, boolean recoverable, boolean cancelled, ActorRef<StatusReply<Done>> replyTo)
      implements Command {}

  /**
   * {@code notAfterMillis}: the asker has given up by then (its ask timed out), so a resume that arrives later (held
   * by Cluster Sharding while the entity moved) is refused rather than accepted for nobody. {@code writer} is the
   * run the resume will write as (random per resume); the same resume sent again (its answer was lost) gets the
   * plan it was given again, as long as its run has not written yet.
   */
  record BeginResume(ResumeStrategy strategy, String model, Long lastEventId, String incarnation, String writer,
      long notAfterMillis, ActorRef<ResumeOutcome> replyTo) implements Command {}

  /** The stream's state. */
  record Get(ActorRef<SnapshotReply> replyTo) implements Command {}

  /** The answer to {@link Get}: null for an unknown stream. */
  record SnapshotReply(StreamSnapshot snapshot) implements JsonSerializable {}

  enum Idle implements Command { INSTANCE }

  /** Told by the entity itself {@code passivate-after-end} after its stream ended (or it was restored ended). */
  enum EndedIdle implements Command { INSTANCE }

  /** The answer to {@link BeginResume}. */
  sealed interface ResumeOutcome extends JsonSerializable {}

  record Accepted(ResumePlan plan) implements ResumeOutcome {}

  record NotFound() implements ResumeOutcome {}

  /** Refused: {@code completed} streams carry their final text. */
  record Conflict(String reason, boolean completed, String finalText) implements ResumeOutcome {}

  private final String recoveryId;

  /**
   * Stream {@code recoveryId}; idle for {@code passivateAfter}, or {@code passivateAfterEnd} after its stream
   * ended, it stops through {@code passivation}; {@code writerAlive} tells whether the process recorded as a
   * running stream's writer may still be writing it ({@code EntityHost.writerAlive}).
   */
  static Behavior<Command> create(String recoveryId, String journalPluginId, Config journalPluginConfig,
      Duration passivateAfter, Duration passivateAfterEnd, Entities.Passivation<Command> passivation,
      Predicate<String> writerAlive) {
    return Behaviors.setup(ctx -> {
      ctx.setReceiveTimeout(passivateAfter, Idle.INSTANCE);
      return new StreamEntity(recoveryId, journalPluginId, journalPluginConfig, passivation, writerAlive, ctx,
          passivateAfterEnd);
    });
  }

  private final Entities.Passivation<Command> passivation;
  private final Predicate<String> writerAlive;
  private final ActorContext<Command> ctx;
  private final Duration passivateAfterEnd;
  private boolean endedIdleScheduled;
  /** An announced stream whose Started event is not written yet (in memory only: it travels with its first write). */
  private Begin pending;
  private long pendingSince;

  private StreamEntity(String recoveryId, String journalPluginId, Config journalPluginConfig,
      Entities.Passivation<Command> passivation, Predicate<String> writerAlive, ActorContext<Command> ctx,
      Duration passivateAfterEnd) {
    super(PersistenceId.of("stream", recoveryId, "|"), journalPluginId, journalPluginConfig);
    this.recoveryId = recoveryId;
    this.passivation = passivation;
    this.writerAlive = writerAlive;
    this.ctx = ctx;
    this.passivateAfterEnd = passivateAfterEnd;
  }

  private static boolean ended(StreamState s) {
    return s.status == Status.COMPLETED || s.status == Status.INTERRUPTED;
  }

  /** Once the stream has ended: leave memory {@code passivate-after-end} from now (once scheduled, it stands). */
  private void leaveSoonIfEnded(StreamState s) {
    if (ended(s) && !endedIdleScheduled) {
      endedIdleScheduled = true;
      ctx.scheduleOnce(passivateAfterEnd, ctx.getSelf(), EndedIdle.INSTANCE);
    }
  }

  @Override
  public SignalHandler<StreamState> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), this::leaveSoonIfEnded)
        .build();
  }




  @Override
  public StreamState emptyState() {
    return new StreamState();
  }

  @Override
  public EventHandler<StreamState, StreamEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(StreamState::apply);
  }

  @Override
  public CommandHandlerWithReply<Command, StreamEvent, StreamState> commandHandler() {
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(Start.class, this::onStart)
        .onCommand(Append.class, this::onAppend)
        .onCommand(Complete.class, this::onComplete)
        .onCommand(Interrupt.class, this::onInterrupt)
        .onCommand(BeginResume.class, this::onBeginResume)
        .onCommand(Announce.class, this::onAnnounce)
        .onCommand(Write.class, this::onWrite)
        .onCommand(Get.class, (state, cmd) -> Effect().reply(cmd.replyTo(),
            new SnapshotReply(snapshot(pendingOr(state), writerAlive).orElse(null))))
        .onCommand(EndedIdle.class, (state, cmd) -> {
          endedIdleScheduled = false;
          if (ended(state)) {
            passivation.passivate(ctx.getSelf());
          }
          // Resumed since: running again, it leaves by the ordinary idle time (or when this run ends).
          return Effect().noReply();
        })
        .onCommand(Idle.class, (state, cmd) -> {
          if (state.status == Status.NEW && pending != null
              && System.currentTimeMillis() - pendingSince < PENDING_LIMIT.toMillis()) {
            // Still waiting for its first chunk (a model may think for minutes): stay, or it would look unknown.
            return Effect().noReply();
          }
          passivation.passivate(ctx.getSelf());
          return Effect().noReply();
        })
        .build();
  }

  private ReplyEffect<StreamEvent, StreamState> onStart(StreamState state, Start cmd) {
    if (state.status != Status.NEW) {
      return Effect().reply(cmd.replyTo(), StatusReply.error("stream " + recoveryId + " already exists"));
    }
    return Effect().persist(new StreamEvent.Started(recoveryId, cmd.provider(), cmd.model(), cmd.request(),
            cmd.incarnation(), System.currentTimeMillis(), null, null, null, null))
        .thenReply(cmd.replyTo(), s -> StatusReply.ack());
  }

  /** An announced stream that never writes (its process lost track of it) is forgotten after this. */
  private static final Duration PENDING_LIMIT = Duration.ofHours(1);

  private ReplyEffect<StreamEvent, StreamState> onAnnounce(StreamState state, Announce cmd) {
    if (state.status == Status.NEW) {
      pending = cmd.begin();
      pendingSince = System.currentTimeMillis();
    }
    return Effect().noReply();
  }

  private ReplyEffect<StreamEvent, StreamState> onWrite(StreamState state, Write cmd) {
    if (cmd.writer() != null && state.status != Status.NEW && state.writer != null) {
      if (!cmd.writer().equals(state.writer)) {
        return Effect().reply(cmd.replyTo(), StatusReply.error("stream " + recoveryId + " is written by another run "
            + "(it was resumed since): a late write of an earlier one is refused"));
      }
      if (cmd.write() == state.lastWrite) {
        // Sent again after its answer was lost: it is in the journal already.
        return Effect().reply(cmd.replyTo(), StatusReply.success(new Seqs(state.lastSeqs)));
      }
      if (cmd.write() < state.lastWrite) {
        return Effect().reply(cmd.replyTo(), StatusReply.error("write " + cmd.write() + " of stream " + recoveryId
            + " arrived after write " + state.lastWrite + ": a stale repeat, not persisted"));
      }
    }
    String writer = cmd.writer();
    Long write = writer == null ? null : cmd.write();
    List<StreamEvent> events = new ArrayList<>(3);
    long next = state.nextSeq;
    boolean running = state.status == Status.STREAMING;
    Begin b = cmd.start();
    if (b != null) {
      if (state.status == Status.NEW) {
        events.add(new StreamEvent.Started(recoveryId, b.provider(), b.model(), b.request(), b.incarnation(),
            b.atMillis(), b.origin(), writer, write, b.owner()));
        running = true;
      } else if (!(b.incarnation().equals(state.incarnation) && b.atMillis() == state.startedAt)) {
        return Effect().reply(cmd.replyTo(), StatusReply.error("stream " + recoveryId + " already exists"));
      }
    }
    long now = System.currentTimeMillis();
    List<Long> seqs = new ArrayList<>(cmd.chunks().size());
    if (!cmd.chunks().isEmpty()) {
      if (!running) {
        return Effect().reply(cmd.replyTo(), StatusReply.error("stream " + recoveryId + " is not running"));
      }
      List<StoredChunk> stored = new ArrayList<>(cmd.chunks().size());
      for (StoredChunk c : cmd.chunks()) {
        long seq = Chunks.isEvent(c) ? next++ : 0;
        stored.add(Chunks.withSeq(c, seq));
        seqs.add(seq);
      }
      events.add(new StreamEvent.ChunksAppended(stored, now, writer, write));
    }
    // An end for a stream that already ended (or never began) changes nothing, as Complete and Interrupt.
    if (cmd.end() != null && running) {
      events.add(cmd.end() instanceof Stop st
          ? new StreamEvent.Interrupted(st.cause(), st.kind() == null ? null : st.kind().name(), st.recoverable(),
              st.cancelled(), now, writer, write)
          : new StreamEvent.Completed(((Finish) cmd.end()).finishReason(), ((Finish) cmd.end()).usage(), now, writer,
              write));
    }
    if (events.isEmpty()) {
      return Effect().reply(cmd.replyTo(), StatusReply.success(new Seqs(seqs)));
    }
    return Effect().persist(events).thenRun(this::leaveSoonIfEnded)
        .thenReply(cmd.replyTo(), s -> StatusReply.success(new Seqs(seqs)));
  }

  /** The state, or for an announced stream not written yet, a running stream as its Started event will make it. */
  private StreamState pendingOr(StreamState state) {
    if (state.status != Status.NEW || pending == null) {
      return state;
    }
    StreamState s = new StreamState();
    s.apply(new StreamEvent.Started(recoveryId, pending.provider(), pending.model(), pending.request(),
        pending.incarnation(), pending.atMillis(), pending.origin(), null, null, pending.owner()));
    return s;
  }

  private ReplyEffect<StreamEvent, StreamState> onAppend(StreamState state, Append cmd) {
    if (state.status != Status.STREAMING) {
      return Effect().reply(cmd.replyTo(), StatusReply.error("stream " + recoveryId + " is not running"));
    }
    List<StoredChunk> stored = new ArrayList<>(cmd.chunks().size());
    List<Long> seqs = new ArrayList<>(cmd.chunks().size());
    long next = state.nextSeq;
    for (ChatChunk c : cmd.chunks()) {
      long seq = Chunks.isEvent(c) ? next++ : 0;
      stored.add(Chunks.store(seq, c));
      seqs.add(seq);
    }
    return Effect().persist(new StreamEvent.ChunksAppended(stored, System.currentTimeMillis(), null, null))
        .thenReply(cmd.replyTo(), s -> StatusReply.success(seqs));
  }

  private ReplyEffect<StreamEvent, StreamState> onComplete(StreamState state, Complete cmd) {
    if (state.status != Status.STREAMING) {
      return Effect().reply(cmd.replyTo(), StatusReply.ack());
    }
    return Effect().persist(new StreamEvent.Completed(cmd.finishReason(), Chunks.store(cmd.usage()),
            System.currentTimeMillis(), null, null))
        .thenRun(this::leaveSoonIfEnded)
        .thenReply(cmd.replyTo(), s -> StatusReply.ack());
  }

  private ReplyEffect<StreamEvent, StreamState> onInterrupt(StreamState state, Interrupt cmd) {
    if (state.status != Status.STREAMING) {
      return Effect().reply(cmd.replyTo(), StatusReply.ack());
    }
    return Effect().persist(new StreamEvent.Interrupted(cmd.cause(), cmd.kind() == null ? null : cmd.kind().name(),
            cmd.recoverable(), cmd.cancelled(), System.currentTimeMillis(), null, null))
        .thenRun(this::leaveSoonIfEnded)
        .thenReply(cmd.replyTo(), s -> StatusReply.ack());
  }

  private ReplyEffect<StreamEvent, StreamState> onBeginResume(StreamState state, BeginResume cmd) {
    if (System.currentTimeMillis() > cmd.notAfterMillis()) {
      return Effect().reply(cmd.replyTo(), new Conflict("the resume of stream " + recoveryId
          + " reached its entity after its caller stopped waiting; retry", false, null));
    }
    if (state.status == Status.NEW && pending != null) {
      return Effect().reply(cmd.replyTo(), new Conflict("stream " + recoveryId
          + " is still running (or another resume of it is); retry once it has ended", false, null));
    }
    StreamEvent.Resumed last = state.lastResume;
    if (cmd.writer() != null && state.status == Status.STREAMING && cmd.writer().equals(state.writer)
        && state.lastWrite == 0 && last != null && last.clientCodePoints() != null) {
      // This very resume, sent again: it was accepted, and its continuation has not written anything yet.
      String base = state.text.toString();
      int baseCps = Texts.codePoints(base);
      int kept = Math.min(last.clientCodePoints(), baseCps);
      return Effect().reply(cmd.replyTo(), new Accepted(new ResumePlan(recoveryId, cmd.strategy(), kept,
          last.clientCodePoints() - kept, replayAfter(state, last.lastEventId(), baseCps), base, state.request,
          last.fromModel(), state.model, state.attempt, last.outputTokensSoFar(), state.origin)));
    }
    switch (state.status) {
      case NEW:
        return Effect().reply(cmd.replyTo(), new NotFound());
      case COMPLETED:
        return Effect().reply(cmd.replyTo(), new Conflict("stream " + recoveryId
            + " already completed; its final text is in final_text and at GET /v1/streams/" + recoveryId, true,
            state.text.toString()));
      case STREAMING:
        if (writerAlive.test(state.incarnation)) {
          return Effect().reply(cmd.replyTo(), new Conflict("stream " + recoveryId
              + " is still running (or another resume of it is); retry once it has ended", false, null));
        }
        // Marked as running by a gateway process that no longer exists (in a cluster: a node downed or removed):
        // it was interrupted by that process's end.
        break;
      case INTERRUPTED:
        if (!state.recoverable && !state.cancelled) {
          return Effect().reply(cmd.replyTo(), new Conflict("stream " + recoveryId + " ended with an error that "
              + "resuming cannot fix (" + state.errorKind + "): " + state.cause, false, null));
        }
        break;
      default:
        break;
    }
    String full = state.text.toString();
    String base = cmd.strategy() == ResumeStrategy.PARAGRAPH ? Texts.completeParagraphs(full) : full;
    String clientText = state.textUpTo(cmd.lastEventId());
    int baseCps = Texts.codePoints(base);
    int clientCps = Texts.codePoints(clientText);
    int kept = Math.min(clientCps, baseCps);
    List<StoredChunk> replay = replayAfter(state, cmd.lastEventId(), baseCps);
    String model = cmd.model() != null ? cmd.model() : state.model;
    ResumePlan plan = new ResumePlan(recoveryId, cmd.strategy(), kept, clientCps - kept, replay, base, state.request,
        state.model, model, state.attempt + 1, state.outputTokens(), state.origin);
    return Effect().persist(new StreamEvent.Resumed(state.attempt + 1, cmd.strategy().wireName(), model, baseCps,
            cmd.incarnation(), System.currentTimeMillis(), cmd.writer(), cmd.lastEventId(), clientCps, state.model,
            plan.outputTokensSoFar()))
        .thenReply(cmd.replyTo(), s -> new Accepted(plan));
  }

  /** The journalled chunks after {@code lastEventId} that fall within the first {@code limit} code points. */
  private static List<StoredChunk> replayAfter(StreamState state, Long lastEventId, int limit) {
    List<StoredChunk> out = new ArrayList<>();
    int pos = 0;
    long after = lastEventId == null ? 0 : lastEventId;
    for (StoredChunk c : state.view) {
      String t = c.text() == null ? "" : c.text();
      int cps = Texts.codePoints(t);
      if (pos >= limit && cps > 0) {
        break;
      }
      if (c.seq() > after && c.finishReason() == null) {
        out.add(pos + cps <= limit ? c : Chunks.withText(c, Texts.prefix(t, limit - pos)));
      }
      pos += cps;
    }
    return out;
  }

  private static Optional<StreamSnapshot> snapshot(StreamState s, Predicate<String> writerAlive) {
    if (s.status == Status.NEW) {
      return Optional.empty();
    }
    if (s.status == Status.STREAMING && !writerAlive.test(s.incarnation)) {
      return Optional.of(new StreamSnapshot(s.recoveryId, "interrupted", s.provider, s.model, s.attempt,
          s.text.toString(), s.lastSeq(), s.finishReason, Chunks.usage(s.usage),
          "the gateway process running this stream stopped", ErrorKind.NETWORK.name(), true, false, s.startedAt,
          s.updatedAt, s.origin, s.owner));
    }
    return Optional.of(new StreamSnapshot(s.recoveryId, s.status.name().toLowerCase(), s.provider, s.model, s.attempt,
        s.text.toString(), s.lastSeq(), s.finishReason, Chunks.usage(s.usage), s.cause, s.errorKind, s.recoverable,
        s.cancelled, s.startedAt, s.updatedAt, s.origin, s.owner));
  }
}
