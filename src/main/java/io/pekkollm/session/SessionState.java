package io.pekkollm.session;

import io.pekkollm.model.TruncationStrategy;
import io.pekkollm.session.SessionEvent.AssistantReplyAdded;
import io.pekkollm.session.SessionEvent.MetadataChanged;
import io.pekkollm.session.SessionEvent.ModelChanged;
import io.pekkollm.session.SessionEvent.SessionCreated;
import io.pekkollm.session.SessionEvent.SessionDeleted;
import io.pekkollm.session.SessionEvent.SessionImported;
import io.pekkollm.session.SessionEvent.StoredCost;
import io.pekkollm.session.SessionEvent.StoredMessage;
import io.pekkollm.session.SessionEvent.StoredUsage;
import io.pekkollm.session.SessionEvent.UserMessageAdded;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The state of one session, one immutable type per phase: never created, active, deleted. */
sealed interface SessionState {

  /** The state after {@code event}. */
  SessionState apply(SessionEvent event);

  /** No session with this id was ever created (or it was purged). */
  record Empty() implements SessionState {
    @Override
    public SessionState apply(SessionEvent event) {
      return Active.begin(event, this);
    }
  }

  /** Deleted: behaves as absent; a new session or an import may take the id again. */
  record Deleted() implements SessionState {
    @Override
    public SessionState apply(SessionEvent event) {
      return Active.begin(event, this);
    }
  }

  /**
   * A live session. {@code cost} is null until a priced reply arrives. {@code recentTurns}: the ids of the last
   * {@value #RECENT_TURNS} recorded turns, oldest first (so recording a turn again changes nothing).
   */
  record Active(String id, String name, String model, String contextStrategy, Map<String, String> metadata,
      List<StoredMessage> messages, StoredUsage usage, StoredCost cost, long createdAtMillis, long updatedAtMillis,
      List<String> recentTurns, String owner)
      implements SessionState, io.pekkollm.util.JsonSerializable {

    /**
     * Turn ids remembered. A turn's recording is sent again only within sessions.retry-deadline, and turns of one
     * session run one at a time, so a repeat finds its id among the last few.
     */
    static final int RECENT_TURNS = 32;

    public Active {
      recentTurns = recentTurns == null ? List.of() : List.copyOf(recentTurns);
    }

    /** Whether turn {@code turnId} is recorded already. */
    boolean recorded(String turnId) {
      return turnId != null && recentTurns.contains(turnId);
    }

    static SessionState begin(SessionEvent event, SessionState otherwise) {
      if (event instanceof SessionCreated c) {
        return new Active(c.sessionId(), c.name(), c.model(), c.contextStrategy(), c.metadata(), c.messages(),
            Stored.NO_USAGE, null, c.atMillis(), c.atMillis(), List.of(), c.owner());
      }
      if (event instanceof SessionImported i) {
        return new Active(i.sessionId(), i.name(), i.model(), i.contextStrategy(), i.metadata(), i.messages(),
            i.usage() == null ? Stored.NO_USAGE : i.usage(), i.cost(), i.createdAtMillis(), i.atMillis(), List.of(), i.owner());
      }
      return otherwise;
    }

    @Override
    public SessionState apply(SessionEvent event) {
      if (event instanceof UserMessageAdded u) {
        return append(u.message(), usage, cost, recentTurns);
      }
      if (event instanceof AssistantReplyAdded r) {
        StoredMessage m = r.message();
        boolean spent = !Boolean.TRUE.equals(m.fromCache());
        return append(m, spent ? Stored.plus(usage, m.usage()) : usage, spent ? plus(cost, m.cost()) : cost,
            withTurn(r.turnId()));
      }
      if (event instanceof ModelChanged m) {
        return new Active(id, name, m.model(), contextStrategy, metadata, messages, usage, cost, createdAtMillis,
            m.atMillis(), recentTurns, owner);
      }
      if (event instanceof MetadataChanged m) {
        return new Active(id, m.name(), model, m.contextStrategy(), m.metadata(), messages, usage, cost,
            createdAtMillis, m.atMillis(), recentTurns, owner);
      }
      if (event instanceof SessionDeleted) {
        return new Deleted();
      }
      // Created or imported again: only after a delete, which leaves Deleted; an Active never sees them.
      return this;
    }

    private Active append(StoredMessage m, StoredUsage newUsage, StoredCost newCost, List<String> turns) {
      List<StoredMessage> more = new ArrayList<>(messages.size() + 1);
      more.addAll(messages);
      more.add(m);
      return new Active(id, name, model, contextStrategy, metadata, List.copyOf(more), newUsage, newCost,
          createdAtMillis, Math.max(updatedAtMillis, m.atMillis()), turns, owner);
    }

    private List<String> withTurn(String turnId) {
      if (turnId == null) {
        return recentTurns;
      }
      List<String> turns = new ArrayList<>(recentTurns.size() + 1);
      turns.addAll(recentTurns.size() < RECENT_TURNS ? recentTurns
          : recentTurns.subList(recentTurns.size() - RECENT_TURNS + 1, recentTurns.size()));
      turns.add(turnId);
      return turns;
    }

    private static StoredCost plus(StoredCost total, StoredCost c) {
      if (c == null) {
        return total;
      }
      if (total == null) {
        return c;
      }
      return new StoredCost(total.input().add(c.input()), total.cachedInput().add(c.cachedInput()),
          total.cacheWrite().add(c.cacheWrite()), total.output().add(c.output()), total.reasoning().add(c.reasoning()));
    }

    /** The public snapshot. */
    Session toSession() {
      return new Session(id, name == null ? "" : name, model,
          contextStrategy == null ? null : TruncationStrategy.of(contextStrategy),
          metadata == null ? Map.of() : metadata, messages.stream().map(Stored::message).toList(),
          Stored.usage(usage), cost == null ? io.pekkollm.model.Cost.ZERO : Stored.cost(cost),
          Instant.ofEpochMilli(createdAtMillis), Instant.ofEpochMilli(updatedAtMillis), owner);
    }
  }
}
