package io.pekkollm.session;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.JournalOperation;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import org.apache.pekko.persistence.testkit.ProcessingSuccess$;
import org.apache.pekko.persistence.testkit.ReadEvents;
import org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit;
import org.apache.pekko.persistence.testkit.javadsl.SnapshotTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The session index is snapshotted (an immutable copy of its mutable map), so a start replays only the events
 * after the last snapshot, and the index it rebuilds is the one it had: entries listed, renamed and removed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SessionIndexSnapshotTest {
  private static final String PID = "session-index|all";
  private final ActorTestKit kit = ActorTestKit.create(io.pekkollm.testkit.TestConfig.persistenceTestKit());
  private final PersistenceTestKit journal = PersistenceTestKit.create(kit.system());
  private final SnapshotTestKit snapshots = SnapshotTestKit.create(kit.system());
  private final Map<String, Integer> replayed = new ConcurrentHashMap<>();

  SessionIndexSnapshotTest() {
    journal.withPolicy((String persistenceId, JournalOperation op) -> {
      if (op instanceof ReadEvents r) {
        replayed.put(persistenceId, r.batch().size());
      }
      return ProcessingSuccess$.MODULE$;
    });
  }

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
  }

  private ActorRef<SessionIndex.Command> spawn() {
    return kit.spawn(SessionIndex.create(PersistenceTestKitPlugin.PluginId(),
        PersistenceTestKitSnapshotPlugin.PluginId(), ConfigFactory.empty(), 3));
  }

  private static SessionSummary summary(String id, String name, long createdAt) {
    return new SessionSummary(id, name, "mock/echo", Instant.ofEpochMilli(createdAt), id.endsWith("k") ? "key1" : null);
  }

  private void ok(ActorRef<SessionIndex.Command> index, java.util.function.Function<ActorRef<StatusReply<Done>>,
      SessionIndex.Command> command) {
    TestProbe<StatusReply<Done>> ack = kit.createTestProbe();
    index.tell(command.apply(ack.getRef()));
    assertEquals(StatusReply.ack(), ack.receiveMessage(Duration.ofSeconds(10)));
  }

  private List<SessionSummary> list(ActorRef<SessionIndex.Command> index, String owner) {
    TestProbe<SessionIndex.Page> page = kit.createTestProbe();
    index.tell(new SessionIndex.ListSessions(100, null, owner, page.getRef()));
    return page.receiveMessage(Duration.ofSeconds(10)).sessions();
  }

  @Test
  void aStartReplaysOnlyTheEventsAfterTheLastSnapshotAndRebuildsTheSameIndex() {
    ActorRef<SessionIndex.Command> index = spawn();
    ok(index, r -> new SessionIndex.Put(summary("s1", "one", 1_000), r));
    ok(index, r -> new SessionIndex.Put(summary("s2k", "two", 2_000), r));
    ok(index, r -> new SessionIndex.Put(summary("s3", "three", 3_000), r));
    ok(index, r -> new SessionIndex.Put(summary("s1", "one renamed", 1_000), r));
    ok(index, r -> new SessionIndex.Remove("s3", r));
    List<SessionSummary> before = list(index, null);
    assertEquals(List.of("s2k", "s1"), before.stream().map(SessionSummary::id).toList());

    var stored = snapshots.persistedInStorage(PID);
    assertEquals(1, stored.size(), "one snapshot, after the third event: " + stored);
    assertEquals(3L, stored.get(0).first().sequenceNr());
    assertEquals(3, ((SessionIndex.Snapshot) stored.get(0).second()).sessions().size());

    kit.stop(index);
    replayed.remove(PID);
    ActorRef<SessionIndex.Command> again = spawn();
    assertEquals(before, list(again, null), "the same index from the snapshot and the events after it");
    assertEquals(List.of("s2k"), list(again, "key1").stream().map(SessionSummary::id).toList());
    assertEquals(2, replayed.get(PID), "only the two events after the snapshot were replayed");
  }
}
