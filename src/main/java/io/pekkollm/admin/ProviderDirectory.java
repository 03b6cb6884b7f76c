package io.pekkollm.admin;

import com.typesafe.config.Config;
import io.pekkollm.journal.JournalledBehavior;
import io.pekkollm.util.JsonSerializable;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;

/**
 * Every runtime provider, one event-sourced entity on the journal (a Cluster Singleton in a cluster): names are
 * unique, and a change made from a stale version is refused, so two admins cannot overwrite each other unseen.
 */
final class ProviderDirectory
    extends JournalledBehavior<ProviderDirectory.Command, ProviderDirectory.Event, ProviderDirectory.State> {

  sealed interface Command extends JsonSerializable {}

  /** Adds {@code provider}; an error when its name is taken. */
  record Create(StoredProvider provider, ActorRef<Reply> replyTo) implements Command {}

  /** Replaces the provider of {@code provider.id()}, changed from version {@code fromVersion}. */
  record Update(StoredProvider provider, int fromVersion, ActorRef<Reply> replyTo) implements Command {}

  /** Removes provider {@code id}; replies the removed one. */
  record Delete(String id, long at, ActorRef<Reply> replyTo) implements Command {}

  /** Replies every provider. */
  record GetAll(ActorRef<All> replyTo) implements Command {}

  /** The provider, or what was wrong: {@code notFound}, or {@code conflict} (name taken, stale version). */
  record Reply(StoredProvider provider, String error, boolean notFound, boolean conflict) implements JsonSerializable {
    static Reply ok(StoredProvider p) {
      return new Reply(p, null, false, false);
    }
  }

  record All(List<StoredProvider> providers) implements JsonSerializable {}

  sealed interface Event extends JsonSerializable {}

  record ProviderCreated(StoredProvider provider) implements Event {}

  record ProviderUpdated(StoredProvider provider) implements Event {}

  record ProviderDeleted(String id, long at) implements Event {}

  /** The providers by name, in creation order. */
  static final class State {
    final Map<String, StoredProvider> providers = new LinkedHashMap<>();

    State apply(Event e) {
      if (e instanceof ProviderCreated c) {
        providers.put(c.provider().id(), c.provider());
      } else if (e instanceof ProviderUpdated u) {
        providers.put(u.provider().id(), u.provider());
      } else if (e instanceof ProviderDeleted d) {
        providers.remove(d.id());
      }
      return this;
    }
  }

  static Behavior<Command> create(String pluginId, Config pluginConfig) {
    return new ProviderDirectory(pluginId, pluginConfig);
  }

  private ProviderDirectory(String pluginId, Config pluginConfig) {
    super(PersistenceId.ofUniqueId("runtime-providers"), pluginId, pluginConfig,
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(100), Duration.ofSeconds(5), 0.2));
  }

  @Override
  public State emptyState() {
    return new State();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(State::apply);
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(Create.class, (s, c) -> s.providers.containsKey(c.provider().id())
            ? Effect().reply(c.replyTo(), new Reply(null, "a runtime provider named '" + c.provider().id()
                + "' exists already", false, true))
            : Effect().persist(new ProviderCreated(c.provider())).thenReply(c.replyTo(), st -> Reply.ok(c.provider())))
        .onCommand(Update.class, (s, c) -> {
          StoredProvider current = s.providers.get(c.provider().id());
          if (current == null) {
            return Effect().reply(c.replyTo(), new Reply(null, "no runtime provider '" + c.provider().id() + "'",
                true, false));
          }
          if (current.version() != c.fromVersion()) {
            return Effect().reply(c.replyTo(), new Reply(null, "the provider changed meanwhile: retry", false, true));
          }
          return Effect().persist(new ProviderUpdated(c.provider())).thenReply(c.replyTo(), st -> Reply.ok(c.provider()));
        })
        .onCommand(Delete.class, (s, c) -> {
          StoredProvider current = s.providers.get(c.id());
          return current == null
              ? Effect().reply(c.replyTo(), new Reply(null, "no runtime provider '" + c.id() + "'", true, false))
              : Effect().persist(new ProviderDeleted(c.id(), c.at())).thenReply(c.replyTo(), st -> Reply.ok(current));
        })
        .onCommand(GetAll.class, (s, c) -> Effect().reply(c.replyTo(), new All(List.copyOf(s.providers.values()))))
        .build();
  }
}
