package io.pekkollm.keys;

import com.typesafe.config.Config;
import io.pekkollm.journal.JournalledBehavior;
import io.pekkollm.util.JsonSerializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
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
 * Every virtual key and the audit log of their admin actions, one event-sourced entity on the journal (a Cluster
 * Singleton in a cluster): it keeps names unique and refuses a change made from a stale version, so a change is
 * either whole or not made. Events are the audit log, which therefore can never disagree with the keys.
 */
final class KeyDirectory extends JournalledBehavior<KeyDirectory.Command, KeyDirectory.Event, KeyDirectory.State> {

  sealed interface Command extends JsonSerializable {}

  /** Adds {@code key}; the reply's error names a field when its name is taken. */
  record Create(StoredKey key, String actor, long at, ActorRef<Reply> replyTo) implements Command {}

  /**
   * Replaces the key {@code key.key().id()} by {@code key}, an {@code action} ({@code update}, {@code rotate},
   * {@code revoke}) made from version {@code fromVersion}; an error when the key changed meanwhile or is unknown.
   */
  record Change(String action, StoredKey key, int fromVersion, String actor, long at, ActorRef<Reply> replyTo)
      implements Command {}

  /** Replies the key {@code id} (null key when unknown). */
  record Get(String id, ActorRef<Reply> replyTo) implements Command {}

  /** Replies every key. */
  record GetAll(ActorRef<AllKeys> replyTo) implements Command {}

  /** Replies the audit entries with {@code seq > after}, at most {@code limit}, oldest first. */
  record GetAudit(long after, int limit, ActorRef<AuditPage> replyTo) implements Command {}

  /** A key, or what was wrong ({@code errorField} names the field at fault, {@code conflict} a stale change). */
  record Reply(StoredKey key, String error, String errorField, boolean conflict) implements JsonSerializable {
    static Reply ok(StoredKey key) {
      return new Reply(key, null, null, false);
    }
  }

  record AllKeys(List<StoredKey> keys) implements JsonSerializable {}

  record AuditPage(List<AuditEntry> entries, boolean hasMore) implements JsonSerializable {}

  sealed interface Event extends JsonSerializable {}

  record KeyCreated(StoredKey key, String actor, long at) implements Event {}

  record KeyChanged(String action, StoredKey key, String actor, long at) implements Event {}

  /** All keys by id (in creation order), the id of each live key's name, and the audit log. */
  static final class State {
    final Map<String, StoredKey> keys = new LinkedHashMap<>();
    final Map<String, String> names = new HashMap<>();
    final List<AuditEntry> audit = new ArrayList<>();

    State apply(Event e) {
      StoredKey k = e instanceof KeyCreated c ? c.key() : ((KeyChanged) e).key();
      StoredKey before = keys.get(k.key().id());
      if (before != null && before.key().name() != null) {
        names.remove(before.key().name());
      }
      keys.put(k.key().id(), k);
      if (k.key().name() != null && k.key().revokedAt() == null) {
        names.put(k.key().name(), k.key().id());
      }
      String action = e instanceof KeyChanged c ? c.action() : "create";
      String actor = e instanceof KeyCreated c ? c.actor() : ((KeyChanged) e).actor();
      long at = e instanceof KeyCreated c ? c.at() : ((KeyChanged) e).at();
      audit.add(new AuditEntry(audit.size() + 1, at, actor, action, k.key().id(),
          before == null ? null : before.key(), k.key()));
      return this;
    }

    String nameClash(VirtualKey key) {
      String owner = key.name() == null ? null : names.get(key.name());
      return owner != null && !owner.equals(key.id()) ? owner : null;
    }
  }

  static Behavior<Command> create(String pluginId, Config pluginConfig) {
    return new KeyDirectory(pluginId, pluginConfig);
  }

  private KeyDirectory(String pluginId, Config pluginConfig) {
    super(PersistenceId.ofUniqueId("key-directory"), pluginId, pluginConfig,
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
        .onCommand(Create.class, (s, c) -> {
          if (s.nameClash(c.key().key()) != null) {
            return Effect().reply(c.replyTo(), new Reply(null, "a key named '" + c.key().key().name()
                + "' exists already", "name", false));
          }
          if (s.keys.containsKey(c.key().key().id())) {
            return Effect().reply(c.replyTo(), new Reply(null, "key id exists already", "id", true));
          }
          return Effect().persist(new KeyCreated(c.key(), c.actor(), c.at()))
              .thenReply(c.replyTo(), st -> Reply.ok(c.key()));
        })
        .onCommand(Change.class, (s, c) -> {
          StoredKey current = s.keys.get(c.key().key().id());
          if (current == null) {
            return Effect().reply(c.replyTo(), new Reply(null, "no key '" + c.key().key().id() + "'", "id", false));
          }
          if (current.key().version() != c.fromVersion()) {
            return Effect().reply(c.replyTo(), new Reply(null, "the key changed meanwhile: retry", null, true));
          }
          if (s.nameClash(c.key().key()) != null) {
            return Effect().reply(c.replyTo(), new Reply(null, "a key named '" + c.key().key().name()
                + "' exists already", "name", false));
          }
          return Effect().persist(new KeyChanged(c.action(), c.key(), c.actor(), c.at()))
              .thenReply(c.replyTo(), st -> Reply.ok(c.key()));
        })
        .onCommand(Get.class, (s, c) -> Effect().reply(c.replyTo(), Reply.ok(s.keys.get(c.id()))))
        .onCommand(GetAll.class, (s, c) -> Effect().reply(c.replyTo(), new AllKeys(List.copyOf(s.keys.values()))))
        .onCommand(GetAudit.class, (s, c) -> {
          int from = (int) Math.min(Math.max(0, c.after()), s.audit.size());
          int to = Math.min(s.audit.size(), from + c.limit());
          return Effect().reply(c.replyTo(), new AuditPage(List.copyOf(s.audit.subList(from, to)),
              to < s.audit.size()));
        })
        .build();
  }
}
