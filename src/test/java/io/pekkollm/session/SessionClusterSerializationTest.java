package io.pekkollm.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.journal.Entities;
import io.pekkollm.journal.EntityHost;
import io.pekkollm.journal.JournalSchema;
import io.pekkollm.journal.JournalSettings;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.session.SessionEvent.StoredMessage;
import io.pekkollm.session.SessionState.Active;
import io.pekkollm.testkit.WireCheck;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Session entities in Cluster Sharding and the index as a Cluster Singleton, on a real H2 journal, with
 * {@code serialize-messages = on}: every command reaches its entity, and every reply (sessions, turns, tombstone
 * sequence numbers, index pages, LlmException errors) reaches its probe, only after a trip through the
 * serializers another node would use.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SessionClusterSerializationTest {
  private final ActorTestKit kit;
  private final Entities<SessionEntity.Command> sessions;
  private final Entities<SessionIndex.Command> index;

  SessionClusterSerializationTest() throws Exception {
    WireCheck.ClusterJournal j = WireCheck.serializingClusterJournal();
    kit = j.kit();
    var plugin = j.plugin();
    EntityHost host = j.host();
    sessions = host.entities("session", SessionEntity.Command.class, (id, passivation) -> SessionEntity.create(id,
        JournalSettings.PLUGIN_ID, plugin, Duration.ofMinutes(5), Duration.ofMinutes(10), passivation));
    index = host.singleton("session-index", SessionIndex.Command.class,
        SessionIndex.create(JournalSettings.PLUGIN_ID, JournalSettings.SNAPSHOT_PLUGIN_ID, plugin));
  }

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
  }

  private static StoredMessage message(String role, String text) {
    return new StoredMessage(role, text, null, null, null, null, null, null, null, null, null, 1_000);
  }

  @Test
  void theVerificationIsOn() {
    assertTrue(kit.system().classicSystem().settings().SerializeAllMessages());
    TestProbe<Object> probe = kit.createTestProbe();
    // A message that would not survive the trip is dropped at the send (and logged); the next one arrives first.
    probe.getRef().tell(new Object());
    probe.getRef().tell("survives");
    probe.expectMessage("survives");
  }

  @Test
  void commandsAndRepliesOfATurnCrossTheSerializers() {
    String id = "ser-" + System.nanoTime();
    TestProbe<StatusReply<Active>> session = kit.createTestProbe();
    sessions.tell(id, new SessionEntity.Create("n", "mock/echo", null, Map.of("k", "v"),
        List.of(message("system", "be brief")), 1_000, null, session.getRef()));
    assertEquals("mock/echo", session.receiveMessage().getValue().model());

    TestProbe<StatusReply<SessionEntity.TurnStarted>> turn = kit.createTestProbe();
    long far = System.currentTimeMillis() + 60_000;
    sessions.tell(id, new SessionEntity.BeginTurn("t1", 2_000, far, turn.getRef()));
    String turnId = turn.receiveMessage().getValue().turnId();
    // One turn at a time: the CONFLICT travels as an LlmException with its kind and parameter.
    sessions.tell(id, new SessionEntity.BeginTurn("t2", 2_001, far, turn.getRef()));
    LlmException busy = (LlmException) turn.receiveMessage().getError();
    assertEquals(ErrorKind.CONFLICT, busy.kind());
    assertEquals("session_id", busy.param());

    sessions.tell(id, new SessionEntity.CompleteTurn(turnId, List.of(message("user", "hi 🌍")),
        message("assistant", "hello 東京"), session.getRef()));
    Session done = session.receiveMessage().getValue().toSession();
    assertEquals(3, done.messages().size());
    sessions.tell(id, new SessionEntity.Get(session.getRef()));
    assertEquals(done.messages(), session.receiveMessage().getValue().toSession().messages());

    TestProbe<StatusReply<Long>> deleted = kit.createTestProbe();
    sessions.tell(id, new SessionEntity.Delete(3_000, deleted.getRef()));
    assertTrue(deleted.receiveMessage().getValue() > 0);
    sessions.tell(id, new SessionEntity.Get(session.getRef()));
    assertEquals(ErrorKind.NOT_FOUND,
        ((LlmException) session.receiveMessage().getError()).kind());
  }

  @Test
  void theIndexSingletonAnswersAcrossTheSerializers() {
    TestProbe<StatusReply<Done>> ack = kit.createTestProbe();
    SessionSummary summary = new SessionSummary("listed-" + System.nanoTime(), "n", "mock/echo",
        Instant.ofEpochMilli(5_000), null);
    index.tell("all", new SessionIndex.Put(summary, ack.getRef()));
    assertTrue(ack.receiveMessage().isSuccess());
    TestProbe<SessionIndex.Page> page = kit.createTestProbe();
    index.tell("all", new SessionIndex.ListSessions(10, null, null, page.getRef()));
    assertTrue(page.receiveMessage().sessions().contains(summary));
    index.tell("all", new SessionIndex.Remove(summary.id(), ack.getRef()));
    assertTrue(ack.receiveMessage().isSuccess());
  }
}
