package io.pekkollm.keys;

import com.typesafe.config.Config;
import io.pekkollm.journal.Entities;
import io.pekkollm.journal.JournalledBehavior;
import io.pekkollm.util.JsonSerializable;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.SnapshotAdapter;
import org.apache.pekko.persistence.typed.javadsl.CommandHandlerWithReply;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.ReplyEffect;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;

/**
 * The spend of one virtual key, event-sourced on the journal (sharded over a cluster, so every node sees the same
 * budget): its total, the current budget period's, and per day, model and team. Calls are admitted against the
 * budget by reservation: a call reserves the largest cost one call of this key has had, is refused while spend
 * and reservations reach the budget, and settles with its real cost. Until a first call has settled its cost is
 * unknown, so calls then run one at a time. So spend exceeds the budget by at most one call's cost (one whose
 * cost is above every earlier one's). Settled costs are written by group commit: the first settle that finds
 * nothing queued for writing tells the entity to write, so every settle already in its mailbox joins that batch
 * (settles that arrive while a batch is written are stashed by Pekko and join the next one); each settle's
 * {@code replyTo} hears {@link Done} once its batch is in the journal. When a period's spend reaches the key's
 * soft budget, the entity writes that with the batch and then raises one alert ({@code alerts}, on the node
 * hosting the entity): once per period, also across restarts.
 */
final class SpendEntity extends JournalledBehavior<SpendEntity.Command, SpendEntity.Event, SpendEntity.State> {

  sealed interface Command extends JsonSerializable {}

  /**
   * Reserves one call's cost against {@code maxBudget} (USD, null: none) for the period {@code period} (null: the
   * key's life) counted from {@code anchor}, at {@code now} (epoch ms); replies whether it may run.
   */
  record Reserve(String reservation, BigDecimal maxBudget, String period, long anchor, long now,
      ActorRef<Reservation> replyTo) implements Command {}

  /**
   * Settles {@code reservation} (may be null: nothing was reserved) with the call's {@code cost} (USD);
   * {@code softBudget} (USD, null: none) is the period's spend that raises an alert. {@code replyTo} (null: none)
   * hears {@link Done} when the cost is in the journal (at once for a call that cost nothing).
   */
  record Settle(String reservation, String model, String team, BigDecimal cost, String period, long anchor, long now,
      BigDecimal softBudget, ActorRef<Done> replyTo) implements Command {}

  /** A key's period spend reached its soft budget: {@code spend} of {@code softBudget}, the period ending then. */
  record SoftBudgetAlert(String keyId, String team, BigDecimal spend, BigDecimal softBudget, long at,
      Long periodEndsAt) {}

  /** Replies the spend, including what is not yet written. */
  record GetSpend(ActorRef<Spend> replyTo) implements Command {}

  /** Writes the settled costs not yet written (told by the entity itself: group commit). */
  enum Flush implements Command { INSTANCE }

  enum Idle implements Command { INSTANCE }

  /** Whether a call may run; the period's spend and when it resets (epoch ms, null: never). */
  record Reservation(boolean granted, BigDecimal spent, Long resetsAt) implements JsonSerializable {}

  /**
   * The key's spend: total, the period starting {@code windowStart}'s, and by {@code day|model|team}; {@code unwritten}
   * of the calls counted are not in the journal yet.
   */
  record Spend(BigDecimal total, long windowStart, BigDecimal windowSpend, Map<String, BigDecimal> byDayModelTeam,
      int unwritten, Long softAlertWindow, Long softAlertAt) implements JsonSerializable {}

  /** One call's cost, charged at {@code at} to the period starting {@code windowStart}. */
  record Entry(long at, long windowStart, String model, String team, BigDecimal cost) implements JsonSerializable {}

  sealed interface Event extends JsonSerializable {}

  record SpendRecorded(List<Entry> entries) implements Event {}

