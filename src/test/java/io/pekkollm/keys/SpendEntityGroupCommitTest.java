package io.pekkollm.keys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.persistence.testkit.JournalOperation;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import org.apache.pekko.persistence.testkit.ProcessingSuccess$;
import org.apache.pekko.persistence.testkit.ReadEvents;
import org.apache.pekko.persistence.testkit.WriteEvents;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.apache.pekko.persistence.testkit.javadsl.SnapshotTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A spend entity's group commit, on the persistence test kit with a journal whose writes can be held: a settle is
 * acknowledged only after its cost is in the journal, and the settles arriving while one write is under way are
 * written together in the next one; snapshots bound what a fresh incarnation replays.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SpendEntityGroupCommitTest {
  private final ActorTestKit kit = ActorTestKit.create(io.pekkollm.testkit.TestConfig.persistenceTestKit());
  private final PersistenceTestKit journal = PersistenceTestKit.create(kit.system());
  private final SnapshotTestKit snapshots = SnapshotTestKit.create(kit.system());
  private final AtomicInteger writes = new AtomicInteger();
  private volatile CountDownLatch held = new CountDownLatch(0);
  /** How many events the last replay of each persistence id read. */
  private final java.util.Map<String, Integer> replayed = new java.util.concurrent.ConcurrentHashMap<>();

  SpendEntityGroupCommitTest() {
    // Every write waits until the test releases it: a slow journal the test controls.
    journal.withPolicy((String persistenceId, JournalOperation op) -> {
      if (op instanceof ReadEvents r) {
        replayed.put(persistenceId, r.batch().size());
      }
      if (op instanceof WriteEvents) {
        writes.incrementAndGet();
        try {
          held.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return ProcessingSuccess$.MODULE$;
    });
  }

  @AfterEach
  void release() {
    held.countDown();
  }

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
  }

  private ActorRef<SpendEntity.Command> spawn(String id) {
    return spawn(id, 0);
  }

  private ActorRef<SpendEntity.Command> spawn(String id, int snapshotEvery) {
    return kit.spawn(SpendEntity.create(id, PersistenceTestKitPlugin.PluginId(),
        PersistenceTestKitSnapshotPlugin.PluginId(), ConfigFactory.empty(),
        new SpendEntity.Settings(Duration.ofMinutes(5), snapshotEvery), self -> { }, alert -> { }));
  }

  private static SpendEntity.Settle settle(String cost, ActorRef<Done> ack) {
    return new SpendEntity.Settle(null, "mock/m", null, new BigDecimal(cost), null, 0, 1_000, null, ack);
  }

  @Test
  void aSettleIsAcknowledgedOnlyAfterItsCostIsWrittenAndConcurrentSettlesShareAWrite() throws Exception {
    String id = "k-" + UUID.randomUUID();
    ActorRef<SpendEntity.Command> entity = spawn(id);
    held = new CountDownLatch(1);
    TestProbe<Done> first = kit.createTestProbe();
    entity.tell(settle("0.001", first.getRef()));
    // The first write is under way and held: no acknowledgement before it is in the journal.
    first.expectNoMessage(Duration.ofMillis(500));
    assertEquals(1, writes.get(), "the first settle is written at once (nothing to wait for)");

    List<TestProbe<Done>> later = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      TestProbe<Done> p = kit.createTestProbe();
      later.add(p);
      entity.tell(settle("0.002", p.getRef()));
    }
    later.get(49).expectNoMessage(Duration.ofMillis(200));
    held.countDown();
    first.expectMessage(Duration.ofSeconds(10), Done.getInstance());
    for (TestProbe<Done> p : later) {
      p.expectMessage(Duration.ofSeconds(10), Done.getInstance());
    }
    List<Object> events = journal.persistedInStorage("key-spend|" + id);
    assertEquals(2, writes.get(), "the 50 settles that came during the first write went in one: " + events);
    assertEquals(2, events.size(), events.toString());
    assertEquals(50, ((SpendEntity.SpendRecorded) events.get(1)).entries().size());

    // What the entity acknowledged is what a fresh incarnation reads back from the journal.
    kit.stop(entity);
    TestProbe<SpendEntity.Spend> spend = kit.createTestProbe();
    spawn(id).tell(new SpendEntity.GetSpend(spend.getRef()));
    SpendEntity.Spend got = spend.receiveMessage(Duration.ofSeconds(10));
    assertEquals(0, new BigDecimal("0.101").compareTo(got.total()), got.toString());
    assertEquals(0, got.unwritten());
  }

  @Test
  void aSpendReplyIsACopyThatLaterWritesLeaveAlone() {
    ActorRef<SpendEntity.Command> entity = spawn("k-" + UUID.randomUUID());
    TestProbe<Done> ack = kit.createTestProbe();
    entity.tell(settle("0.25", ack.getRef()));
    ack.expectMessage(Duration.ofSeconds(10), Done.getInstance());
    TestProbe<SpendEntity.Spend> spend = kit.createTestProbe();
    entity.tell(new SpendEntity.GetSpend(spend.getRef()));
    SpendEntity.Spend first = spend.receiveMessage(Duration.ofSeconds(10));
    entity.tell(settle("0.5", ack.getRef()));
    ack.expectMessage(Duration.ofSeconds(10), Done.getInstance());
    entity.tell(new SpendEntity.GetSpend(spend.getRef()));
    SpendEntity.Spend second = spend.receiveMessage(Duration.ofSeconds(10));
    assertEquals(0, new BigDecimal("0.25").compareTo(first.byDayModelTeam().get("1970-01-01|mock/m|")),
        first.toString());
    assertEquals(0, new BigDecimal("0.75").compareTo(second.byDayModelTeam().get("1970-01-01|mock/m|")),
        second.toString());
  }

  @Test
  void aSettleThatCostNothingIsAcknowledgedWithoutAWrite() {
    ActorRef<SpendEntity.Command> entity = spawn("k-" + UUID.randomUUID());
    held = new CountDownLatch(1);
    int before = writes.get();
    TestProbe<Done> ack = kit.createTestProbe();
    entity.tell(new SpendEntity.Settle(null, "mock/m", null, null, null, 0, 1_000, null, ack.getRef()));
    entity.tell(new SpendEntity.Settle(null, "mock/m", null, BigDecimal.ZERO, null, 0, 1_000, null, ack.getRef()));
    ack.expectMessage(Duration.ofSeconds(5), Done.getInstance());
    ack.expectMessage(Duration.ofSeconds(5), Done.getInstance());
    assertTrue(writes.get() == before, "no write for calls that cost nothing");
  }

  @Test
  void aBusyKeysSpendIsSnapshottedSoAFreshIncarnationReplaysOnlyTheEventsAfterIt() {
    String id = "k-" + UUID.randomUUID();
    String pid = "key-spend|" + id;
    ActorRef<SpendEntity.Command> entity = spawn(id, 3);
    for (int i = 0; i < 7; i++) {
      TestProbe<Done> ack = kit.createTestProbe();
      entity.tell(settle("0.01", ack.getRef()));
      ack.expectMessage(Duration.ofSeconds(10), Done.getInstance());
    }
    assertEquals(7, journal.persistedInStorage(pid).size(), "every write is kept: the key's spend log");
    var stored = snapshots.persistedInStorage(pid);
    assertEquals(2, stored.size(), "snapshots after the 3rd and 6th events (the last two kept): " + stored);
    assertEquals(6L, stored.get(stored.size() - 1).first().sequenceNr());
    SpendEntity.State snap = (SpendEntity.State) stored.get(stored.size() - 1).second();
    assertEquals(0, new BigDecimal("0.06").compareTo(snap.total()), snap.toString());
    // The snapshot holds the by-day spend as of its event, not the 7th write's (the entity adds to its map in
    // place; its snapshot adapter hands the store a copy, which the JDBC store serializes later).
    assertEquals(0, new BigDecimal("0.06").compareTo(snap.byDayModelTeam().get("1970-01-01|mock/m|")),
        snap.toString());

    // A fresh incarnation starts from the snapshot and replays only the one event after it.
    kit.stop(entity);
    replayed.remove(pid);
    TestProbe<SpendEntity.Spend> spend = kit.createTestProbe();
    spawn(id, 3).tell(new SpendEntity.GetSpend(spend.getRef()));
    SpendEntity.Spend got = spend.receiveMessage(Duration.ofSeconds(10));
    assertEquals(0, new BigDecimal("0.07").compareTo(got.total()), got.toString());
    assertEquals(0, new BigDecimal("0.07").compareTo(got.byDayModelTeam().get("1970-01-01|mock/m|")), got.toString());
    assertEquals(1, replayed.get(pid), "replayed after the snapshot only");
  }
}
