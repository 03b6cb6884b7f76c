package io.pekkollm.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.session.SessionEvent.StoredCost;
import io.pekkollm.session.SessionEvent.StoredMessage;
import io.pekkollm.session.SessionEvent.StoredUsage;
import io.pekkollm.journal.EntityRegistry;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * One session entity on the persistence test kit: its events, its replies, one turn at a time, and recovery.
 * Every event goes through the configured serializer (Jackson JSON) and back.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SessionEntityTest {
  private final ActorTestKit kit = ActorTestKit.create(EventSourcedBehaviorTestKit.config()
      .withFallback(ConfigFactory.parseString("pekko.loglevel = WARNING"))
      .withFallback(io.pekkollm.api.LlmConfig.load()));
  private EventSourcedBehaviorTestKit<SessionEntity.Command, SessionEvent, SessionState> entity;

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
  }

  @BeforeEach
  void fresh() {
    entity = EventSourcedBehaviorTestKit.create(kit.system(), SessionEntity.create("s-" + System.nanoTime(),
            PersistenceTestKitPlugin.PluginId(), ConfigFactory.empty(), Duration.ofMinutes(5), Duration.ofMinutes(10),
            self -> { }),
        EventSourcedBehaviorTestKit.enabledSerializationSettings().withVerifyCommands(false).withVerifyState(false));
  }

  private static StoredMessage user(String text, long at) {
    return new StoredMessage("user", text, null, null, null, null, null, null, null, null, null, at);
  }

  private static StoredMessage reply(String text, long at) {
    return new StoredMessage("assistant", text, null, null, null, null, null, "m/echo", new StoredUsage(10, 5, 0, 0, 0),
        new StoredCost(new BigDecimal("0.001"), BigDecimal.ZERO, BigDecimal.ZERO, new BigDecimal("0.002"),
            BigDecimal.ZERO), null, at);
  }

  @Test
  void aTurnPersistsItsInputAndReplyTogetherAndSurvivesRecovery() {
    var created = entity.<StatusReply<SessionState.Active>>runCommand(r -> new SessionEntity.Create("n", "m/echo",
        "sliding_window", Map.of("k", "v"), List.of(), 1_000, null, r));
    assertInstanceOf(SessionEvent.SessionCreated.class, created.event());
    assertEquals("m/echo", created.reply().getValue().model());

    var begun = entity.<StatusReply<SessionEntity.TurnStarted>>runCommand(r -> new SessionEntity.BeginTurn("turn-1", 2_000, Long.MAX_VALUE, r));
    String turn = begun.reply().getValue().turnId();
    var busy = entity.<StatusReply<SessionEntity.TurnStarted>>runCommand(r -> new SessionEntity.BeginTurn("turn-2", 2_001, Long.MAX_VALUE, r));
    assertEquals(ErrorKind.CONFLICT, ((LlmException) busy.reply().getError()).kind());

    var done = entity.<StatusReply<SessionState.Active>>runCommand(r -> new SessionEntity.CompleteTurn(turn,
        List.of(user("hi", 2_000)), reply("hello", 3_000), r));
    assertEquals(List.of(SessionEvent.UserMessageAdded.class, SessionEvent.AssistantReplyAdded.class),
        done.events().stream().map(Object::getClass).toList());
    Session s = done.reply().getValue().toSession();
    assertEquals(2, s.messages().size());
    assertEquals(15, s.usage().totalTokens());
    assertEquals(0, new BigDecimal("0.003").compareTo(s.cost().total()));
    assertTrue(entity.<StatusReply<SessionEntity.TurnStarted>>runCommand(r -> new SessionEntity.BeginTurn("turn-3", 3_001, Long.MAX_VALUE, r))
        .reply().isSuccess(), "the session is free once the turn is recorded");

    SessionState restored = entity.restart().state();
    Session back = ((SessionState.Active) restored).toSession();
    assertEquals(s.messages(), back.messages());
    assertEquals(s.usage(), back.usage());
    assertEquals(s.cost(), back.cost());
  }

  @Test
  void aTurnThatReachesTheEntityAfterItsCallerGaveUpIsRefusedAndReservesNothing() {
    entity.<StatusReply<SessionState.Active>>runCommand(r -> new SessionEntity.Create("n", "m/echo", null, Map.of(),
        List.of(), 1_000, null, r));
    // As a BeginTurn held by Cluster Sharding while the session moved: its caller's ask timed out meanwhile.
    long past = System.currentTimeMillis() - 1;
    var late = entity.<StatusReply<SessionEntity.TurnStarted>>runCommand(r -> new SessionEntity.BeginTurn("turn-4", 2_000, past,
        r));
    LlmException refused = (LlmException) late.reply().getError();
    assertEquals(ErrorKind.TIMEOUT, refused.kind());
    assertTrue(refused.isRetryable());
    var next = entity.<StatusReply<SessionEntity.TurnStarted>>runCommand(r -> new SessionEntity.BeginTurn("turn-5", 2_001,
        System.currentTimeMillis() + 60_000, r));
    assertTrue(next.reply().isSuccess(), "the late turn left the session free: " + next.reply());
  }

  @Test
  void aCachedReplyAddsNothingToTheTotals() {
    entity.<StatusReply<SessionState.Active>>runCommand(r -> new SessionEntity.Create("", "m/echo", null, Map.of(), List.of(), 1, null, r));
    String turn = entity.<StatusReply<SessionEntity.TurnStarted>>runCommand(r -> new SessionEntity.BeginTurn("turn-6", 2, Long.MAX_VALUE, r))
        .reply().getValue().turnId();
    StoredMessage cached = reply("from cache", 3);
    cached = new StoredMessage(cached.role(), cached.content(), null, null, null, null, null, cached.model(),
        cached.usage(), cached.cost(), true, 3);
    StoredMessage c = cached;
    Session s = entity.<StatusReply<SessionState.Active>>runCommand(r -> new SessionEntity.CompleteTurn(turn,
        List.of(user("q", 2)), c, r)).reply().getValue().toSession();
    assertEquals(0, s.usage().totalTokens());
    assertTrue(s.messages().get(1).fromCache());
    assertEquals(15, s.messages().get(1).usage().totalTokens(), "the reply keeps its own usage");
  }

  @Test
  void deletedSessionsAreGoneAndTheirIdCanBeReused() {
    entity.<StatusReply<SessionState.Active>>runCommand(r -> new SessionEntity.Create("", "m/echo", null, Map.of(), List.of(), 1, null, r));
    var deleted = entity.<StatusReply<Long>>runCommand(r -> new SessionEntity.Delete(2, r));
    assertEquals(2L, deleted.reply().getValue(), "the tombstone's sequence number");
    var get = entity.<StatusReply<SessionState.Active>>runCommand(SessionEntity.Get::new);
    assertEquals(ErrorKind.NOT_FOUND, ((LlmException) get.reply().getError()).kind());
    var again = entity.<StatusReply<SessionState.Active>>runCommand(r -> new SessionEntity.Create("again", "m/echo", null,
        Map.of(), List.of(), 3, null, r));
    assertEquals("again", again.reply().getValue().name());
    assertEquals(0, again.reply().getValue().messages().size());
  }

  @Test
  void updatesPersistOnlyWhatChanged() {
    entity.<StatusReply<SessionState.Active>>runCommand(r -> new SessionEntity.Create("a", "m/echo", "smart", Map.of(), List.of(),
        1, null, r));
    var same = entity.<StatusReply<SessionState.Active>>runCommand(r -> new SessionEntity.Update(null, "m/echo", null, null, 2, r));
    assertTrue(same.hasNoEvents());
    var changed = entity.<StatusReply<SessionState.Active>>runCommand(r -> new SessionEntity.Update("b", "m/other", Map.of("x", "y"),
        "", 3, r));
    assertEquals(List.of(SessionEvent.ModelChanged.class, SessionEvent.MetadataChanged.class),
        changed.events().stream().map(Object::getClass).toList());
    Session s = changed.reply().getValue().toSession();
    assertEquals("b", s.name());
    assertEquals("m/other", s.model());
    assertEquals(null, s.contextStrategy());
  }

  @Test
  void aTurnRecordedAgainIsKeptOnceAlsoAfterTheSessionRecoveredFromTheJournal() {
    entity.<StatusReply<SessionState.Active>>runCommand(r -> new SessionEntity.Create("", "m/echo", null, Map.of(),
        List.of(), 1, null, r));
    entity.<StatusReply<SessionEntity.TurnStarted>>runCommand(r -> new SessionEntity.BeginTurn("t-a", 2,
        Long.MAX_VALUE, r));
    var recorded = entity.<StatusReply<SessionState.Active>>runCommand(r -> new SessionEntity.CompleteTurn("t-a",
        List.of(user("eins", 2)), reply("one", 3), r));
    assertEquals(2, recorded.events().size());
    // Its answer was lost (the session's shard moved): the caller sends the same turn again.
    var again = entity.<StatusReply<SessionState.Active>>runCommand(r -> new SessionEntity.CompleteTurn("t-a",
        List.of(user("eins", 2)), reply("one", 3), r));
    assertTrue(again.hasNoEvents(), "recorded once: " + again.events());
    assertEquals(2, again.reply().getValue().messages().size());
    assertEquals(15, again.reply().getValue().toSession().usage().totalTokens(), "its usage counted once");

    // Another turn ran meanwhile, then the session moved to another node (recovered from the journal).
    entity.<StatusReply<SessionEntity.TurnStarted>>runCommand(r -> new SessionEntity.BeginTurn("t-b", 4,
        Long.MAX_VALUE, r));
    entity.<StatusReply<SessionState.Active>>runCommand(r -> new SessionEntity.CompleteTurn("t-b",
        List.of(user("zwei", 4)), reply("two", 5), r));
    entity.restart();
    var late = entity.<StatusReply<SessionState.Active>>runCommand(r -> new SessionEntity.CompleteTurn("t-a",
        List.of(user("eins", 2)), reply("one", 3), r));
    assertTrue(late.hasNoEvents());
    assertEquals(List.of("eins", "one", "zwei", "two"), late.reply().getValue().messages().stream()
        .map(StoredMessage::content).toList());
    // A turn already recorded cannot reserve the session again either.
    var begun = entity.<StatusReply<SessionEntity.TurnStarted>>runCommand(r -> new SessionEntity.BeginTurn("t-a", 6,
        Long.MAX_VALUE, r));
    assertEquals(ErrorKind.CONFLICT, ((LlmException) begun.reply().getError()).kind());
  }

  @Test
  void aBeginTurnSentAgainForTheTurnHoldingTheSessionIsGrantedAgainAndOthersStillWait() {
    entity.<StatusReply<SessionState.Active>>runCommand(r -> new SessionEntity.Create("", "m/echo", null, Map.of(),
        List.of(), 1, null, r));
    var first = entity.<StatusReply<SessionEntity.TurnStarted>>runCommand(r -> new SessionEntity.BeginTurn("t-a", 2,
        Long.MAX_VALUE, r));
    assertEquals("t-a", first.reply().getValue().turnId());
    var repeat = entity.<StatusReply<SessionEntity.TurnStarted>>runCommand(r -> new SessionEntity.BeginTurn("t-a", 2,
        Long.MAX_VALUE, r));
    assertEquals("t-a", repeat.reply().getValue().turnId(), "the answer that was lost, given again");
    var other = entity.<StatusReply<SessionEntity.TurnStarted>>runCommand(r -> new SessionEntity.BeginTurn("t-b", 3,
        Long.MAX_VALUE, r));
    assertEquals(ErrorKind.CONFLICT, ((LlmException) other.reply().getError()).kind());
  }

  @Test
  void onlyTheLastTurnIdsAreKept() {
    entity.<StatusReply<SessionState.Active>>runCommand(r -> new SessionEntity.Create("", "m/echo", null, Map.of(),
        List.of(), 1, null, r));
    SessionState.Active last = null;
    for (int i = 0; i < SessionState.Active.RECENT_TURNS + 5; i++) {
      String t = "t-" + i;
      long at = 10 + i;
      entity.<StatusReply<SessionEntity.TurnStarted>>runCommand(r -> new SessionEntity.BeginTurn(t, at, Long.MAX_VALUE,
          r));
      last = entity.<StatusReply<SessionState.Active>>runCommand(r -> new SessionEntity.CompleteTurn(t,
          List.of(user("q", at)), reply("a", at), r)).reply().getValue();
    }
    assertEquals(SessionState.Active.RECENT_TURNS, last.recentTurns().size());
    assertEquals("t-" + (SessionState.Active.RECENT_TURNS + 4), last.recentTurns().get(last.recentTurns().size() - 1));
    assertEquals(last.recentTurns(), ((SessionState.Active) entity.restart().state()).recentTurns());
  }
}
