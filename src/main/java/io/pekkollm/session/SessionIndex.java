package io.pekkollm.session;

import io.pekkollm.journal.JournalledBehavior;
import com.typesafe.config.Config;
import io.pekkollm.util.JsonSerializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import java.time.Duration;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.SnapshotAdapter;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;

/**
 * The list of live sessions, event-sourced (persistence id {@code session-index|all}) on the same journal as the
 * sessions: what {@code GET /v1/sessions} reads, without starting every session entity. Updated after a session's
 * own event is persisted (created, imported, renamed, model changed, deleted); a process killed between the two
 * writes leaves that one change out of the list until the session changes again. One process writes it: a
 * second process (or client) on the same journal sees the other's entries when its own write conflicts with
 * theirs (its index then restarts and replays) or when it restarts; in a cluster it is a Cluster Singleton.
 *
 * <p>Its state is a mutable map changed only by the event handler (Pekko's mutable-state pattern): an index of
 * many sessions would otherwise be copied on every event during replay.
 */
final class SessionIndex extends JournalledBehavior<SessionIndex.Command, SessionIndex.Event,
    SessionIndex.State> {

  /** Serialized (Jackson) when it crosses cluster nodes (the index is a Cluster Singleton there). */
  sealed interface Command extends JsonSerializable {}

  record Put(SessionSummary summary, ActorRef<StatusReply<Done>> replyTo) implements Command {}

  record Remove(String sessionId, ActorRef<StatusReply<Done>> replyTo) implements Command {}

  /** Sessions newest first, at most {@code limit}, starting after the session {@code after} (null: the newest). */
  record ListSessions(int limit, String after, String owner, ActorRef<Page> replyTo) implements Command {}

  /** One page of a listing; {@code hasMore} when sessions follow it. */
  record Page(List<SessionSummary> sessions, boolean hasMore) implements JsonSerializable {}

  /** The index's persisted events: a schema, like every event. */
  sealed interface Event extends JsonSerializable {}

  /** {@code owner}: the virtual key id that created the session (null: none, and in events from before owners). */
  record SessionListed(String sessionId, String name, String model, long createdAtMillis, String owner)
      implements Event {}

  record SessionUnlisted(String sessionId) implements Event {}

  /** Live sessions by id. Mutated only by the event handler. */
  static final class State {
    final Map<String, SessionSummary> sessions = new HashMap<>();
  }

  /**
   * The index as a snapshot: every live entry, as the events that list them. Written every
   * {@link #SNAPSHOT_EVERY} events, so a start replays at most that many after it, not every change to every
   * session ever made.
   */
  record Snapshot(List<SessionListed> sessions) implements JsonSerializable {}

  static final int SNAPSHOT_EVERY = 1000;

  private static final Comparator<SessionSummary> NEWEST_FIRST = Comparator
      .comparing(SessionSummary::createdAt).reversed().thenComparing(SessionSummary::id);


  /**
   * The index on the journal plugin {@code journalPluginId}, snapshotted on {@code snapshotPluginId} (both
   * configured in {@code journalPluginConfig}).
   */
  static Behavior<Command> create(String journalPluginId, String snapshotPluginId, Config journalPluginConfig) {
    return create(journalPluginId, snapshotPluginId, journalPluginConfig, SNAPSHOT_EVERY);
  }

  /** As above, with a snapshot every {@code snapshotEvery} events. */
  static Behavior<Command> create(String journalPluginId, String snapshotPluginId, Config journalPluginConfig,
      int snapshotEvery) {
    return new SessionIndex(journalPluginId, snapshotPluginId, journalPluginConfig, snapshotEvery);
  }

  private final int snapshotEvery;

  private SessionIndex(String journalPluginId, String snapshotPluginId, Config journalPluginConfig,
      int snapshotEvery) {
    // A failed write (another process or client wrote the index meanwhile: a sequence number conflict) restarts
    // the index, which replays every entry since its last snapshot, theirs included; the caller retries.
    super(PersistenceId.of("session-index", "all", "|"), journalPluginId, journalPluginConfig, snapshotPluginId,
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(50), Duration.ofSeconds(2), 0.2));
    this.snapshotEvery = snapshotEvery;
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    // The events are kept; snapshots before the last two are deleted when a new one is written.
    return RetentionCriteria.snapshotEvery(snapshotEvery, 2);
  }

  @Override
  public SnapshotAdapter<State> snapshotAdapter() {
    // The state is mutable: a snapshot is an immutable copy, made on the index's own thread when it is taken
    // (commands wait meanwhile).
    return new SnapshotAdapter<>() {
      @Override
      public Object toJournal(State state) {
        List<SessionListed> all = new ArrayList<>(state.sessions.size());
        for (SessionSummary x : state.sessions.values()) {
          all.add(new SessionListed(x.id(), x.name(), x.model(), x.createdAt().toEpochMilli(), x.owner()));
        }
        return new Snapshot(all);
      }

      @Override
      public State fromJournal(Object from) {
        State state = new State();
        for (SessionListed e : ((Snapshot) from).sessions()) {
          list(state, e);
        }
        return state;
      }
    };
  }

  @Override
  public State emptyState() {
    return new State();
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onEvent(SessionListed.class, (s, e) -> {
          list(s, e);
          return s;
        })
        .onEvent(SessionUnlisted.class, (s, e) -> {
          s.sessions.remove(e.sessionId());
          return s;
        })
        .build();
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(Put.class, (s, c) -> {
          SessionSummary x = c.summary();
          if (x.equals(s.sessions.get(x.id()))) {
            return Effect().reply(c.replyTo(), StatusReply.ack());
          }
          return Effect().persist(new SessionListed(x.id(), x.name(), x.model(), x.createdAt().toEpochMilli(),
              x.owner()))
              .thenReply(c.replyTo(), st -> StatusReply.ack());
        })
        .onCommand(Remove.class, (s, c) -> s.sessions.containsKey(c.sessionId())
            ? Effect().persist(new SessionUnlisted(c.sessionId())).thenReply(c.replyTo(), st -> StatusReply.ack())
            : Effect().reply(c.replyTo(), StatusReply.ack()))
        .onCommand(ListSessions.class, (s, c) -> Effect().reply(c.replyTo(), page(s, c.limit(), c.after(), c.owner())))
        .build();
  }

  private static void list(State s, SessionListed e) {
    s.sessions.put(e.sessionId(), new SessionSummary(e.sessionId(), e.name() == null ? "" : e.name(), e.model(),
        java.time.Instant.ofEpochMilli(e.createdAtMillis()), e.owner()));
  }

  /** A page of the sessions of {@code owner} (null: every session). */
  private static Page page(State s, int limit, String after, String owner) {
    List<SessionSummary> all = new ArrayList<>(s.sessions.size());
    for (SessionSummary x : s.sessions.values()) {
      if (owner == null || owner.equals(x.owner())) {
        all.add(x);
      }
    }
    all.sort(NEWEST_FIRST);
    int from = 0;
    if (after != null) {
      SessionSummary anchor = s.sessions.get(after);
      if (anchor != null && (owner == null || owner.equals(anchor.owner()))) {
        int i = java.util.Collections.binarySearch(all, anchor, NEWEST_FIRST);
        from = i < 0 ? 0 : i + 1;
      }
    }
    int to = Math.min(all.size(), from + limit);
    return new Page(List.copyOf(all.subList(from, to)), to < all.size());
  }
}
