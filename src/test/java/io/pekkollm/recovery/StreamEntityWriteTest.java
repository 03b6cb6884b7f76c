package io.pekkollm.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.recovery.StreamEvent.StoredChunk;
import io.pekkollm.recovery.StreamEvent.StoredUsage;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A stream entity's journal writes sent again, as RecoveryService does when an answer did not come (a shard moving
 * between cluster nodes): a repeat of a persisted write is acknowledged with the sequence numbers it got and writes
 * nothing, also after the entity restarted from the journal (as on the node it moved to); a stale repeat and a late
 * write of a run that a resume replaced are refused. On the persistence test kit, every event through Jackson.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StreamEntityWriteTest {
  private final ActorTestKit kit = ActorTestKit.create(EventSourcedBehaviorTestKit.config()
      .withFallback(ConfigFactory.parseString("pekko.loglevel = WARNING"))
      .withFallback(io.pekkollm.api.LlmConfig.load()));
  private EventSourcedBehaviorTestKit<StreamEntity.Command, StreamEvent, StreamState> entity;
  private String id;

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
  }

  @BeforeEach
  void fresh() {
    id = RecoveryIds.newId();
    // Its writer is alive: this test's runs are of this process.
    entity = EventSourcedBehaviorTestKit.create(kit.system(), StreamEntity.create(id,
            PersistenceTestKitPlugin.PluginId(), ConfigFactory.empty(), Duration.ofMinutes(5), Duration.ofMinutes(5),
            self -> { }, writer -> true),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyCommands(false).withVerifyState(false));
  }

  private static StoredChunk chunk(String text) {
    return new StoredChunk(0, text, null, List.of(), null, null);
  }

  private static StoredChunk usageOnly() {
    return new StoredChunk(0, null, null, List.of(), null, new StoredUsage(3, 4, 0, 0, 0));
  }

  private static StreamEntity.Begin begin() {
    return new StreamEntity.Begin("mock", "mock/echo", "{\"model\":\"mock/echo\",\"messages\":[]}", "inc", 1_000,
        null, null);
  }

  private EventSourcedBehaviorTestKit.CommandResultWithReply<StreamEntity.Command, StreamEvent, StreamState,
      StatusReply<StreamEntity.Seqs>> write(StreamEntity.Begin start, List<StoredChunk> chunks, StreamEntity.End end,
      String writer, long n) {
    return entity.runCommand(r -> new StreamEntity.Write(start, chunks, end, writer, n, r));
  }

  @Test
  void aWriteSentAgainAfterItPersistedIsAcknowledgedWithItsSequenceNumbersAndWritesNothing() {
    var first = write(begin(), List.of(chunk("Grüße "), usageOnly(), chunk("🌍")), null, "run-1", 1);
    assertEquals(List.of(1L, 0L, 2L), first.reply().getValue().seqs());
    assertEquals(List.of(StreamEvent.Started.class, StreamEvent.ChunksAppended.class),
        first.events().stream().map(Object::getClass).toList());

    // The answer was lost; the same write (Started and all) comes again.
    var again = write(begin(), List.of(chunk("Grüße "), usageOnly(), chunk("🌍")), null, "run-1", 1);
    assertTrue(again.hasNoEvents(), "nothing persisted twice: " + again.events());
    assertEquals(List.of(1L, 0L, 2L), again.reply().getValue().seqs());

    var second = write(null, List.of(chunk(" 東京")), null, "run-1", 2);
    assertEquals(List.of(3L), second.reply().getValue().seqs());
    assertEquals("Grüße 🌍 東京", second.state().text.toString());
  }

  /**
   * An ended stream's entity leaves memory {@code passivate-after-end} after its end, whatever the ordinary idle
   * time; a running one stays, and one restored ended (for a status read or a refused resume) leaves alike.
   */
  @Test
  void anEndedStreamsEntityLeavesMemorySoonAfterItsEndARunningOneStays() throws Exception {
    String sid = RecoveryIds.newId();
    java.util.concurrent.LinkedBlockingQueue<String> passivated = new java.util.concurrent.LinkedBlockingQueue<>();
    java.util.function.Supplier<org.apache.pekko.actor.typed.ActorRef<StreamEntity.Command>> spawn = () ->
        kit.spawn(StreamEntity.create(sid, PersistenceTestKitPlugin.PluginId(), ConfigFactory.empty(),
            Duration.ofMinutes(5), Duration.ofMillis(300), self -> passivated.add(self.path().name()),
            writer -> true));
    var running = spawn.get();
    var probe = kit.<StatusReply<StreamEntity.Seqs>>createTestProbe();
    running.tell(new StreamEntity.Write(begin(), List.of(chunk("noch ")), null, "run-1", 1, probe.getRef()));
    assertTrue(probe.receiveMessage(Duration.ofSeconds(10)).isSuccess());
    assertEquals(null, passivated.poll(1, java.util.concurrent.TimeUnit.SECONDS), "running: it stays");

    running.tell(new StreamEntity.Write(null, List.of(chunk("fertig")),
        new StreamEntity.Finish("stop", new StoredUsage(1, 2, 0, 0, 0)), "run-1", 2, probe.getRef()));
    assertTrue(probe.receiveMessage(Duration.ofSeconds(10)).isSuccess());
    assertTrue(passivated.poll(5, java.util.concurrent.TimeUnit.SECONDS) != null, "ended: it leaves");
    kit.stop(running);

    // Restored from the journal for a status read: ended, so it leaves soon too (and still answers meanwhile).
    var restored = spawn.get();
    var got = kit.<StreamEntity.SnapshotReply>createTestProbe();
    restored.tell(new StreamEntity.Get(got.getRef()));
    assertEquals("noch fertig", got.receiveMessage(Duration.ofSeconds(10)).snapshot().text());
    assertTrue(passivated.poll(5, java.util.concurrent.TimeUnit.SECONDS) != null, "restored ended: it leaves");
    kit.stop(restored);
  }

  @Test
  void theRepeatIsRecognisedAfterTheEntityRecoveredFromTheJournal() {
    write(begin(), List.of(chunk("eins ")), null, "run-1", 1);
    write(null, List.of(chunk("zwei "), chunk("drei")), null, "run-1", 2);
    // As on the node its shard moved to: the state comes from the journal only.
    StreamState recovered = entity.restart().state();
    assertEquals(2, recovered.lastWrite);

    var again = write(null, List.of(chunk("zwei "), chunk("drei")), null, "run-1", 2);
    assertTrue(again.hasNoEvents());
    assertEquals(List.of(2L, 3L), again.reply().getValue().seqs());
    assertEquals("eins zwei drei", again.state().text.toString());
  }

  @Test
  void aRepeatedFinalWriteOfAnEndedStreamIsAcknowledgedNotRefused() {
    write(begin(), List.of(chunk("alles")), null, "run-1", 1);
    var end = write(null, List.of(chunk(".")), new StreamEntity.Finish("stop", new StoredUsage(1, 2, 0, 0, 0)),
        "run-1", 2);
    assertEquals(List.of(StreamEvent.ChunksAppended.class, StreamEvent.Completed.class),
        end.events().stream().map(Object::getClass).toList());
    entity.restart();
    var again = write(null, List.of(chunk(".")), new StreamEntity.Finish("stop", new StoredUsage(1, 2, 0, 0, 0)),
        "run-1", 2);
    assertTrue(again.hasNoEvents());
    assertEquals(List.of(2L), again.reply().getValue().seqs());
    assertEquals(StreamState.Status.COMPLETED, again.state().status);
  }

  @Test
  void aStaleRepeatOfAnOlderWriteIsRefusedAndWritesNothing() {
    write(begin(), List.of(chunk("a")), null, "run-1", 1);
    write(null, List.of(chunk("b")), null, "run-1", 2);
    // Attempt one of write 1, held somewhere while attempt two went through, arrives last.
    var stale = write(begin(), List.of(chunk("a")), null, "run-1", 1);
    assertTrue(stale.hasNoEvents());
    assertTrue(stale.reply().isError());
    assertTrue(stale.reply().getError().getMessage().contains("stale"), stale.reply().getError().getMessage());
    assertEquals("ab", stale.state().text.toString());
  }

  @Test
  void aLateWriteOfARunThatAResumeReplacedIsRefused() {
    write(begin(), List.of(chunk("vor dem Bruch")), new StreamEntity.Stop("reset", ErrorKind.NETWORK, true, false),
        "run-1", 1);
    var resumed = entity.<StreamEntity.ResumeOutcome>runCommand(r -> new StreamEntity.BeginResume(ResumeStrategy.EXACT,
        null, 1L, "inc", "run-2", Long.MAX_VALUE, r));
    assertInstanceOf(StreamEntity.Accepted.class, resumed.reply());
    assertEquals("run-2", resumed.state().writer);

    // A write of the first run (say its failure's interrupt, sent again) arrives after the resume began.
    var late = write(null, List.of(chunk(" alt")), null, "run-1", 2);
    assertTrue(late.hasNoEvents());
    assertTrue(late.reply().getError().getMessage().contains("another run"), late.reply().getError().getMessage());

    var next = write(null, List.of(chunk(", weiter")), null, "run-2", 1);
    assertEquals(List.of(2L), next.reply().getValue().seqs());
    var nextAgain = write(null, List.of(chunk(", weiter")), null, "run-2", 1);
    assertTrue(nextAgain.hasNoEvents());
    assertEquals(List.of(2L), nextAgain.reply().getValue().seqs());
    assertEquals("vor dem Bruch, weiter", entity.restart().state().text.toString());
  }

  @Test
  void writesWithoutARunIdAreTakenAsBefore() {
    // Entities journalled before writes were numbered: no run id, no check (each write persists).
    var first = write(begin(), List.of(chunk("x")), null, null, 0);
    assertEquals(List.of(1L), first.reply().getValue().seqs());
    var second = write(null, List.of(chunk("x")), null, null, 0);
    assertEquals(List.of(2L), second.reply().getValue().seqs());
    assertEquals("xx", second.state().text.toString());
  }

  @Test
  void theSameResumeSentAgainGetsItsPlanAgainUntilItsRunWrites() {
    write(begin(), List.of(chunk("Erster Absatz.\n\n"), chunk("Zweiter "), chunk("Abs")),
        new StreamEntity.Stop("reset", ErrorKind.NETWORK, true, false), "run-1", 1);
    var first = entity.<StreamEntity.ResumeOutcome>runCommand(r -> new StreamEntity.BeginResume(
        ResumeStrategy.PARAGRAPH, "mock/other", 3L, "inc", "run-2", Long.MAX_VALUE, r));
    ResumePlan plan = assertInstanceOf(StreamEntity.Accepted.class, first.reply()).plan();
    assertEquals("Erster Absatz.\n\n", plan.baseText());
    assertEquals(List.of(StreamEvent.Resumed.class), first.events().stream().map(Object::getClass).toList());

    // Its answer was lost: the same resume (same run id) comes again, on this node and after a move.
    var again = entity.<StreamEntity.ResumeOutcome>runCommand(r -> new StreamEntity.BeginResume(
        ResumeStrategy.PARAGRAPH, "mock/other", 3L, "inc", "run-2", Long.MAX_VALUE, r));
    assertTrue(again.hasNoEvents());
    assertEquals(plan, assertInstanceOf(StreamEntity.Accepted.class, again.reply()).plan());
    entity.restart();
    var moved = entity.<StreamEntity.ResumeOutcome>runCommand(r -> new StreamEntity.BeginResume(
        ResumeStrategy.PARAGRAPH, "mock/other", 3L, "inc", "run-2", Long.MAX_VALUE, r));
    assertEquals(plan, assertInstanceOf(StreamEntity.Accepted.class, moved.reply()).plan());

    // Another resume is refused while this one runs; once its run wrote, a repeat is stale and accepts nothing.
    var other = entity.<StreamEntity.ResumeOutcome>runCommand(r -> new StreamEntity.BeginResume(
        ResumeStrategy.EXACT, null, 3L, "inc", "run-3", Long.MAX_VALUE, r));
    assertInstanceOf(StreamEntity.Conflict.class, other.reply());
    write(null, List.of(chunk("Zweiter Absatz.")), null, "run-2", 1);
    var stale = entity.<StreamEntity.ResumeOutcome>runCommand(r -> new StreamEntity.BeginResume(
        ResumeStrategy.PARAGRAPH, "mock/other", 3L, "inc", "run-2", Long.MAX_VALUE, r));
    assertTrue(stale.hasNoEvents());
    assertInstanceOf(StreamEntity.Conflict.class, stale.reply());
  }
}
