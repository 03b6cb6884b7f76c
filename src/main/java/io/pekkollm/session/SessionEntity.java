package io.pekkollm.session;

import io.pekkollm.journal.JournalledBehavior;
import com.typesafe.config.Config;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.session.SessionEvent.AssistantReplyAdded;
import io.pekkollm.session.SessionEvent.MetadataChanged;
import io.pekkollm.session.SessionEvent.ModelChanged;
import io.pekkollm.session.SessionEvent.SessionCreated;
import io.pekkollm.session.SessionEvent.SessionDeleted;
import io.pekkollm.session.SessionEvent.SessionImported;
import io.pekkollm.session.SessionEvent.StoredMessage;
import io.pekkollm.session.SessionEvent.UserMessageAdded;
import io.pekkollm.session.SessionState.Active;
import io.pekkollm.journal.Entities;
import io.pekkollm.util.JsonSerializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReplyBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;

/**
 * One session, event-sourced by id on the recovery journal. A turn is two steps: {@link BeginTurn} hands out
 * the history and reserves the session (one turn at a time: a second is refused with CONFLICT until the first
 * ends or {@code turn-timeout} passes), {@link CompleteTurn} persists the turn's input messages and the reply
 * together, so a failed or cancelled call leaves the session as it was. Idle sessions passivate (not while a
 * turn runs) and are restored from the journal on demand.
 */