  /** The period starting {@code windowStart} reached the soft budget at {@code at}, with {@code spend}. */
  record SoftBudgetExceeded(long windowStart, long at, BigDecimal spend) implements Event {}

  /**
   * Snapshotted (Jackson) every {@code pekko-llm.keys.spend-snapshot-every} events, so a busy key replays few. The
   * entity's own state keeps {@link #byDayModelTeam} in a {@link TreeMap} it adds to in place ({@link #plus}):
   * copying a map that grows by day, model and team for every write cost O(size) (4.9 ms a write at 20,000
   * entries). What leaves the entity (a snapshot, a {@link Spend}) is a copy ({@link #detached}).
   */
  record State(BigDecimal total, long windowStart, BigDecimal windowSpend, BigDecimal maxCost,
      Map<String, BigDecimal> byDayModelTeam, Long softAlertWindow, Long softAlertAt) implements JsonSerializable {
    /** An empty state whose map may be added to: the entity's first. */
    static State empty() {
      return new State(BigDecimal.ZERO, Long.MIN_VALUE, BigDecimal.ZERO, BigDecimal.ZERO, new TreeMap<>(), null,
          null);
    }

    State alerted(SoftBudgetExceeded e) {
      return new State(total, windowStart, windowSpend, maxCost, byDayModelTeam, e.windowStart(), e.at());
    }

    /**
     * This state with {@code entries} added: the totals in a new state, the by-day map in place (this state's map,
     * a TreeMap, is the new one's too: only the entity's state, which nothing else holds, may be added to).
     */
    State plus(List<Entry> entries) {
      for (Entry e : entries) {
        byDayModelTeam.merge(bucket(e), e.cost(), BigDecimal::add);
      }
      return totalsPlus(entries);
    }

    /** This state with a copy of its map that may be added to: what is snapshotted, replied or recovered. */
    State detached() {
      return new State(total, windowStart, windowSpend, maxCost, new TreeMap<>(byDayModelTeam), softAlertWindow,
          softAlertAt);
    }

    private static String bucket(Entry e) {
      return Instant.ofEpochMilli(e.at()).atZone(ZoneOffset.UTC).toLocalDate() + "|" + e.model() + "|"
          + (e.team() == null ? "" : e.team());
    }

    /**
     * This state with {@code entries} added to the totals only: its {@link #byDayModelTeam} is this one's (not
     * copied; what admitting a call reads, many times per call, of a map that grows by day, model and team).
     */
    State totalsPlus(List<Entry> entries) {
      if (entries.isEmpty()) {
        return this;
      }
      BigDecimal t = total;
      long ws = windowStart;
      BigDecimal w = windowSpend;
      BigDecimal max = maxCost;
      for (Entry e : entries) {
        t = t.add(e.cost());
        if (e.windowStart() > ws) {
          ws = e.windowStart();
          w = e.cost();
        } else if (e.windowStart() == ws) {
          w = w.add(e.cost());
        }
        max = max.max(e.cost());
      }
      return new State(t, ws, w, max, byDayModelTeam, softAlertWindow, softAlertAt);
    }

    BigDecimal spentIn(long window) {
      return windowStart == window ? windowSpend : BigDecimal.ZERO;
    }
  }

  private final ActorContext<Command> ctx;
  private final Entities.Passivation<Command> passivation;
  private final String keyId;
  private final java.util.function.Consumer<SoftBudgetAlert> alerts;
  // Not persisted: reservations of running calls, and settled costs not yet written with who waits for them
  // (commands arriving while a batch is written are stashed by Pekko, so these never change during a write).
  private final Map<String, BigDecimal> reserved = new HashMap<>();
  private final List<Entry> pending = new ArrayList<>();
  private final List<ActorRef<Done>> acks = new ArrayList<>();
  // The soft budget crossing to write with the next batch (then its alert is raised), or null.
  private SoftBudgetExceeded crossing;
  private SoftBudgetAlert alert;
  private boolean flushQueued;
  private final int snapshotEvery;
  private final Deque<Reserve> waiting = new ArrayDeque<>();
  private boolean settledOnce;

