package io.pekkollm.keys;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import io.pekkollm.journal.Entities;
import io.pekkollm.journal.EntityHost;
import io.pekkollm.journal.JournalSchema;
import io.pekkollm.journal.JournalSettings;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Virtual keys: their management (create, update, rotate, revoke, with an audit log), the check of a caller's key
 * and its limits on every call, and the spend charged to each key. Keys and the audit log are one event-sourced
 * entity on the journal (a Cluster Singleton in a cluster), each key's spend another (sharded), so a restarted or
 * clustered gateway enforces the same keys and budgets. Checked keys are cached in memory: a change made on this
 * node replaces the cached entry at once, one made on another node is seen within {@code pekko-llm.keys.cache-ttl}.
 * Rate and parallel limits are counted per node ({@link KeyLimits}). Thread-safe.
 */
public final class KeyService {
  private static final Logger LOG = LoggerFactory.getLogger(KeyService.class);

  private final Entities<KeyDirectory.Command> directory;
  private final Entities<SpendEntity.Command> spend;
  private final Clock clock;
  private final Duration askTimeout;
  private final Duration spendWriteTimeout;
  private final boolean spendWaits;
  // When the last ERROR about an unwritten charge was logged, by key id (System.nanoTime): one per key a minute.
  private final ConcurrentHashMap<String, Long> unwrittenLogged = new ConcurrentHashMap<>();
  private final long cacheTtlNanos;
  private final Predicate<String> knownModel;
  private final Function<String, List<String>> groupMembers;
  private final KeyLimits limits = new KeyLimits();
  private final KeyMetrics metrics;
  private final ConcurrentHashMap<String, Cached> cache = new ConcurrentHashMap<>();

  /** A checked key (null: no key has this id) and when it was read from its entity (System.nanoTime). */
  private record Cached(StoredKey key, long readAt) {}

  /** A key just created or rotated, with its secret: shown this once, never stored. */
  public record Created(VirtualKey key, String secret) {}

  /**
   * A key's spend in USD: over its life, in its current budget period (and when that resets, epoch ms);
   * {@code unwritten} calls of it are counted but not yet in the journal; {@code softBudgetExceededAt} when the
   * current period's spend reached the key's soft budget (epoch ms), null while it has not.
   */
  public record KeySpend(BigDecimal total, BigDecimal periodSpend, Long resetsAt, int unwritten,
      Long softBudgetExceededAt) {}

  /**
   * A key's spend in its budget period reached its {@code soft_budget}: raised once per period, on the node that
   * keeps the key's spend. {@code periodEndsAt} (epoch ms) is null for a key without a budget period.
   */
  public record SoftBudgetAlert(String keyId, String team, BigDecimal spend, BigDecimal softBudget, long at,
      Long periodEndsAt) {}

  /** The spend of one key on one day (UTC, {@code yyyy-mm-dd}) for one model and team (null: none). */
  public record SpendRow(String day, String keyId, String model, String team, BigDecimal spend) {}

  private KeyService(Entities<KeyDirectory.Command> directory, Entities<SpendEntity.Command> spend, Clock clock,
      KeySettings settings, Predicate<String> knownModel, Function<String, List<String>> groupMembers,
      KeyMetrics metrics) {
    this.metrics = metrics;
    this.directory = directory;
    this.spend = spend;
    this.clock = clock;
    this.askTimeout = settings.askTimeout();
    this.spendWriteTimeout = settings.spendWriteTimeout();
    this.spendWaits = settings.spendWaits();
    this.cacheTtlNanos = settings.cacheTtl().toNanos();
    this.knownModel = knownModel;
    this.groupMembers = groupMembers;
  }

  /**
   * Creates the journal tables if missing and starts the key entities on {@code host}, configured by
   * {@code settings} ({@code pekko-llm.keys}); {@code clock} tells expiry and budget periods; {@code knownModel}
   * checks the models a key may be limited to, {@code groupMembers} names a model group's members (empty when
   * the name is no group).
   */
  public static KeyService start(ActorSystem<?> system, JournalSettings journal, Config settings, EntityHost host,
      Clock clock, Predicate<String> knownModel, Function<String, List<String>> groupMembers) {
    return start(system, journal, settings, host, clock, knownModel, groupMembers, alert -> {}, null);
  }

