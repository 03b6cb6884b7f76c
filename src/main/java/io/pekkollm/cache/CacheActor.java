package io.pekkollm.cache;

import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.FinishReason;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * The response cache of one node: stored answers by key, and the upstream calls in flight by key (so identical
 * concurrent requests share one call). Entries are kept in least-recently-used order and bounded by count and
 * estimated bytes; each expires by a timer after its TTL, so expiry follows the actor system's scheduler (and
 * the test kit's manual time). Only complete answers are stored: a failed or cancelled call never is, nor one
 * without a finish reason or with finish reason {@code error}.
 *
 * <p>A plain {@link LinkedHashMap} in access order serves better here than a concurrent cache library: the actor
 * already serializes access, eviction must respect two bounds at once (Caffeine takes a count or a weight, not
 * both) and be exact and synchronous for tests, and expiry must follow the actor's scheduler.
 *
 * <p>Every change publishes a {@link CacheStats} snapshot to the reference given at creation, which callers read
 * without asking the actor.
 */
final class CacheActor extends AbstractBehavior<CacheActor.Command> {

  sealed interface Command {}

  /** Where the answer for {@code key} comes from; the caller receives a {@link LookupResult}. */
  record Lookup(String key, ActorRef<LookupResult> replyTo) implements Command {}

  /**
   * The shared call for {@code key} ended normally; store its answer for {@code ttl} when it qualifies. The reply
   * comes once it is stored, so a caller that has its answer finds it stored.
   */
  record Completed(String key, String model, SharedCall call, Duration ttl, ActorRef<Done> replyTo)
      implements Command {}

  /**
   * The shared call for {@code key} failed or was abandoned: forget it, store nothing. The reply comes once it
   * is forgotten, so a caller that has seen the error can count on its retry to make a new call.
   */
  record Failed(String key, SharedCall call, ActorRef<Done> replyTo) implements Command {}

  record Delete(String key, ActorRef<Boolean> replyTo) implements Command {}

  /** Removes every stored entry (calls in flight are not affected); replies how many were removed. */
  record Clear(ActorRef<Integer> replyTo) implements Command {}

  /** The newest {@code limit} entries, most recently used first. */
  record ListEntries(int limit, ActorRef<List<CacheEntryInfo>> replyTo) implements Command {}

  /**
   * Where the whole answer (not a chunk stream: an embedding response) for {@code key} comes from; the caller
   * receives a {@link ValueResult}. Keys of chunk answers and of whole answers never coincide (their canonical
   * requests differ in shape), and a lookup of one kind never returns an entry of the other.
   */
  record LookupValue(String key, ActorRef<ValueResult> replyTo) implements Command {}

  /** The call {@code pending} for {@code key} answered {@code value} ({@code bytes}, estimated): store it. */
  record ValueCompleted(String key, String model, CompletableFuture<Object> pending, Object value, long bytes,
      Duration ttl, ActorRef<Done> replyTo) implements Command {}

  /** The call {@code pending} for {@code key} failed: forget it, store nothing. */
  record ValueFailed(String key, CompletableFuture<Object> pending, ActorRef<Done> replyTo) implements Command {}

  private record WrappedExpiry(String key) implements Command {}

  /** The answer to {@link Lookup}. */
  sealed interface LookupResult {}

  /** A stored answer. */
  record Hit(List<ChatChunk> chunks) implements LookupResult {}

  /** An identical call is running: read it. */
  record Follow(SharedCall call) implements LookupResult {}

  /** Nothing stored or running: the caller makes the upstream call, registered here as {@code call}. */
  record Lead(SharedCall call) implements LookupResult {}

  /** The answer to {@link LookupValue}. */
  sealed interface ValueResult {}

  /** A stored whole answer. */
  record ValueHit(Object value) implements ValueResult {}

  /** An identical call is running: its answer completes {@code pending}. */
  record ValueFollow(CompletableFuture<Object> pending) implements ValueResult {}