  /**
   * How a spend entity runs: it leaves memory after {@code passivateAfter} without commands; a snapshot of its
   * state is written every {@code snapshotEvery} events (0: none), so it replays at most that many when it starts.
   * Checked where it is read ({@link KeySettings}).
   */
  record Settings(Duration passivateAfter, int snapshotEvery) {}

  /**
   * The spend entity of key {@code id} on the journal plugin {@code pluginId} configured by {@code pluginConfig},
   * with snapshots on {@code snapshotPluginId} (configured there too).
   */
  static Behavior<Command> create(String id, String pluginId, String snapshotPluginId, Config pluginConfig,
      Settings settings, Entities.Passivation<Command> passivation,
      java.util.function.Consumer<SoftBudgetAlert> alerts) {
    return Behaviors.setup(ctx -> {
      ctx.setReceiveTimeout(settings.passivateAfter(), Idle.INSTANCE);
      return new SpendEntity(id, pluginId, snapshotPluginId, pluginConfig, settings, ctx, passivation, alerts);
    });
  }

  private SpendEntity(String id, String pluginId, String snapshotPluginId, Config pluginConfig, Settings settings,
      ActorContext<Command> ctx, Entities.Passivation<Command> passivation,
      java.util.function.Consumer<SoftBudgetAlert> alerts) {
    super(PersistenceId.of("key-spend", id, "|"), pluginId, pluginConfig,
        settings.snapshotEvery() > 0 ? snapshotPluginId : null,
        SupervisorStrategy.restartWithBackoff(Duration.ofMillis(100), Duration.ofSeconds(5), 0.2));
    this.ctx = ctx;
    this.passivation = passivation;
    this.keyId = id;
    this.alerts = alerts;
    this.snapshotEvery = settings.snapshotEvery();
  }

  @Override
  public RetentionCriteria retentionCriteria() {
    // Events are kept (they are the key's spend log); only the snapshots before the last two are deleted.
    return snapshotEvery > 0 ? RetentionCriteria.snapshotEvery(snapshotEvery, 2) : RetentionCriteria.disabled();
  }

  @Override
  public State emptyState() {
    return State.empty();
  }

  @Override
  public SnapshotAdapter<State> snapshotAdapter() {
    // A snapshot is serialized after the entity moved on (and a recovered one is read into whatever map Jackson
    // makes): each side gets a map of its own.
    return new SnapshotAdapter<>() {
      @Override
      public Object toJournal(State state) {
        return state.detached();
      }

      @Override
      public State fromJournal(Object from) {
        return ((State) from).detached();
      }
    };
  }

  @Override
  public EventHandler<State, Event> eventHandler() {
    return newEventHandlerBuilder().forAnyState()
        .onAnyEvent((s, e) -> e instanceof SoftBudgetExceeded x ? s.alerted(x) : s.plus(((SpendRecorded) e).entries()));
  }

  @Override
  public CommandHandlerWithReply<Command, Event, State> commandHandler() {
    return newCommandHandlerWithReplyBuilder().forAnyState()
        .onCommand(Reserve.class, this::onReserve)
        .onCommand(Settle.class, this::onSettle)
        .onCommand(GetSpend.class, (s, c) -> {
          State reply = s.detached().plus(pending);
          State all = crossing == null ? reply : reply.alerted(crossing);
          return Effect().reply(c.replyTo(), new Spend(all.total(), all.windowStart(), all.windowSpend(),
              all.byDayModelTeam(), pending.size(), all.softAlertWindow(), all.softAlertAt()));
        })
        .onCommand(Flush.class, (s, c) -> {
          flushQueued = false;
          return flush();
        })
        .onCommand(Idle.class, (s, c) -> {
          if (!reserved.isEmpty() || !waiting.isEmpty()) {
            return Effect().noReply();
          }
          if (pending.isEmpty()) {
            passivation.passivate(ctx.getSelf());
            return Effect().noReply();
          }
          return flush();
        })
        .build();
  }

