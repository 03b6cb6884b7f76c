package io.pekkollm.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.pekkollm.model.ErrorKind;
import io.pekkollm.provider.mock.MockProvider;
import io.pekkollm.testkit.TestConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProviderActorTest {
  private final ActorTestKit kit = ActorTestKit.create(TestConfig.of(""));

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
  }

  private static ProviderSettings settings(String name, int maxInFlight, String enabled) {
    // No admission queue: a call beyond max-in-flight is refused at once.
    return ProviderSettings.create(name, TestConfig.of("x { kind = mock, enabled = " + enabled
        + ", max-in-flight = " + maxInFlight + ", rate-limit.queue-size = 0 }\n").getConfig("x")
        .withFallback(TestConfig.of("").getConfig("pekko-llm.provider-defaults")));
  }

  @Test
  void admitsUpToMaxInFlightThenRefusesUntilAPermitIsReleased() {
    ActorRef<ProviderActor.Command> actor = kit.spawn(ProviderActor.create(settings("a", 2, "on"),
        (s, sys) -> MockProvider.builder("a").build()));
    TestProbe<ProviderActor.Admission> probe = kit.createTestProbe();
    actor.tell(new ProviderActor.Acquire(probe.ref()));
    ProviderActor.Granted first = probe.expectMessageClass(ProviderActor.Granted.class);
    actor.tell(new ProviderActor.Acquire(probe.ref()));
    probe.expectMessageClass(ProviderActor.Granted.class);
    actor.tell(new ProviderActor.Acquire(probe.ref()));
    ProviderActor.Denied denied = probe.expectMessageClass(ProviderActor.Denied.class);
    assertEquals(ErrorKind.RATE_LIMITED, denied.error().kind());
    actor.tell(new ProviderActor.Release(first.permit(), 1_000_000, ErrorKind.SERVER_ERROR, "boom", false));
    actor.tell(new ProviderActor.Acquire(probe.ref()));
    probe.expectMessageClass(ProviderActor.Granted.class);

    TestProbe<ProviderStatus> status = kit.createTestProbe();
    actor.tell(new ProviderActor.GetStatus(status.ref()));
    ProviderStatus s = status.receiveMessage();
    assertEquals(2, s.inFlight());
    assertEquals(3, s.requests());
    assertEquals(1, s.failures());
    assertEquals("boom", s.lastError());
  }

  @Test
  void cancellationsAreNotCountedAsFailuresAndDoubleReleaseIsHarmless() {
    ActorRef<ProviderActor.Command> actor = kit.spawn(ProviderActor.create(settings("b", 5, "on"),
        (s, sys) -> MockProvider.builder("b").build()));
    TestProbe<ProviderActor.Admission> probe = kit.createTestProbe();
    actor.tell(new ProviderActor.Acquire(probe.ref()));
    long permit = probe.expectMessageClass(ProviderActor.Granted.class).permit();
    actor.tell(new ProviderActor.Release(permit, 10, ErrorKind.CANCELLED, "cancelled", true));
    actor.tell(new ProviderActor.Release(permit, 10, ErrorKind.SERVER_ERROR, "late", false));
    TestProbe<ProviderStatus> status = kit.createTestProbe();
    actor.tell(new ProviderActor.GetStatus(status.ref()));
    ProviderStatus s = status.receiveMessage();
    assertEquals(0, s.inFlight());
    assertEquals(0, s.failures());
  }

  @Test
  void disabledProviderDeniesWithTheReason() {
    ActorRef<ProviderActor.Command> actor = kit.spawn(ProviderActor.create(settings("c", 5, "off"),
        (s, sys) -> {
          throw new AssertionError("a disabled provider is never built");
        }));
    TestProbe<ProviderActor.Admission> probe = kit.createTestProbe();
    actor.tell(new ProviderActor.Acquire(probe.ref()));
    ProviderActor.Denied d = probe.expectMessageClass(ProviderActor.Denied.class);
    assertEquals(ErrorKind.AUTHENTICATION, d.error().kind());
  }

  @Test
  void aProviderThatFailsToStartIsRestartedWithBackoffAndTheOthersKeepServing() {
    AtomicInteger attempts = new AtomicInteger();
    ProviderFactory flaky = (s, sys) -> {
      if (attempts.incrementAndGet() < 3) {
        throw new IllegalStateException("pool not ready, attempt " + attempts.get());
      }
      return MockProvider.builder("flaky").build();
    };
    ActorRef<ProviderSupervisor.Command> sup = kit.spawn(ProviderSupervisor.create(List.of(
        new ProviderSupervisor.Spec(settings("flaky", 5, "on"), flaky),
        new ProviderSupervisor.Spec(settings("steady", 5, "on"), (s, sys) -> MockProvider.builder("steady").build())),
        Duration.ofMillis(10), Duration.ofMillis(50)));
    TestProbe<ProviderSupervisor.Providers> refs = kit.createTestProbe();
    sup.tell(new ProviderSupervisor.GetProviders(refs.ref()));
    Map<String, ActorRef<ProviderActor.Command>> providers = refs.receiveMessage().refs();

    TestProbe<ProviderActor.Admission> probe = kit.createTestProbe();
    providers.get("steady").tell(new ProviderActor.Acquire(probe.ref()));
    assertInstanceOf(ProviderActor.Granted.class, probe.receiveMessage());
    // The flaky one's messages wait in the backoff stash and are served once a restart succeeds.
    providers.get("flaky").tell(new ProviderActor.Acquire(probe.ref()));
    ProviderActor.Granted g = probe.expectMessageClass(ProviderActor.Granted.class, Duration.ofSeconds(5));
    assertEquals("flaky", g.provider().name());
    assertEquals(3, attempts.get());
  }
}