  /**
   * As {@link #start(ActorSystem, JournalSettings, Config, EntityHost, Clock, Predicate, Function)}, with
   * {@code alerts} told of every soft budget reached (after a WARN log line naming the key id, never its secret),
   * and the keys' metrics ({@link KeyMetrics}) recorded into {@code registry} (null: none).
   */
  public static KeyService start(ActorSystem<?> system, JournalSettings journal, Config settings, EntityHost host,
      Clock clock, Predicate<String> knownModel, Function<String, List<String>> groupMembers,
      java.util.function.Consumer<SoftBudgetAlert> alerts, io.micrometer.core.instrument.MeterRegistry registry) {
    KeySettings checked = KeySettings.of(settings);
    java.util.function.Consumer<SpendEntity.SoftBudgetAlert> raise = a -> {
      LOG.warn("key {} (team {}) reached its soft_budget: ${} spent of ${} in this period", a.keyId(),
          a.team() == null ? "-" : a.team(), a.spend().toPlainString(), a.softBudget().toPlainString());
      try {
        alerts.accept(new SoftBudgetAlert(a.keyId(), a.team(), a.spend(), a.softBudget(), a.at(), a.periodEndsAt()));
      } catch (RuntimeException e) {
        LOG.warn("the soft budget alert of key {} failed: {}", a.keyId(), e.toString());
      }
    };
    JournalSchema.ensure(journal);
    Config plugin = journal.pluginConfig(system.settings().config());
    SpendEntity.Settings spendSettings = new SpendEntity.Settings(checked.passivateAfter(),
        checked.spendSnapshotEvery());
    Entities<KeyDirectory.Command> directory = host.singleton("key-directory", KeyDirectory.Command.class,
        KeyDirectory.create(JournalSettings.PLUGIN_ID, plugin));
    Entities<SpendEntity.Command> spend = host.entities("key-spend", SpendEntity.Command.class,
        (id, passivation) -> SpendEntity.create(id, JournalSettings.PLUGIN_ID, JournalSettings.SNAPSHOT_PLUGIN_ID,
            plugin, spendSettings, passivation, raise));
    return new KeyService(directory, spend, clock, checked, knownModel, groupMembers,
        new KeyMetrics(registry, checked.metricsMaxKeys()));
  }

  // ---- management ----

  /** Creates a key from LiteLLM-named {@code fields} on behalf of {@code actor}; INVALID_REQUEST naming a bad field. */
  public CompletionStage<Created> create(JsonNode fields, String actor) {
    long now = clock.millis();
    VirtualKey key;
    try {
      key = KeyFields.read(fields, null, StoredKey.newId(), now, knownModel);
    } catch (LlmException e) {
      return CompletableFuture.failedFuture(e);
    }
    String secret = StoredKey.newSecret(key.id());
    StoredKey stored = StoredKey.of(key, secret);
    return this.<KeyDirectory.Reply>askDirectory(r -> new KeyDirectory.Create(stored, actor, now, r))
        .thenApply(reply -> new Created(cached(checked(reply)).key(), secret));
  }

  /** Changes the fields {@code fields} names of key {@code id}; NOT_FOUND when there is none or it is revoked. */
  public CompletionStage<VirtualKey> update(String id, JsonNode fields, String actor) {
    return change(id, "update", actor, current -> {
      VirtualKey next = KeyFields.read(fields, current.key(), id, clock.millis(), knownModel).changed(clock.millis());
      return current.withKey(next);
    }).thenApply(StoredKey::key);
  }

  /** A new secret for key {@code id}; the old one stops working at once on this node. */
  public CompletionStage<Created> rotate(String id, String actor) {
    String secret = StoredKey.newSecret(id);
    return change(id, "rotate", actor, current -> StoredKey.of(current.key().changed(clock.millis()), secret))
        .thenApply(k -> new Created(k.key(), secret));
  }

  /** Revokes key {@code id} for good. */
  public CompletionStage<VirtualKey> revoke(String id, String actor) {
    return change(id, "revoke", actor,
        current -> current.withKey(current.key().changed(clock.millis()).revoked(clock.millis())))
        .thenApply(StoredKey::key);
  }

  private CompletionStage<StoredKey> change(String id, String action, String actor,
      Function<StoredKey, StoredKey> next) {
    return this.<KeyDirectory.Reply>askDirectory(r -> new KeyDirectory.Get(id, r)).thenCompose(reply -> {
      StoredKey current = reply.key();
      if (current == null || current.key().revokedAt() != null) {
        throw new LlmException(ErrorKind.NOT_FOUND, "no key '" + id + "'", null, false, "id");
      }
      StoredKey changed = next.apply(current);
      return this.<KeyDirectory.Reply>askDirectory(r -> new KeyDirectory.Change(action, changed,
          current.key().version(), actor, clock.millis(), r)).thenApply(r -> cached(checked(r)));
    });
  }