  private ReplyEffect<Event, State> onReserve(State s, Reserve c) {
    if (!tryReserve(s, c)) {
      waiting.add(c);
    }
    return Effect().noReply();
  }

  /** Answers {@code c} unless it has to wait for a running call's cost; false when it has to. */
  private boolean tryReserve(State s, Reserve c) {
    BudgetPeriod period = c.period() == null ? null : BudgetPeriod.parse(c.period());
    long window = period == null ? 0 : period.windowStart(c.anchor(), c.now());
    Long resets = period == null ? null : period.windowEnd(window);
    State now = s.totalsPlus(pending);
    BigDecimal spent = now.spentIn(window);
    BigDecimal committed = reserved.values().stream().reduce(spent, BigDecimal::add);
    if (c.maxBudget() != null && committed.compareTo(c.maxBudget()) >= 0) {
      c.replyTo().tell(new Reservation(false, spent, resets));
      return true;
    }
    BigDecimal estimate = now.maxCost();
    if (c.maxBudget() != null && estimate.signum() == 0 && !settledOnce && !reserved.isEmpty()) {
      return false;
    }
    reserved.put(c.reservation(), estimate);
    c.replyTo().tell(new Reservation(true, spent, resets));
    return true;
  }

  private ReplyEffect<Event, State> onSettle(State s, Settle c) {
    if (c.reservation() != null) {
      reserved.remove(c.reservation());
    }
    settledOnce = true;
    boolean costs = c.cost() != null && c.cost().signum() > 0;
    if (costs) {
      BudgetPeriod period = c.period() == null ? null : BudgetPeriod.parse(c.period());
      long window = period == null ? 0 : period.windowStart(c.anchor(), c.now());
      pending.add(new Entry(c.now(), window, c.model(), c.team(), c.cost()));
      if (c.replyTo() != null) {
        acks.add(c.replyTo());
      }
      if (c.softBudget() != null && crossing == null) {
        BigDecimal spent = s.totalsPlus(pending).spentIn(window);
        if (spent.compareTo(c.softBudget()) >= 0 && !Long.valueOf(window).equals(s.softAlertWindow())) {
          // Written with the batch that crossed it, before the alert goes out: one alert per period, even if the
          // gateway restarts right after.
          crossing = new SoftBudgetExceeded(window, c.now(), spent);
          alert = new SoftBudgetAlert(keyId, c.team(), spent, c.softBudget(), c.now(),
              period == null ? null : period.windowEnd(window));
        }
      }
      if (!flushQueued) {
        // Group commit: the settles already in the mailbox are handled before this Flush, so they join the batch.
        flushQueued = true;
        ctx.getSelf().tell(Flush.INSTANCE);
      }
    } else if (c.replyTo() != null) {
      c.replyTo().tell(Done.getInstance());
    }
    while (!waiting.isEmpty() && tryReserve(s, waiting.peek())) {
      waiting.poll();
    }
    return Effect().noReply();
  }

  private ReplyEffect<Event, State> flush() {
    if (pending.isEmpty()) {
      return Effect().noReply();
    }
    List<Event> events = new ArrayList<>(2);
    events.add(new SpendRecorded(List.copyOf(pending)));
    pending.clear();
    if (crossing != null) {
      events.add(crossing);
    }
    List<ActorRef<Done>> waiters = List.copyOf(acks);
    acks.clear();
    SoftBudgetAlert raised = alert;
    crossing = null;
    alert = null;
    return Effect().persist(events).thenRun(st -> {
      if (raised != null) {
        alerts.accept(raised);
      }
      waiters.forEach(w -> w.tell(Done.getInstance()));
    }).thenNoReply();
  }
}
