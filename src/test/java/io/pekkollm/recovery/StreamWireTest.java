package io.pekkollm.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.recovery.StreamEvent.StoredChunk;
import io.pekkollm.recovery.StreamEvent.StoredToolDelta;
import io.pekkollm.recovery.StreamEvent.StoredUsage;
import io.pekkollm.testkit.WireCheck;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Every stream-entity command and reply survives the trip between two cluster nodes (Jackson, not Java). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StreamWireTest {
  private final ActorTestKit kit = WireCheck.kit();

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
  }

  @Test
  void commandsAndRepliesCrossNodesIntact() {
    var begin = new StreamEntity.Begin("mock", "mock/echo", "{\"messages\":[]}", "UniqueAddress(pekko://x@h:1,7)", 42,
        "{\"format\":\"messages\",\"id\":\"msg_1\"}", "k1");
    StoredChunk chunk = new StoredChunk(0, "Grüße 🌍", null, List.of(new StoredToolDelta(0, "c1", "f", "{\"a\"")),
        null, null);
    var seqsProbe = kit.<StatusReply<StreamEntity.Seqs>>createTestProbe().getRef();
    WireCheck.assertSurvives(kit, new StreamEntity.Announce(begin));
    WireCheck.assertSurvives(kit, new StreamEntity.Write(begin, List.of(chunk), new StreamEntity.Finish("stop", new StoredUsage(1, 2, 0, 0, 0)),
        "w", 3, seqsProbe));
    WireCheck.assertSurvives(kit, new StreamEntity.Write(null, List.of(), new StreamEntity.Stop("reset", ErrorKind.NETWORK, true, false),
        null, 0, seqsProbe));
    WireCheck.assertSurvives(kit, new StreamEntity.BeginResume(ResumeStrategy.PARAGRAPH, null, 12L, "inc", "w", 99L,
        kit.<StreamEntity.ResumeOutcome>createTestProbe().getRef()));
    WireCheck.assertSurvives(kit, new StreamEntity.Get(kit.<StreamEntity.SnapshotReply>createTestProbe().getRef()));
    WireCheck.assertSurvives(kit, StatusReply.success(new StreamEntity.Seqs(List.of(1L, 0L, 2L))));
    WireCheck.assertSurvives(kit, new StreamEntity.SnapshotReply(null));
    WireCheck.assertSurvives(kit, new StreamEntity.SnapshotReply(new StreamSnapshot("r", "streaming", "mock", "mock/echo", 1, "text", 3, null,
        io.pekkollm.model.Usage.of(1, 2), null, null, false, false, 1, 2, "{\"format\":\"messages\"}", "k1")));
    WireCheck.assertSurvives(kit, new StreamEntity.Accepted(new ResumePlan("r", ResumeStrategy.EXACT, 3, 1, List.of(chunk), "abc", "{}", "m",
        "m2", 2, 7, null)));
    WireCheck.assertSurvives(kit, new StreamEntity.NotFound());
    WireCheck.assertSurvives(kit, new StreamEntity.Conflict("completed", true, "final"));
  }

  @Test
  void anEntityErrorKeepsItsKindMessageAndParameter() {
    StatusReply<Object> back = WireCheck.roundTrip(kit, StatusReply.error(new LlmException(ErrorKind.CONFLICT,
        "a chat in session 's' is still running", null, false, "session_id")));
    LlmException e = (LlmException) back.getError();
    assertEquals(ErrorKind.CONFLICT, e.kind());
    assertEquals("a chat in session 's' is still running", e.getMessage());
    assertEquals("session_id", e.param());
    assertEquals(false, e.isRetryable());
  }
}
