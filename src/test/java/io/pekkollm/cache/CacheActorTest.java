package io.pekkollm.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.Usage;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The cache actor alone, on manual time: TTL expiry, LRU eviction by count and by bytes, what is never stored. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CacheActorTest {
  private final ActorTestKit kit = ActorTestKit.create(ManualTime.config().withFallback(
      com.typesafe.config.ConfigFactory.parseString("pekko.loglevel = WARNING")));
  private final ManualTime time = ManualTime.get(kit.system());

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
  }

  private static CacheSettings settings(int maxEntries, long maxBytes) {
    return new CacheSettings(CacheSettings.Mode.OPT_IN, Duration.ofMinutes(5), Duration.ofHours(1), maxEntries,
        maxBytes, maxBytes, Duration.ofSeconds(3));
  }

  private record Cache(ActorRef<CacheActor.Command> ref, AtomicReference<CacheStats> stats,
      TestProbe<CacheActor.LookupResult> probe) {}

  private Cache start(CacheSettings s) {
    AtomicReference<CacheStats> stats = new AtomicReference<>();
    return new Cache(kit.spawn(CacheActor.create(s, Clock.systemUTC(), stats)), stats,
        kit.createTestProbe(CacheActor.LookupResult.class));
  }

  private static List<ChatChunk> answer(String text) {
    return List.of(ChatChunk.text(text), ChatChunk.finish(FinishReason.STOP, Usage.of(3, 2)));
  }

  private CacheActor.LookupResult lookup(Cache c, String key) {
    c.ref().tell(new CacheActor.Lookup(key, c.probe().getRef()));
    return c.probe().receiveMessage();
  }

  /** Looks up {@code key} (a miss), completes the call with {@code chunks}, and waits until it is stored. */
  private void store(Cache c, String key, List<ChatChunk> chunks, Duration ttl) {
    SharedCall call = assertInstanceOf(CacheActor.Lead.class, lookup(c, key)).call();
    chunks.forEach(call::add);
    call.finish();
    TestProbe<org.apache.pekko.Done> stored = kit.createTestProbe();
    c.ref().tell(new CacheActor.Completed(key, "mock/echo", call, ttl, stored.getRef()));
    stored.receiveMessage();
  }

  @Test
  void entriesExpireWhenTheirTtlPassesOnTheScheduler() {
    Cache c = start(settings(100, 1 << 20));
    store(c, "a", answer("first"), Duration.ofSeconds(30));
    store(c, "b", answer("second"), Duration.ofMinutes(10));
    assertEquals("first", assertInstanceOf(CacheActor.Hit.class, lookup(c, "a")).chunks().get(0).textDelta());

    time.timePasses(Duration.ofSeconds(29));
    assertInstanceOf(CacheActor.Hit.class, lookup(c, "a"), "still fresh a second before its TTL");
    time.timePasses(Duration.ofSeconds(2));
    assertInstanceOf(CacheActor.Lead.class, lookup(c, "a"), "expired: the next caller goes upstream");
    assertInstanceOf(CacheActor.Hit.class, lookup(c, "b"), "a longer TTL is still alive");

    CacheStats s = c.stats().get();
    assertEquals(1, s.expirations());
    assertEquals(1, s.entries());
    assertEquals(3, s.hits());
    assertEquals(3, s.misses());
  }

  @Test
  void evictsTheLeastRecentlyUsedEntryBeyondMaxEntries() {
    Cache c = start(settings(2, 1 << 20));
    store(c, "a", answer("a"), Duration.ofMinutes(1));
    store(c, "b", answer("b"), Duration.ofMinutes(1));
    assertInstanceOf(CacheActor.Hit.class, lookup(c, "a"), "touching a makes b the least recently used");
    store(c, "c", answer("c"), Duration.ofMinutes(1));

    assertInstanceOf(CacheActor.Hit.class, lookup(c, "a"));
    assertInstanceOf(CacheActor.Hit.class, lookup(c, "c"));
    assertInstanceOf(CacheActor.Lead.class, lookup(c, "b"), "b was evicted");
    assertEquals(1, c.stats().get().evictions());
    assertEquals(2, c.stats().get().entries());
  }

  @Test
  void evictsByBytesAndNeverStoresAnAnswerLargerThanTheBound() {
    long one = CacheKeys.estimateBytes("k1", answer("x".repeat(1000)));
    Cache c = start(settings(100, one * 2 + 10));
    store(c, "k1", answer("x".repeat(1000)), Duration.ofMinutes(1));
    store(c, "k2", answer("y".repeat(1000)), Duration.ofMinutes(1));
    assertEquals(2, c.stats().get().entries());
    assertTrue(c.stats().get().bytes() <= one * 2 + 10);
    store(c, "k3", answer("z".repeat(1000)), Duration.ofMinutes(1));
    assertEquals(2, c.stats().get().entries(), "the oldest made room");
    assertEquals(1, c.stats().get().evictions());
    assertInstanceOf(CacheActor.Lead.class, lookup(c, "k1"));

    store(c, "huge", answer("h".repeat(100_000)), Duration.ofMinutes(1));
    assertInstanceOf(CacheActor.Lead.class, lookup(c, "huge"), "too large to keep, served but not stored");
  }

  @Test
  void neverStoresFailedIncompleteOrErrorAnswers() {
    Cache c = start(settings(100, 1 << 20));
    SharedCall failed = assertInstanceOf(CacheActor.Lead.class, lookup(c, "failed")).call();
    failed.add(ChatChunk.text("partial"));
    failed.fail(new LlmException(ErrorKind.MID_STREAM, "cut"));
    TestProbe<org.apache.pekko.Done> forgotten = kit.createTestProbe();
    c.ref().tell(new CacheActor.Failed("failed", failed, forgotten.getRef()));
    forgotten.receiveMessage();
    assertInstanceOf(CacheActor.Lead.class, lookup(c, "failed"));

    store(c, "no-finish", List.of(ChatChunk.text("cut short")), Duration.ofMinutes(1));
    assertInstanceOf(CacheActor.Lead.class, lookup(c, "no-finish"), "an answer without a finish reason is incomplete");
    store(c, "error-finish", List.of(ChatChunk.text("x"), ChatChunk.finish(FinishReason.ERROR, null)),
        Duration.ofMinutes(1));
    assertInstanceOf(CacheActor.Lead.class, lookup(c, "error-finish"));
    assertEquals(0, c.stats().get().stores());
  }

  @Test
  void identicalLookupsWhileACallRunsFollowIt() {
    Cache c = start(settings(100, 1 << 20));
    SharedCall lead = assertInstanceOf(CacheActor.Lead.class, lookup(c, "k")).call();
    assertEquals(lead, assertInstanceOf(CacheActor.Follow.class, lookup(c, "k")).call());
    assertEquals(lead, assertInstanceOf(CacheActor.Follow.class, lookup(c, "k")).call());
    assertEquals(2, c.stats().get().coalesced());
    assertEquals(1, c.stats().get().misses());
  }

  @Test
  void deleteAndClearRemoveEntries() {
    Cache c = start(settings(100, 1 << 20));
    store(c, "a", answer("a"), Duration.ofMinutes(1));
    store(c, "b", answer("b"), Duration.ofMinutes(1));
    TestProbe<Boolean> deleted = kit.createTestProbe();
    c.ref().tell(new CacheActor.Delete("a", deleted.getRef()));
    assertTrue(deleted.receiveMessage());
    c.ref().tell(new CacheActor.Delete("a", deleted.getRef()));
    assertEquals(false, deleted.receiveMessage());
    TestProbe<List<CacheEntryInfo>> listed = kit.createTestProbe();
    c.ref().tell(new CacheActor.ListEntries(10, listed.getRef()));
    assertEquals(List.of("b"), listed.receiveMessage().stream().map(CacheEntryInfo::key).toList());
    TestProbe<Integer> cleared = kit.createTestProbe();
    c.ref().tell(new CacheActor.Clear(cleared.getRef()));
    assertEquals(1, cleared.receiveMessage());
    assertEquals(0, c.stats().get().entries());
    assertEquals(0, c.stats().get().bytes());
    // A cleared entry's timer is gone too: nothing expires later.
    time.timePasses(Duration.ofMinutes(2));
    assertEquals(0, c.stats().get().expirations());
  }
}
