package io.pekkollm.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.ProviderException;
import io.pekkollm.provider.mock.MockProvider;
import io.pekkollm.testkit.TestConfig;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The provider actor's circuit breakers, on manual time: opening, failing fast, probing, closing. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ProviderBreakerTest {
  private final ActorTestKit kit = ActorTestKit.create("breaker", ManualTime.config().withFallback(TestConfig.of("")));
  private final ManualTime time = ManualTime.get(kit.system());
  private final AtomicLong clock = new AtomicLong(1_000_000_000L);
  private int actors;

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
  }

  private ActorRef<ProviderActor.Command> spawn(String breaker) {
    String name = "p" + (++actors);
    ProviderSettings settings = ProviderSettings.create(name, TestConfig.of("x { kind = mock, enabled = on\n"
        + "circuit-breaker { enabled = on, max-failures = 3, reset-timeout = 10s, max-reset-timeout = 60s\n"
        + breaker + " } }").getConfig("x").withFallback(TestConfig.of("").getConfig("pekko-llm.provider-defaults")));
    return kit.spawn(ProviderActor.create(settings, (s, sys) -> MockProvider.builder(name).build(),
        new ProviderLoad(name), clock::get));
  }

  private void advance(Duration d) {
    clock.addAndGet(d.toNanos());
    time.timePasses(d);
  }

  private ProviderActor.Admission acquire(ActorRef<ProviderActor.Command> actor, String model) {
    TestProbe<ProviderActor.Admission> probe = kit.createTestProbe();
    actor.tell(new ProviderActor.Acquire(model, 0, probe.ref()));
    return probe.receiveMessage();
  }

  private long granted(ActorRef<ProviderActor.Command> actor, String model) {
    ProviderActor.Admission a = acquire(actor, model);
    assertTrue(a instanceof ProviderActor.Granted, "expected a grant, got " + a);
    return ((ProviderActor.Granted) a).permit();
  }

  private ProviderException denied(ActorRef<ProviderActor.Command> actor, String model) {
    ProviderActor.Admission a = acquire(actor, model);
    assertTrue(a instanceof ProviderActor.Denied, "expected a refusal, got " + a);
    return (ProviderException) ((ProviderActor.Denied) a).error();
  }

  private static void release(ActorRef<ProviderActor.Command> actor, long permit, ErrorKind error) {
    actor.tell(new ProviderActor.Release(permit, 1_000_000, error, error == null ? null : "boom " + error, false));
  }

  private ProviderStatus status(ActorRef<ProviderActor.Command> actor) {
    TestProbe<ProviderStatus> probe = kit.createTestProbe();
    actor.tell(new ProviderActor.GetStatus(probe.ref()));
    return probe.receiveMessage();
  }

  private void fail(ActorRef<ProviderActor.Command> actor, String model, int times) {
    for (int i = 0; i < times; i++) {
      release(actor, granted(actor, model), ErrorKind.SERVER_ERROR);
    }
  }

  @Test
  void opensAfterConsecutiveFailuresFailsFastHalfOpensForOneProbeAndCloses() {
    ActorRef<ProviderActor.Command> actor = spawn("");
    fail(actor, "m", 3);
    ProviderException open = denied(actor, "m");
    assertEquals(ErrorKind.OVERLOADED, open.kind());
    assertEquals("circuit_open", open.errorCode());
    assertEquals(503, open.httpStatus());
    assertTrue(open.getMessage().contains("provider '" + open.provider() + "'"), open.getMessage());
    assertEquals(Duration.ofSeconds(10), open.retryAfter().orElseThrow());
    assertEquals("open", status(actor).breaker());

    advance(Duration.ofSeconds(4));
    assertEquals(Duration.ofSeconds(6), denied(actor, "m").retryAfter().orElseThrow());

    advance(Duration.ofSeconds(6));
    assertEquals("half-open", status(actor).breaker());
    long probe = granted(actor, "m");
    assertEquals("circuit_open", denied(actor, "m").errorCode(), "one probe at a time");

    // The probe fails: open again, for twice as long.
    release(actor, probe, ErrorKind.TIMEOUT);
    assertEquals(Duration.ofSeconds(20), denied(actor, "m").retryAfter().orElseThrow());
    advance(Duration.ofSeconds(20));
    release(actor, granted(actor, "m"), null);
    assertEquals("closed", status(actor).breaker());
    granted(actor, "m");
    granted(actor, "m");
  }

  @Test
  void errorsTheCallerCausedAndRateLimitsDoNotCountAndASuccessResetsTheCount() {
    ActorRef<ProviderActor.Command> actor = spawn("failure-rate-threshold = 0");
    for (ErrorKind caller : List.of(ErrorKind.INVALID_REQUEST, ErrorKind.CONTEXT_LENGTH_EXCEEDED,
        ErrorKind.CONTENT_FILTERED, ErrorKind.MODEL_NOT_FOUND, ErrorKind.AUTHENTICATION, ErrorKind.RATE_LIMITED,
        ErrorKind.QUOTA_EXCEEDED, ErrorKind.REQUEST_TOO_LARGE)) {
      release(actor, granted(actor, "m"), caller);
    }
    fail(actor, "m", 2);
    release(actor, granted(actor, "m"), null);
    fail(actor, "m", 2);
    // A cancelled call says nothing either way.
    actor.tell(new ProviderActor.Release(granted(actor, "m"), 10, ErrorKind.CANCELLED, "gone", true));
    granted(actor, "m");
    assertEquals("closed", status(actor).breaker());
    fail(actor, "m", 1);
    assertEquals("open", status(actor).breaker());
  }

  @Test
  void opensOnAFailureRateEvenWithoutConsecutiveFailures() {
    ActorRef<ProviderActor.Command> actor = spawn("max-failures = 5, failure-rate-threshold = 0.5, "
        + "failure-rate-window = 10, failure-rate-min-calls = 10");
    for (int i = 0; i < 9; i++) {
      release(actor, granted(actor, "m"), i % 2 == 0 ? null : ErrorKind.SERVER_ERROR);
      assertEquals("closed", status(actor).breaker(), "after " + (i + 1) + " calls");
    }
    // Tenth call: five failures in ten.
    release(actor, granted(actor, "m"), ErrorKind.NETWORK);
    assertEquals("open", status(actor).breaker());
    assertEquals(0.5, status(actor).recentErrorRate());
  }

  @Test
  void perModelBreakersOpenOnlyForTheFailingModel() {
    ActorRef<ProviderActor.Command> actor = spawn("per-model = on");
    fail(actor, "bad", 3);
    ProviderException open = denied(actor, "bad");
    assertTrue(open.getMessage().contains("/bad'"), open.getMessage());
    granted(actor, "good");
    ProviderStatus s = status(actor);
    assertEquals(List.of("bad"), s.openModelBreakers());
    assertEquals("closed", s.breaker());
  }

  @Test
  void callsStartedBeforeTheBreakerOpenedDoNotDecideTheProbe() {
    ActorRef<ProviderActor.Command> actor = spawn("");
    long straggler = granted(actor, "m");
    fail(actor, "m", 3);
    advance(Duration.ofSeconds(10));
    long probe = granted(actor, "m");
    // The old call ends while the probe runs: it must neither close nor reopen the breaker.
    release(actor, straggler, null);
    assertEquals("half-open", status(actor).breaker());
    release(actor, probe, null);
    assertEquals("closed", status(actor).breaker());
  }
}