  /** Nothing stored or running: the caller makes the call, and completes {@code pending} with its answer. */
  record ValueLead(CompletableFuture<Object> pending) implements ValueResult {}

  private static final class Entry {
    final String model;
    /** A chunk answer ({@code List<ChatChunk>}) or a whole answer (anything else). */
    final Object value;
    final long bytes;
    final Instant storedAt;
    final Instant expiresAt;
    long hits;

    Entry(String model, Object value, long bytes, Instant storedAt, Instant expiresAt) {
      this.model = model;
      this.value = value;
      this.bytes = bytes;
      this.storedAt = storedAt;
      this.expiresAt = expiresAt;
    }
  }

  private final CacheSettings settings;
  private final TimerScheduler<Command> timers;
  private final Clock clock;
  private final AtomicReference<CacheStats> published;
  // Access order: iteration starts at the least recently used entry, the first to evict.
  private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>(64, 0.75f, true);
  private final Map<String, SharedCall> inFlight = new HashMap<>();
  private final Map<String, CompletableFuture<Object>> valuesInFlight = new HashMap<>();
  private long bytes;
  private long hits;
  private long coalesced;
  private long misses;
  private long stores;
  private long evictions;
  private long expirations;

  static Behavior<Command> create(CacheSettings settings, Clock clock, AtomicReference<CacheStats> stats) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new CacheActor(ctx, settings, timers, clock, stats)));
  }

  private CacheActor(ActorContext<Command> ctx, CacheSettings settings, TimerScheduler<Command> timers, Clock clock,
      AtomicReference<CacheStats> published) {
    super(ctx);
    this.settings = settings;
    this.timers = timers;
    this.clock = clock;
    this.published = published;
    publish();
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Lookup.class, this::onLookup)
        .onMessage(Completed.class, this::onCompleted)
        .onMessage(Failed.class, this::onFailed)
        .onMessage(LookupValue.class, this::onLookupValue)
        .onMessage(ValueCompleted.class, this::onValueCompleted)
        .onMessage(ValueFailed.class, this::onValueFailed)
        .onMessage(WrappedExpiry.class, this::onExpired)
        .onMessage(Delete.class, this::onDelete)
        .onMessage(Clear.class, this::onClear)
        .onMessage(ListEntries.class, this::onList)
        .build();
  }

  private Behavior<Command> onLookup(Lookup l) {
    LookupResult result;
    Entry e = entries.get(l.key());
    if (e != null && e.value instanceof List<?> chunks) {
      e.hits++;
      hits++;
      @SuppressWarnings("unchecked")
      List<ChatChunk> stored = (List<ChatChunk>) chunks;
      result = new Hit(stored);
    } else {
      SharedCall running = inFlight.get(l.key());
      if (running != null && !running.wasAbandoned()) {
        coalesced++;
        result = new Follow(running);
      } else {
        SharedCall call = new SharedCall();
        inFlight.put(l.key(), call);
        misses++;
        result = new Lead(call);
      }
    }
    // Published before the reply, so a caller that has its answer sees the counters that include it.
    publish();
    l.replyTo().tell(result);
    return this;
  }

  private Behavior<Command> onLookupValue(LookupValue l) {
    ValueResult result;
    Entry e = entries.get(l.key());
    if (e != null && !(e.value instanceof List)) {
      e.hits++;
      hits++;
      result = new ValueHit(e.value);
    } else {
      CompletableFuture<Object> running = valuesInFlight.get(l.key());
      if (running != null) {
        coalesced++;
        result = new ValueFollow(running);
      } else {
        CompletableFuture<Object> pending = new CompletableFuture<>();
        valuesInFlight.put(l.key(), pending);
        misses++;
        result = new ValueLead(pending);
      }
    }
    publish();
    l.replyTo().tell(result);
    return this;
  }

  private Behavior<Command> onValueCompleted(ValueCompleted c) {
    if (valuesInFlight.get(c.key()) == c.pending()) {
      valuesInFlight.remove(c.key());
    }
    put(c.key(), c.model(), c.value(), c.bytes(), c.ttl());
    c.replyTo().tell(Done.getInstance());
    return this;
  }

  private Behavior<Command> onValueFailed(ValueFailed f) {
    if (valuesInFlight.get(f.key()) == f.pending()) {
      valuesInFlight.remove(f.key());
    }
    f.replyTo().tell(Done.getInstance());
    return this;
  }

  private Behavior<Command> onCompleted(Completed c) {
    store(c);
    c.replyTo().tell(Done.getInstance());
    return this;
  }

  private void store(Completed c) {
    if (inFlight.get(c.key()) == c.call()) {
      inFlight.remove(c.key());
    }
    List<ChatChunk> chunks = c.call().chunks();
    if (!complete(chunks)) {
      return;
    }
    put(c.key(), c.model(), chunks, CacheKeys.estimateBytes(c.key(), chunks), c.ttl());
  }

  /** Stores {@code value} under {@code key} for {@code ttl} if it fits the bounds; evicts least recently used. */
  private void put(String key, String model, Object value, long size, Duration ttl) {
    if (size > settings.maxEntryBytes() || size > settings.maxBytes()) {
      return;
    }
    remove(key);
    Instant now = clock.instant();
    entries.put(key, new Entry(model, value, size, now, now.plus(ttl)));
    bytes += size;
    stores++;
    timers.startSingleTimer(key, new WrappedExpiry(key), ttl);
    Iterator<Map.Entry<String, Entry>> eldest = entries.entrySet().iterator();
    while ((entries.size() > settings.maxEntries() || bytes > settings.maxBytes()) && eldest.hasNext()) {
      Map.Entry<String, Entry> victim = eldest.next();
      eldest.remove();
      bytes -= victim.getValue().bytes;
      timers.cancel(victim.getKey());
      evictions++;
    }
    publish();
  }

  /** An answer worth replaying: it reached a finish reason, and not {@code error}. */
  private static boolean complete(List<ChatChunk> chunks) {
    FinishReason finish = null;
    for (ChatChunk c : chunks) {
      if (c.finishReason() != null) {
        finish = c.finishReason();
      }
    }
    return finish != null && !finish.equals(FinishReason.ERROR);
  }

  private Behavior<Command> onFailed(Failed f) {
    if (inFlight.get(f.key()) == f.call()) {
      inFlight.remove(f.key());
    }
    f.replyTo().tell(Done.getInstance());
    return this;
  }

  private Behavior<Command> onExpired(WrappedExpiry x) {
    if (remove(x.key())) {
      expirations++;
      publish();
    }
    return this;
  }

  private Behavior<Command> onDelete(Delete d) {
    boolean removed = remove(d.key());
    publish();
    d.replyTo().tell(removed);
    return this;
  }

  private Behavior<Command> onClear(Clear c) {
    int n = entries.size();
    entries.clear();
    bytes = 0;
    timers.cancelAll();
    publish();
    c.replyTo().tell(n);
    return this;
  }

  private Behavior<Command> onList(ListEntries l) {
    List<CacheEntryInfo> all = new ArrayList<>(entries.size());
    entries.forEach((k, e) -> all.add(new CacheEntryInfo(k, e.model, e.bytes, e.storedAt, e.expiresAt, e.hits)));
    List<CacheEntryInfo> newestFirst = new ArrayList<>(Math.min(all.size(), l.limit()));
    for (int i = all.size() - 1; i >= 0 && newestFirst.size() < l.limit(); i--) {
      newestFirst.add(all.get(i));
    }
    l.replyTo().tell(newestFirst);
    return this;
  }

  private boolean remove(String key) {
    Entry e = entries.remove(key);
    if (e == null) {
      return false;
    }
    bytes -= e.bytes;
    timers.cancel(key);
    return true;
  }

  private void publish() {
    published.set(new CacheStats(hits, coalesced, misses, stores, evictions, expirations, entries.size(), bytes,
        settings.maxEntries(), settings.maxBytes()));
  }
}
