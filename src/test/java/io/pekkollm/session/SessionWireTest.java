package io.pekkollm.session;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pekkollm.session.SessionEvent.StoredCost;
import io.pekkollm.session.SessionEvent.StoredMessage;
import io.pekkollm.session.SessionEvent.StoredUsage;
import io.pekkollm.session.SessionState.Active;
import io.pekkollm.testkit.WireCheck;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Every session-entity and index command and reply survives the trip between two cluster nodes. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SessionWireTest {
  private final ActorTestKit kit = WireCheck.kit();

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
  }

  @Test
  void commandsAndRepliesCrossNodesIntact() {
    StoredMessage user = new StoredMessage("user", "hi 東京", null, null, null, null, null, null, null, null, null, 5);
    StoredMessage reply = new StoredMessage("assistant", "hello", null, null, null, null, null, "mock/echo",
        new StoredUsage(3, 4, 0, 0, 0), new StoredCost(new BigDecimal("0.0010"), BigDecimal.ZERO, BigDecimal.ZERO,
            new BigDecimal("0.002"), BigDecimal.ZERO), null, 6);
    Active active = new Active("s1", "n", "mock/echo", "sliding_window", Map.of("k", "v"), List.of(user, reply),
        new StoredUsage(3, 4, 0, 0, 0), null, 1, 6, List.of("t0", "t1"), "k1");
    var sessionProbe = kit.<StatusReply<Active>>createTestProbe().getRef();
    WireCheck.assertSurvives(kit, new SessionEntity.Create("n", "mock/echo", null, Map.of("k", "v"), List.of(user), 1, "k1", sessionProbe));
    WireCheck.assertSurvives(kit, new SessionEntity.Get(sessionProbe));
    WireCheck.assertSurvives(kit, new SessionEntity.BeginTurn("t2", 7, Long.MAX_VALUE, kit.<StatusReply<SessionEntity.TurnStarted>>createTestProbe().getRef()));
    WireCheck.assertSurvives(kit, new SessionEntity.CompleteTurn("t2", List.of(user), reply, sessionProbe));
    WireCheck.assertSurvives(kit, new SessionEntity.AbortTurn("t2"));
    WireCheck.assertSurvives(kit, new SessionEntity.Update(null, "mock/other", null, "", 8, sessionProbe));
    WireCheck.assertSurvives(kit, new SessionEntity.Delete(9, kit.<StatusReply<Long>>createTestProbe().getRef()));
    WireCheck.assertSurvives(kit, StatusReply.success(active));
    WireCheck.assertSurvives(kit, StatusReply.success(new SessionEntity.TurnStarted("t2", active)));
    WireCheck.assertSurvives(kit, StatusReply.success(3L));
    assertEquals(active.toSession(), WireCheck.roundTrip(kit, active).toSession());

    var summary = new SessionSummary("s1", "n", "mock/echo", Instant.ofEpochMilli(1_000), "k1");
    WireCheck.assertSurvives(kit, new SessionIndex.Put(summary, kit.<StatusReply<Done>>createTestProbe().getRef()));
    WireCheck.assertSurvives(kit, new SessionIndex.Remove("s1", kit.<StatusReply<Done>>createTestProbe().getRef()));
    WireCheck.assertSurvives(kit, new SessionIndex.ListSessions(10, null, "k1", kit.<SessionIndex.Page>createTestProbe().getRef()));
    WireCheck.assertSurvives(kit, new SessionIndex.Page(List.of(summary), true));
    // The index's snapshot, as the snapshot store writes it.
    WireCheck.assertSurvives(kit, new SessionIndex.Snapshot(List.of(
        new SessionIndex.SessionListed("s1", "n", "mock/echo", 1_000, "k1"),
        new SessionIndex.SessionListed("s2", null, "mock/echo", 2_000, null))));
    WireCheck.assertSurvives(kit, StatusReply.ack());
  }
}