final class SessionEntity extends JournalledBehavior<SessionEntity.Command, SessionEvent,
    SessionState> {

  /**
   * Serialized (Jackson) when it crosses cluster nodes, as the replies: a session is answered in its stored form
   * ({@link Active}, {@link Active#toSession} on the caller's side), an error as an {@link LlmException}
   * ({@code LlmExceptionSerializer}).
   */
  sealed interface Command extends JsonSerializable {}

  /** What a new session starts with; {@code messages} holds the system prompt when there is one. */
  record Create(String name, String model, String contextStrategy, Map<String, String> metadata,
      List<StoredMessage> messages, long atMillis, String owner, ActorRef<StatusReply<Active>> replyTo)
      implements Command {}

  record Import(SessionImported imported, ActorRef<StatusReply<Active>> replyTo) implements Command {}

  record Get(ActorRef<StatusReply<Active>> replyTo) implements Command {}

  /**
   * Reserves the session for turn {@code turnId} (the caller's, unique per turn). Sent again with the same id when
   * no answer came (in a cluster the session may be moving between nodes): the turn that holds the session is
   * granted it again, so a lost answer does not lock the caller out. {@code notAfterMillis}: the asker has given
   * up by then (its ask timed out), so a BeginTurn that arrives later (held by Cluster Sharding while the session
   * moved) is refused instead of reserving the session for an attempt nobody waits for, which would refuse every
   * other turn for {@code turn-timeout}.
   */
  record BeginTurn(String turnId, long nowMillis, long notAfterMillis, ActorRef<StatusReply<TurnStarted>> replyTo)
      implements Command {}

  /** The session as the turn starts, and the turn's id for {@link CompleteTurn} / {@link AbortTurn}. */
  record TurnStarted(String turnId, Active session) implements JsonSerializable {}

  /**
   * Records turn {@code turnId}: its inputs and reply, persisted together. Idempotent: a turn recorded already (the
   * command sent again after its answer was lost) is answered with the session as it is, and persists nothing.
   */
  record CompleteTurn(String turnId, List<StoredMessage> inputs, StoredMessage reply,
      ActorRef<StatusReply<Active>> replyTo) implements Command {}

  /** The turn's call failed or was cancelled: release the session, record nothing. */
  record AbortTurn(String turnId) implements Command {}

  /** Null fields stay as they are; {@code contextStrategy} "" means none. */
  record Update(String name, String model, Map<String, String> metadata, String contextStrategy, long atMillis,
      ActorRef<StatusReply<Active>> replyTo) implements Command {}

  /** Replies the sequence number of the tombstone: the events before it may be purged. */
  record Delete(long atMillis, ActorRef<StatusReply<Long>> replyTo) implements Command {}

  enum Idle implements Command { INSTANCE }

  private final String sessionId;
  private final Duration turnTimeout;
  private final ActorContext<Command> ctx;
  private final Entities.Passivation<Command> passivation;
  // The running turn (null: none), in memory only. After a restart or a move to another node no turn runs; a late
  // CompleteTurn is still recorded (once: the state remembers recorded turn ids).
  private String activeTurn;
  private long activeSince;

  static Behavior<Command> create(String sessionId, String journalPluginId, Config journalPluginConfig,
      Duration passivateAfter, Duration turnTimeout, Entities.Passivation<Command> passivation) {
    return Behaviors.setup(ctx -> {
      ctx.setReceiveTimeout(passivateAfter, Idle.INSTANCE);
      return new SessionEntity(sessionId, journalPluginId, journalPluginConfig, turnTimeout, ctx, passivation);
    });
  }

  private SessionEntity(String sessionId, String journalPluginId, Config journalPluginConfig, Duration turnTimeout,
      ActorContext<Command> ctx, Entities.Passivation<Command> passivation) {
    // A failed write restarts the entity from the journal; the command's caller times out and may retry.
    super(persistenceId(sessionId), journalPluginId, journalPluginConfig, SupervisorStrategy.restartWithBackoff(Duration.ofMillis(100),
        Duration.ofSeconds(5), 0.2));
    this.sessionId = sessionId;
    this.turnTimeout = turnTimeout;
    this.ctx = ctx;
    this.passivation = passivation;
  }

  static PersistenceId persistenceId(String sessionId) {
    return PersistenceId.of("session", sessionId, "|");
  }




  @Override
  public SessionState emptyState() {
    return new SessionState.Empty();
  }

  @Override
  public EventHandler<SessionState, SessionEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(SessionState::apply);
  }

  @Override
  public CommandHandlerWithReply<Command, SessionEvent, SessionState> commandHandler() {
    CommandHandlerWithReplyBuilder<Command, SessionEvent, SessionState> b = newCommandHandlerWithReplyBuilder();
    b.forStateType(Active.class)
        .onCommand(Create.class, (s, c) -> Effect().reply(c.replyTo(), conflict("session '" + sessionId
            + "' already exists")))
        .onCommand(Import.class, (s, c) -> Effect().reply(c.replyTo(), conflict("session '" + sessionId
            + "' already exists; import with a new id (?new_id=true) or delete it first")))
        .onCommand(Get.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.success(s)))
        .onCommand(BeginTurn.class, this::onBeginTurn)
        .onCommand(CompleteTurn.class, this::onCompleteTurn)
        .onCommand(AbortTurn.class, (s, c) -> {
          endTurn(c.turnId());
          return Effect().noReply();
        })
        .onCommand(Update.class, this::onUpdate)
        .onCommand(Delete.class, (s, c) -> {
          activeTurn = null;
          return Effect().persist(new SessionDeleted(c.atMillis()))
              .thenReply(c.replyTo(), st -> StatusReply.success(lastSequenceNumber(ctx)));
        });
    b.forAnyState()
        .onCommand(Create.class, (s, c) -> Effect()
            .persist(new SessionCreated(sessionId, c.name(), c.model(), c.contextStrategy(), c.metadata(),
                c.messages(), c.atMillis(), c.owner()))
            .thenReply(c.replyTo(), st -> StatusReply.success((Active) st)))
        .onCommand(Import.class, (s, c) -> Effect().persist(c.imported())
            .thenReply(c.replyTo(), st -> StatusReply.success((Active) st)))
        .onCommand(Get.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
        .onCommand(BeginTurn.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
        .onCommand(CompleteTurn.class, (s, c) -> Effect().reply(c.replyTo(), StatusReply.error(new LlmException(
            ErrorKind.NOT_FOUND, "session '" + sessionId + "' was deleted while its turn ran; the reply was not kept",
            null, false, "session_id"))))
        .onCommand(AbortTurn.class, (s, c) -> Effect().noReply())
        .onCommand(Update.class, (s, c) -> Effect().reply(c.replyTo(), notFound()))
        .onCommand(Delete.class, (s, c) -> Effect().reply(c.replyTo(), notFound()));
    b.forAnyState().onCommand(Idle.class, (s, c) -> {
      if (activeTurn == null) {
        passivation.passivate(ctx.getSelf());
      }
      return Effect().noReply();
    });
    return b.build();
  }

  private ReplyEffect<SessionEvent, SessionState> onBeginTurn(Active s, BeginTurn c) {
    if (System.currentTimeMillis() > c.notAfterMillis()) {
      return Effect().reply(c.replyTo(), StatusReply.error(new LlmException(ErrorKind.TIMEOUT, "the turn of session '"
          + sessionId + "' reached its entity after its caller stopped waiting; retry", null, true, "session_id")));
    }
    if (c.turnId() == null) {
      return Effect().reply(c.replyTo(), StatusReply.error(LlmException.invalidRequest("a turn needs an id (sent by "
          + "a gateway of another version?)", "turn_id")));
    }
    if (c.turnId().equals(activeTurn)) {
      // The same turn asking again (its first answer was lost): it holds the session already.
      return Effect().reply(c.replyTo(), StatusReply.success(new TurnStarted(activeTurn, s)));
    }
    if (s.recorded(c.turnId())) {
      return Effect().reply(c.replyTo(), conflict("turn " + c.turnId() + " of session '" + sessionId
          + "' is recorded already"));
    }
    if (activeTurn != null && c.nowMillis() - activeSince < turnTimeout.toMillis()) {
      return Effect().reply(c.replyTo(), conflict("a chat in session '" + sessionId
          + "' is still running: one turn at a time, retry when it has finished"));
    }
    activeTurn = c.turnId();
    activeSince = c.nowMillis();
    return Effect().reply(c.replyTo(), StatusReply.success(new TurnStarted(activeTurn, s)));
  }

  private ReplyEffect<SessionEvent, SessionState> onCompleteTurn(Active s, CompleteTurn c) {
    endTurn(c.turnId());
    if (s.recorded(c.turnId())) {
      return Effect().reply(c.replyTo(), StatusReply.success(s));
    }
    List<SessionEvent> events = new ArrayList<>(c.inputs().size() + 1);
    c.inputs().forEach(m -> events.add(new UserMessageAdded(m)));
    events.add(new AssistantReplyAdded(c.reply(), c.turnId()));
    return Effect().persist(events).thenReply(c.replyTo(), st -> StatusReply.success((Active) st));
  }

  private void endTurn(String turnId) {
    if (turnId != null && turnId.equals(activeTurn)) {
      activeTurn = null;
    }
  }

  private ReplyEffect<SessionEvent, SessionState> onUpdate(Active s, Update c) {
    List<SessionEvent> events = new ArrayList<>(2);
    if (c.model() != null && !c.model().equals(s.model())) {
      events.add(new ModelChanged(c.model(), c.atMillis()));
    }
    if (c.name() != null || c.metadata() != null || c.contextStrategy() != null) {
      String strategy = c.contextStrategy() == null ? s.contextStrategy()
          : c.contextStrategy().isEmpty() ? null : c.contextStrategy();
      events.add(new MetadataChanged(c.name() != null ? c.name() : s.name(),
          c.metadata() != null ? c.metadata() : s.metadata(), strategy, c.atMillis()));
    }
    if (events.isEmpty()) {
      return Effect().reply(c.replyTo(), StatusReply.success(s));
    }
    return Effect().persist(events).thenReply(c.replyTo(), st -> StatusReply.success((Active) st));
  }

  private <T> StatusReply<T> notFound() {
    return StatusReply.error(new LlmException(ErrorKind.NOT_FOUND, "no session with id '" + sessionId + "'", null,
        false, "session_id"));
  }

  private static <T> StatusReply<T> conflict(String message) {
    return StatusReply.error(new LlmException(ErrorKind.CONFLICT, message, null, false, "session_id"));
  }
}
