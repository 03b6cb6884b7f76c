package io.pekkollm.responses;

import com.typesafe.config.Config;
import io.pekkollm.journal.Entities;
import io.pekkollm.journal.JournalledBehavior;
import io.pekkollm.util.JsonSerializable;
import java.time.Duration;
import java.util.Optional;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;

/**
 * One stored response, event-sourced on the journal: stored once, read any number of times, deleted for good
 * (a deleted id stays deleted: it is never stored again). Idle entities passivate and come back from the journal.
 */
final class ResponseEntity extends JournalledBehavior<ResponseEntity.Command, ResponseEntity.Event,
    ResponseEntity.State> {

  sealed interface Command extends JsonSerializable {}

  /** Stores {@code response}; replies Done (also when it is already stored), an error when it was deleted. */
  record Store(StoredResponse response, ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /** Replies the stored response, empty when there is none (never stored, or deleted). */
  record Get(ActorRef<StatusReply<Optional<StoredResponse>>> replyTo) implements Command {}

  /** Deletes the response; replies whether there was one. */
  record Delete(long atMillis, ActorRef<StatusReply<Boolean>> replyTo) implements Command {}

  enum Idle implements Command { INSTANCE }

  sealed interface Event extends JsonSerializable {}

  record ResponseStored(StoredResponse response) implements Event {}

  record ResponseDeleted(long atMillis) implements Event {}

  /** The entity's state: nothing yet, stored, or deleted. */
  record State(StoredResponse response, boolean deleted) {
    static final State EMPTY = new State(null, false);

    State apply(Event e) {
      return e instanceof ResponseStored s ? new State(s.response(), false) : new State(null, true);
    }
  }

  private final String id;
  private final ActorContext<Command> ctx;
  private final Entities.Passivation<Command> passivation;

  static Behavior<Command> create(String id, String pluginId, Config pluginConfig, Duration passivateAfter,
      Entities.Passivation<Command> passivation) {
    return Behaviors.setup(ctx -> {
      ctx.setReceiveTimeout(passivateAfter, Idle.INSTANCE);
      return new ResponseEntity(id, pluginId, pluginConfig, ctx, passivation);
    });
  }

  private ResponseEntity(String id, String pluginId, Config pluginConfig, ActorContext<Command> ctx,
      Entities.Passivation<Command> passivation) {
    super(PersistenceId.of("response", id, "|"), pluginId, pluginConfig,
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(100), Duration.ofSeconds(5), 0.2));
    this.id = id;
    this.ctx = ctx;
    this.passivation = passivation;
  }

  @Override
  public State emptyState() {
    return State.EMPTY;
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(State::apply);
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(Store.class, (s, c) -> {
          if (s.deleted()) {
            return Effect().reply(c.replyTo(), StatusReply.error("response '" + id + "' was deleted"));
          }
          if (s.response() != null) {
            return Effect().reply(c.replyTo(), StatusReply.ack());
          }
          return Effect().persist(new ResponseStored(c.response()))
              .thenReply(c.replyTo(), st -> StatusReply.ack());
        })
        .onCommand(Get.class, (s, c) -> Effect().reply(c.replyTo(),
            StatusReply.success(Optional.ofNullable(s.response()))))
        .onCommand(Delete.class, (s, c) -> s.response() == null
            ? Effect().reply(c.replyTo(), StatusReply.success(false))
            : Effect().persist(new ResponseDeleted(c.atMillis())).thenReply(c.replyTo(), st -> StatusReply.success(true)))
        .onCommand(Idle.class, (s, c) -> {
          passivation.passivate(ctx.getSelf());
          return Effect().noReply();
        })
        .build();
  }
}