  /** Key {@code id} (also a revoked one); empty when there is none. */
  public CompletionStage<Optional<VirtualKey>> get(String id) {
    return this.<KeyDirectory.Reply>askDirectory(r -> new KeyDirectory.Get(id, r))
        .thenApply(r -> Optional.ofNullable(r.key()).map(StoredKey::key));
  }

  /** Every key, in creation order. */
  public CompletionStage<List<VirtualKey>> list() {
    return this.<KeyDirectory.AllKeys>askDirectory(KeyDirectory.GetAll::new)
        .thenApply(all -> all.keys().stream().map(StoredKey::key).toList());
  }

  /** The audit entries after sequence number {@code after}, at most {@code limit}, oldest first. */
  public CompletionStage<List<AuditEntry>> audit(long after, int limit) {
    return this.<KeyDirectory.AuditPage>askDirectory(r -> new KeyDirectory.GetAudit(after, limit, r))
        .thenApply(KeyDirectory.AuditPage::entries);
  }

  /** The spend of {@code key}: in total and in its current budget period. */
  public CompletionStage<KeySpend> spend(VirtualKey key) {
    return this.<SpendEntity.Spend>askSpend(key.id(), SpendEntity.GetSpend::new).thenApply(s -> {
      BudgetPeriod period = key.period();
      long now = clock.millis();
      long window = period == null ? 0 : period.windowStart(key.createdAt(), now);
      BigDecimal inPeriod = s.windowStart() == window ? s.windowSpend() : BigDecimal.ZERO;
      Long softAt = s.softAlertWindow() != null && s.softAlertWindow() == window ? s.softAlertAt() : null;
      return new KeySpend(s.total(), inPeriod, period == null ? null : period.windowEnd(window), s.unwritten(),
          softAt);
    });
  }

