package io.pekkollm.keys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.journal.Entities;
import io.pekkollm.journal.EntityHost;
import io.pekkollm.journal.JournalSettings;
import io.pekkollm.testkit.WireCheck;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The key directory as a Cluster Singleton and spend entities in Cluster Sharding, on a real H2 journal, with
 * {@code serialize-messages = on}: every command and reply crosses the serializers another node would use, and
 * the budget reservation holds a second call until the first one's cost is known.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KeyEntitiesClusterSerializationTest {
  private final ActorTestKit kit;
  private final Entities<KeyDirectory.Command> directory;
  private final Entities<SpendEntity.Command> spend;
  private final java.util.List<SpendEntity.SoftBudgetAlert> alerts = new java.util.concurrent.CopyOnWriteArrayList<>();

  KeyEntitiesClusterSerializationTest() throws Exception {
    WireCheck.ClusterJournal j = WireCheck.serializingClusterJournal();
    kit = j.kit();
    EntityHost host = j.host();
    directory = host.singleton("key-directory", KeyDirectory.Command.class,
        KeyDirectory.create(JournalSettings.PLUGIN_ID, j.plugin()));
    spend = host.entities("key-spend", SpendEntity.Command.class, (id, p) -> SpendEntity.create(id,
        JournalSettings.PLUGIN_ID, JournalSettings.SNAPSHOT_PLUGIN_ID, j.plugin(),
        new SpendEntity.Settings(Duration.ofMinutes(5), 2), p, alerts::add));
  }

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
  }

  private static VirtualKey key(String id, String name) {
    return new VirtualKey(id, name, "team", List.of("openai/*"), new BigDecimal("1.5"), "1d", null, 10, 1000L, 2,
        null, "{\"a\":1}", null, 1_000, 1_000, null, 0);
  }

  @Test
  void directoryCreatesChangesAndRefusesDuplicateNamesAndStaleChanges() {
    TestProbe<KeyDirectory.Reply> probe = kit.createTestProbe();
    String secret = StoredKey.newSecret("00000000000000aa");
    StoredKey stored = StoredKey.of(key("00000000000000aa", "one"), secret);
    directory.tell("keys", new KeyDirectory.Create(stored, "admin", 5, probe.getRef()));
    KeyDirectory.Reply created = probe.receiveMessage(Duration.ofSeconds(20));
    assertNull(created.error());
    assertTrue(created.key().matches(secret));
    assertFalse(created.key().matches(StoredKey.newSecret("00000000000000aa")));

    directory.tell("keys", new KeyDirectory.Create(StoredKey.of(key("00000000000000bb", "one"), StoredKey.newSecret("00000000000000bb")), "admin", 6,
        probe.getRef()));
    assertEquals("name", probe.receiveMessage(Duration.ofSeconds(10)).errorField());

    StoredKey changed = stored.withKey(stored.key().changed(7));
    directory.tell("keys", new KeyDirectory.Change("update", changed, 0, "admin", 7, probe.getRef()));
    assertEquals(1, probe.receiveMessage(Duration.ofSeconds(10)).key().key().version());
    directory.tell("keys", new KeyDirectory.Change("update", changed, 0, "admin", 8, probe.getRef()));
    assertTrue(probe.receiveMessage(Duration.ofSeconds(10)).conflict(), "a change from a stale version");

    TestProbe<KeyDirectory.AuditPage> audit = kit.createTestProbe();
    directory.tell("keys", new KeyDirectory.GetAudit(0, 10, audit.getRef()));
    List<AuditEntry> entries = audit.receiveMessage(Duration.ofSeconds(10)).entries();
    assertEquals(List.of("create", "update"), entries.stream().map(AuditEntry::action).toList());
    assertEquals(0, entries.get(1).before().version());
  }

  @Test
  void spendReservesSettlesAndRefusesOverBudget() {
    TestProbe<SpendEntity.Reservation> r = kit.createTestProbe();
    BigDecimal budget = new BigDecimal("0.002");
    spend.tell("k1", new SpendEntity.Reserve("a", budget, "1d", 0, 10, r.getRef()));
    assertTrue(r.receiveMessage(Duration.ofSeconds(20)).granted());
    spend.tell("k1", new SpendEntity.Reserve("b", budget, "1d", 0, 11, r.getRef()));
    r.expectNoMessage(Duration.ofMillis(200));
    spend.tell("k1", new SpendEntity.Settle("a", "openai/gpt-4o-mini", "team", new BigDecimal("0.001"), "1d", 0, 12, null, null));
    assertTrue(r.receiveMessage(Duration.ofSeconds(10)).granted(), "the waiting call runs once a cost is known");
    spend.tell("k1", new SpendEntity.Reserve("c", budget, "1d", 0, 13, r.getRef()));
    SpendEntity.Reservation refused = r.receiveMessage(Duration.ofSeconds(10));
    assertFalse(refused.granted(), "spent 0.001 and 0.001 reserved reach the budget");
    assertEquals(86_400_000L, refused.resetsAt());
    TestProbe<org.apache.pekko.Done> written = kit.createTestProbe();
    spend.tell("k1", new SpendEntity.Settle("b", "openai/gpt-4o-mini", "team", new BigDecimal("0.001"), "1d", 0, 14, new BigDecimal("0.0015"), written.getRef()));
    written.receiveMessage(Duration.ofSeconds(10));
    TestProbe<SpendEntity.Spend> s = kit.createTestProbe();
    spend.tell("k1", new SpendEntity.GetSpend(s.getRef()));
    SpendEntity.Spend got = s.receiveMessage(Duration.ofSeconds(10));
    assertEquals(0, new BigDecimal("0.002").compareTo(got.total()));
    assertEquals(0, new BigDecimal("0.002").compareTo(got.byDayModelTeam().get("1970-01-01|openai/gpt-4o-mini|team")));
    assertEquals(0L, got.softAlertWindow(), "the second call reached the soft budget of 0.0015");
    assertEquals(14L, got.softAlertAt());
    assertEquals(1, alerts.size(), alerts.toString());
    assertEquals("k1", alerts.get(0).keyId());
    // The next day is a new period.
    spend.tell("k1", new SpendEntity.Reserve("d", budget, "1d", 0, 86_400_000L, r.getRef()));
    assertTrue(r.receiveMessage(Duration.ofSeconds(10)).granted());
  }

  @Test
  void spendSnapshotsSurviveTheWire() {
    SpendEntity.State state = SpendEntity.State.empty().plus(List.of(
        new SpendEntity.Entry(12, 0, "openai/gpt-4o-mini", "team", new BigDecimal("0.0010")),
        new SpendEntity.Entry(86_400_012L, 86_400_000L, "openai/gpt-4o", null, new BigDecimal("0.25"))));
    WireCheck.assertSurvives(kit, state);
    WireCheck.assertSurvives(kit, SpendEntity.State.empty());
  }
}
