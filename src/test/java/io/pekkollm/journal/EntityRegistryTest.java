package io.pekkollm.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class EntityRegistryTest {

  private static final ActorTestKit KIT = ActorTestKit.create();

  @AfterAll
  static void shutdown() {
    KIT.shutdownTestKit();
  }

  sealed interface Cmd {}

  /** Replies with the entity's id and incarnation number. */
  record Who(ActorRef<String> replyTo) implements Cmd {}

  /** Fails the entity for good, as a journal failure fails a stream entity (whatever the registry's restarts). */
  record Crash() implements Cmd {}

  private static final AtomicInteger INCARNATIONS = new AtomicInteger();
  /** The last error an entity failed with, weakly: the test must not keep it alive itself. */
  private static final AtomicReference<WeakReference<Throwable>> LAST_ERROR = new AtomicReference<>();

  private static Behavior<Cmd> entity(String id) {
    Behavior<Cmd> running = Behaviors.setup(ctx -> {
      int incarnation = INCARNATIONS.incrementAndGet();
      return Behaviors.receive(Cmd.class)
          .onMessage(Who.class, w -> {
            w.replyTo().tell(id + "#" + incarnation);
            return Behaviors.same();
          })
          .onMessage(Crash.class, c -> {
            IllegalStateException e = new IllegalStateException("entity " + id + " crashed");
            LAST_ERROR.set(new WeakReference<>(e));
            throw e;
          })
          .build();
    });
    // Like an EventSourcedBehavior on a JournalFailureException (its own supervision stops it): the entity
    // fails, the registry's restart-with-backoff around it does not apply, and the failure reaches the registry.
    return Behaviors.supervise(running).onFailure(IllegalStateException.class, SupervisorStrategy.stop());
  }

  /**
   * Asks entity {@code id} who it is until an answer other than {@code not} comes: commands sent before the
   * registry has seen an old incarnation stop go to that incarnation and are lost, so this retries.
   */
  private static String ask(ActorRef<EntityRegistry.Command<Cmd>> registry, String id, String not) {
    TestProbe<String> probe = KIT.createTestProbe();
    for (int i = 0; i < 100; i++) {
      registry.tell(new EntityRegistry.Envelope<>(id, new Who(probe.getRef())));
      try {
        String r = probe.receiveMessage(Duration.ofMillis(300));
        if (!r.equals(not)) {
          return r;
        }
      } catch (AssertionError lost) {
        // went to the stopped incarnation: try again
      }
    }
    throw new AssertionError("no answer from a new incarnation of " + id);
  }

  @Test
  void aFailedEntityIsReplacedAndItsErrorIsNotKept() throws InterruptedException {
    ActorRef<EntityRegistry.Command<Cmd>> registry =
        KIT.spawn(EntityRegistry.<Cmd>create("e-", (id, reg) -> entity(id)), "registry");
    String first = ask(registry, "a", null);
    registry.tell(new EntityRegistry.Envelope<>("a", new Crash()));
    String second = ask(registry, "a", first);
    assertNotEquals(first, second);
    assertEquals("a#", second.substring(0, 2));

    // The registry has seen the crashed entity stop (it started a new one): nothing may keep its error now.
    WeakReference<Throwable> error = LAST_ERROR.get();
    for (int i = 0; i < 20 && error.get() != null; i++) {
      System.gc();
      Thread.sleep(50);
    }
    assertNull(error.get(), "the crashed entity's error (and its stack trace) is still reachable");
  }

  /** Ids a caller can put in a URL path, each of which made the registry's spawn throw InvalidActorNameException. */
  static final java.util.List<String> ODD_IDS = java.util.List.of("a b", "\u00e9", "$abc", "a?b", "../../x", "a/b",
      "", "%41", "a+b", "x".repeat(300));

  @Test
  void anyStringIsAnEntityId() {
    ActorRef<EntityRegistry.Command<Cmd>> registry =
        KIT.spawn(EntityRegistry.<Cmd>create("odd-", (id, reg) -> entity(id)), "odd-registry");
    for (String id : ODD_IDS) {
      assertEquals(id + "#", ask(registry, id, null).replaceAll("#\\d+$", "#"), "entity " + id);
    }
    assertEquals("plain#", ask(registry, "plain", null).replaceAll("#\\d+$", "#"));
  }

  @Test
  void distinctIdsGetDistinctActorNames() {
    java.util.Set<String> names = new java.util.HashSet<>();
    for (String id : ODD_IDS) {
      String name = EntityRegistry.actorName("stream-", id, 1);
      assertEquals(true, org.apache.pekko.actor.ActorPath.isValidPathElement(name), name);
      names.add(name);
    }
    assertEquals(ODD_IDS.size(), names.size());
  }

  @Test
  void aFailingRegistryRestartsAndKeepsServing() {
    // The factory throws for one id: the registry itself fails (as it did on an invalid actor name).
    ActorRef<EntityRegistry.Command<Cmd>> registry = KIT.spawn(EntityRegistry.<Cmd>create("f-", (id, reg) -> {
      if (id.equals("boom")) {
        throw new IllegalArgumentException("no entity for " + id);
      }
      return entity(id);
    }), "failing-registry");
    ask(registry, "a", null);
    registry.tell(new EntityRegistry.Envelope<>("boom", new Crash()));
    assertEquals("b#", ask(registry, "b", null).replaceAll("#\\d+$", "#"));
    TestProbe<org.apache.pekko.Done> ping = KIT.createTestProbe();
    registry.tell(new EntityRegistry.Ping<>(ping.getRef()));
    ping.expectMessage(org.apache.pekko.Done.getInstance());
  }
}