  /** The spend rows of {@code keyIds}, by day, model and team. */
  public CompletionStage<List<SpendRow>> spendRows(List<String> keyIds) {
    List<CompletableFuture<List<SpendRow>>> parts = new ArrayList<>();
    for (String id : keyIds) {
      parts.add(this.<SpendEntity.Spend>askSpend(id, SpendEntity.GetSpend::new).thenApply(s -> {
        List<SpendRow> rows = new ArrayList<>();
        for (Map.Entry<String, BigDecimal> e : s.byDayModelTeam().entrySet()) {
          String[] p = e.getKey().split("\\|", 3);
          rows.add(new SpendRow(p[0], id, p[1], p[2].isEmpty() ? null : p[2], e.getValue()));
        }
        return rows;
      }).toCompletableFuture());
    }
    return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new))
        .thenApply(v -> parts.stream().flatMap(p -> p.join().stream()).toList());
  }

  // ---- the hot path ----

  /**
   * The key whose secret is {@code secret}; fails with {@link KeyException} (AUTHENTICATION) when there is none or
   * it is revoked or expired. Answered from memory for a key checked within {@code cache-ttl}.
   */
  public CompletionStage<VirtualKey> authenticate(String secret) {
    String id = StoredKey.idOf(secret);
    if (id == null) {
      return CompletableFuture.failedFuture(invalid());
    }
    Cached c = cache.get(id);
    if (c != null && System.nanoTime() - c.readAt() < cacheTtlNanos) {
      return check(c.key(), secret);
    }
    return this.<KeyDirectory.Reply>askDirectory(r -> new KeyDirectory.Get(id, r)).thenCompose(r -> {
      cache.put(id, new Cached(r.key(), System.nanoTime()));
      return check(r.key(), secret);
    });
  }

  /**
   * The key {@code who} names, for a host service that calls on behalf of its own users without their secrets
   * (see {@code LlmClient.as}); fails with {@link KeyException} (AUTHENTICATION) when there is no such key or it
   * is revoked or expired. Answered from memory as {@link #authenticate}.
   */
  public CompletionStage<VirtualKey> identify(CallerIdentity who) {
    String id = who.keyId();
    Cached c = cache.get(id);
    if (c != null && System.nanoTime() - c.readAt() < cacheTtlNanos) {
      return active(c.key());
    }
    return this.<KeyDirectory.Reply>askDirectory(r -> new KeyDirectory.Get(id, r)).thenCompose(r -> {
      cache.put(id, new Cached(r.key(), System.nanoTime()));
      return active(r.key());
    });
  }

  private CompletionStage<VirtualKey> check(StoredKey stored, String secret) {
    if (stored == null || !stored.matches(secret)) {
      return CompletableFuture.failedFuture(invalid());
    }
    return active(stored);
  }

  private CompletionStage<VirtualKey> active(StoredKey stored) {
    if (stored == null) {
      return CompletableFuture.failedFuture(invalid());
    }
    VirtualKey key = stored.key();
    if (key.revokedAt() != null) {
      return CompletableFuture.failedFuture(new KeyException(ErrorKind.AUTHENTICATION, "invalid_api_key",
          "the key " + key.prefix() + " was revoked", null, null, null));
    }
    if (!key.activeAt(clock.millis())) {
      return CompletableFuture.failedFuture(new KeyException(ErrorKind.AUTHENTICATION, "expired_api_key",
          "the key " + key.prefix() + " expired at " + Instant.ofEpochMilli(key.expiresAt()), null, null, null));
    }
    return CompletableFuture.completedFuture(key);
  }

  private static KeyException invalid() {
    return new KeyException(ErrorKind.AUTHENTICATION, "invalid_api_key", "invalid API key", null, null, null);
  }

  /**
   * Admits one call of {@code key} to {@code model}: the model must be in its list (PERMISSION naming it), its
   * rate and parallel limits not reached (RATE_LIMITED with Retry-After), its budget not spent
   * ({@code budget_exceeded}). The ticket must be settled when the call ends, whatever its outcome.
   */
  public CompletionStage<Ticket> admit(VirtualKey key, String model) {
    return admitting(key, model).whenComplete((t, err) -> {
      if (err != null && io.pekkollm.util.Futures.cause(err) instanceof KeyException ke) {
        metrics.refused(key, ke.errorCode());
      }
    });
  }

  private CompletionStage<Ticket> admitting(VirtualKey key, String model) {
    if (!key.allows(model, groupMembers)) {
      return CompletableFuture.failedFuture(new KeyException(ErrorKind.PERMISSION, "model_not_allowed",
          "the key " + key.prefix() + " may not call model '" + model + "' (its models: " + key.models() + ")",
          "model", null, null));
    }
    long now = clock.millis();
    try {
      limits.acquire(key, now);
    } catch (KeyException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (key.maxBudget() == null) {
      return CompletableFuture.completedFuture(new Ticket(key, null));
    }
    String reservation = UUID.randomUUID().toString();
    return this.<SpendEntity.Reservation>askSpend(key.id(), r -> new SpendEntity.Reserve(reservation,
        key.maxBudget(), key.budgetDuration(), key.createdAt(), now, r)).handle((res, err) -> {
          if (err != null || !res.granted()) {
            limits.release(key, 0, clock.millis());
            if (err != null) {
              throw err instanceof RuntimeException re ? re : new IllegalStateException(err);
            }
            String when = res.resetsAt() == null ? "it has no budget_duration, so it does not reset"
                : "it resets at " + Instant.ofEpochMilli(res.resetsAt());
            // Retry-After: the seconds until the period resets (none for a budget that never resets).
            Duration untilReset = res.resetsAt() == null ? null
                : Duration.ofMillis(Math.max(1, res.resetsAt() - clock.millis()));
            throw new KeyException(ErrorKind.QUOTA_EXCEEDED, "budget_exceeded", "the key " + key.prefix()
                + " has spent $" + res.spent().toPlainString() + " of its max_budget of $"
                + key.maxBudget().toPlainString() + ": " + when, null, untilReset, res.resetsAt());
          }
          return new Ticket(key, reservation);
        });
  }

  /** One admitted call: {@link #settle} it once when it ends (a second settle does nothing). Thread-safe. */
  public final class Ticket {
    private final VirtualKey key;
    private final String reservation;
    private final AtomicBoolean settled = new AtomicBoolean();

    private Ticket(VirtualKey key, String reservation) {
      this.key = key;
      this.reservation = reservation;
    }

    /** The key the call runs under. */
    public VirtualKey key() {
      return key;
    }

    /**
     * Ends the call, which cost {@code cost} USD (null: unknown or failed) on {@code model} and used
     * {@code tokens} tokens: the cost is charged to the key, its team and the model. The stage completes when the
     * charge is in the journal (at once for a call that cost nothing, and for a second settle), so a caller that
     * tells its client the call finished only then loses no charge the client saw in a crash. Writes are grouped
     * (every settle in the key's spend entity's mailbox joins one write). When the charge is not written within
     * {@code pekko-llm.keys.spend-write-timeout} the stage fails; that is logged (ERROR, once a minute per key,
     * naming the key id) and counted ({@code pekko_llm_key_spend_unwritten_total}) here, so callers only wait.
     * With {@code pekko-llm.keys.spend-durability = background} the stage completes at once and the charge is
     * written (grouped as ever) without anyone waiting for it.
     */
    public CompletionStage<Void> settle(String model, BigDecimal cost, long tokens) {
      if (!settled.compareAndSet(false, true)) {
        return CompletableFuture.completedFuture(null);
      }
      long now = clock.millis();
      limits.release(key, tokens, now);
      metrics.settled(key, model, tokens, cost);
      boolean costs = cost != null && cost.signum() > 0;
      java.util.function.Function<ActorRef<org.apache.pekko.Done>, SpendEntity.Settle> settle = r ->
          new SpendEntity.Settle(reservation, model, key.team(), cost, key.budgetDuration(), key.createdAt(), now,
              key.softBudget(), r);
      if (!costs || !spendWaits) {
        // Nothing to wait for: a call that cost nothing (only its reservation, if any, to let go), or
        // spend-durability = background (the charge is written at once all the same, grouped; only not waited for).
        if (costs || reservation != null) {
          spend.tell(key.id(), settle.apply(null));
        }
        return CompletableFuture.completedFuture(null);
      }
      return spend.<org.apache.pekko.Done>ask(key.id(), settle::apply, spendWriteTimeout)
          .handle((done, err) -> {
            if (err == null) {
              return null;
            }
            unwritten(key, cost, err);
            throw new LlmException(ErrorKind.INTERNAL, "the spend of key " + key.id() + " was not written within "
                + spendWriteTimeout.toMillis() + " ms", err, true, null);
          });
    }
  }

  /** A charge of {@code key} not known to be in the journal: counted, and logged once a minute per key. */
  private void unwritten(VirtualKey key, BigDecimal cost, Throwable err) {
    metrics.unwritten(key);
    long now = System.nanoTime();
    Long last = unwrittenLogged.get(key.id());
    if ((last == null || now - last > Duration.ofMinutes(1).toNanos())
        && (last == null ? unwrittenLogged.putIfAbsent(key.id(), now) == null
            : unwrittenLogged.replace(key.id(), last, now))) {
      LOG.error("the spend of key {} (${} for a call) was not confirmed in the journal within {} ms, the response "
          + "went out anyway; a crash now would lose it ({}; logged once a minute per key, "
          + "counted in pekko_llm_key_spend_unwritten_total)", key.id(), cost.toPlainString(),
          spendWriteTimeout.toMillis(), io.pekkollm.util.Futures.cause(err).toString());
    }
  }

  private StoredKey checked(KeyDirectory.Reply reply) {
    if (reply.error() != null) {
      throw new LlmException(reply.conflict() ? ErrorKind.CONFLICT : ErrorKind.INVALID_REQUEST, reply.error(), null,
          false, reply.errorField());
    }
    return reply.key();
  }

  private StoredKey cached(StoredKey key) {
    cache.put(key.key().id(), new Cached(key, System.nanoTime()));
    LOG.info("key {} ({}) version {}", key.key().id(), key.key().prefix(), key.key().version());
    return key;
  }

  private <R> CompletionStage<R> askDirectory(Function<ActorRef<R>, KeyDirectory.Command> command) {
    return timed(directory.ask("keys", command, askTimeout), "the key directory");
  }

  private <R> CompletionStage<R> askSpend(String id, Function<ActorRef<R>, SpendEntity.Command> command) {
    return timed(spend.ask(id, command, askTimeout), "the spend of key " + id);
  }

  private <R> CompletionStage<R> timed(CompletionStage<R> stage, String what) {
    return stage.handle((r, err) -> {
      if (err != null) {
        Throwable cause = io.pekkollm.util.Futures.cause(err);
        if (cause instanceof LlmException le) {
          throw le;
        }
        throw new LlmException(ErrorKind.INTERNAL, what + " did not answer within " + askTimeout.toMillis() + " ms",
            err, true, null);
      }
      return r;
    });
  }
}
