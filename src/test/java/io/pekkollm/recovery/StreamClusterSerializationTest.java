package io.pekkollm.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.journal.Entities;
import io.pekkollm.journal.EntityHost;
import io.pekkollm.journal.JournalSchema;
import io.pekkollm.journal.JournalSettings;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.recovery.StreamEvent.StoredChunk;
import io.pekkollm.recovery.StreamEvent.StoredUsage;
import io.pekkollm.testkit.WireCheck;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Stream entities in Cluster Sharding on a real H2 journal with {@code serialize-messages = on}: every command
 * (writes, announce, resume, status) and every reply (sequence numbers, snapshots, resume plans, conflicts, a
 * refused write's error) reaches its actor only after a trip through the serializers another node would use.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StreamClusterSerializationTest {
  private final ActorTestKit kit;
  private final EntityHost host;
  private final Entities<StreamEntity.Command> streams;

  StreamClusterSerializationTest() throws Exception {
    WireCheck.ClusterJournal j = WireCheck.serializingClusterJournal();
    kit = j.kit();
    var plugin = j.plugin();
    host = j.host();
    streams = host.entities("stream", StreamEntity.Command.class, (id, passivation) -> StreamEntity.create(id,
        JournalSettings.PLUGIN_ID, plugin, Duration.ofMinutes(5), Duration.ofMinutes(5), passivation, host::writerAlive));
  }

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
  }

  private static StoredChunk chunk(String text) {
    return new StoredChunk(0, text, null, List.of(), null, null);
  }

  private StreamEntity.Begin begin() {
    return new StreamEntity.Begin("mock", "mock/echo", "{\"model\":\"mock/echo\",\"messages\":[]}",
        host.incarnation(), System.currentTimeMillis(), "{\"format\":\"responses\"}", "k1");
  }

  @Test
  void aCompletedStreamsWritesStatusAndRefusedResumeCrossTheSerializers() {
    String id = RecoveryIds.newId();
    StreamEntity.Begin begin = begin();
    streams.tell(id, new StreamEntity.Announce(begin));
    TestProbe<StreamEntity.SnapshotReply> status = kit.createTestProbe();
    streams.tell(id, new StreamEntity.Get(status.getRef()));
    assertEquals("streaming", status.receiveMessage().snapshot().status(), "announced: running");

    TestProbe<StatusReply<StreamEntity.Seqs>> seqs = kit.createTestProbe();
    streams.tell(id, new StreamEntity.Write(begin, List.of(chunk("Grüße "), chunk("🌍 東京")), null, "w", 1, seqs.getRef()));
    assertEquals(List.of(1L, 2L), seqs.receiveMessage().getValue().seqs());
    streams.tell(id, new StreamEntity.Write(null, List.of(), new StreamEntity.Finish("stop",
        new StoredUsage(3, 4, 0, 0, 0)), "w", 2, seqs.getRef()));
    assertTrue(seqs.receiveMessage().isSuccess());

    streams.tell(id, new StreamEntity.Get(status.getRef()));
    StreamSnapshot s = status.receiveMessage().snapshot();
    assertEquals("completed", s.status());
    assertEquals("Grüße 🌍 東京", s.text());

    TestProbe<StreamEntity.ResumeOutcome> outcome = kit.createTestProbe();
    streams.tell(id, new StreamEntity.BeginResume(ResumeStrategy.EXACT, null, 1L, host.incarnation(), "w2",
        System.currentTimeMillis() + 60_000, outcome.getRef()));
    StreamEntity.Conflict done = assertInstanceOf(StreamEntity.Conflict.class, outcome.receiveMessage());
    assertTrue(done.completed());
    assertEquals("Grüße 🌍 東京", done.finalText());

    // A write to a stream that ended is refused: the error reply crosses too.
    streams.tell(id, new StreamEntity.Write(null, List.of(chunk("late")), null, "w", 3, seqs.getRef()));
    assertTrue(seqs.receiveMessage().getError().getMessage().contains("is not running"));
  }

  @Test
  void anInterruptedStreamsResumePlanAndAnUnknownStreamCrossTheSerializers() {
    String id = RecoveryIds.newId();
    TestProbe<StatusReply<StreamEntity.Seqs>> seqs = kit.createTestProbe();
    streams.tell(id, new StreamEntity.Write(begin(), List.of(chunk("erster "), chunk("Teil")),
        new StreamEntity.Stop("connection reset", ErrorKind.NETWORK, true, false), "w", 1, seqs.getRef()));
    assertEquals(List.of(1L, 2L), seqs.receiveMessage().getValue().seqs());

    TestProbe<StreamEntity.ResumeOutcome> outcome = kit.createTestProbe();
    streams.tell(id, new StreamEntity.BeginResume(ResumeStrategy.EXACT, null, 1L, host.incarnation(), "w2",
        System.currentTimeMillis() + 60_000, outcome.getRef()));
    ResumePlan plan = assertInstanceOf(StreamEntity.Accepted.class, outcome.receiveMessage()).plan();
    assertEquals("erster Teil", plan.baseText());
    assertEquals(List.of(2L), plan.replay().stream().map(StoredChunk::seq).toList(), "after Last-Event-ID 1");

    streams.tell(RecoveryIds.newId(), new StreamEntity.BeginResume(ResumeStrategy.PARAGRAPH, null, null,
        host.incarnation(), "w3", System.currentTimeMillis() + 60_000, outcome.getRef()));
    assertInstanceOf(StreamEntity.NotFound.class, outcome.receiveMessage());
  }
}
