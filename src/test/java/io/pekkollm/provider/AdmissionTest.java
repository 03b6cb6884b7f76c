package io.pekkollm.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.ModelInfo;
import io.pekkollm.model.ProviderException;
import io.pekkollm.provider.mock.MockProvider;
import io.pekkollm.resilience.RateLimitHeaders;
import io.pekkollm.testkit.TestConfig;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Admission by the provider actor, on manual time: the bounded queue, its timeout, and the rate limits. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdmissionTest {
  private final ActorTestKit kit = ActorTestKit.create("admission", ManualTime.config().withFallback(TestConfig.of("")));
  private final ManualTime time = ManualTime.get(kit.system());
  private final AtomicLong clock = new AtomicLong(1_000_000_000L);
  private int actors;

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
  }

  private ActorRef<ProviderActor.Command> spawn(String settings, ProviderFactory factory) {
    String name = "a" + (++actors);
    ProviderSettings ps = ProviderSettings.create(name, TestConfig.of("x { kind = mock, enabled = on\n" + settings
        + " }").getConfig("x").withFallback(TestConfig.of("").getConfig("pekko-llm.provider-defaults")));
    return kit.spawn(ProviderActor.create(ps, factory, new ProviderLoad(name), clock::get));
  }

  private ActorRef<ProviderActor.Command> spawn(String settings) {
    return spawn(settings, (s, sys) -> MockProvider.builder(s.name()).build());
  }

  private void advance(Duration d) {
    clock.addAndGet(d.toNanos());
    time.timePasses(d);
  }

  private TestProbe<ProviderActor.Admission> ask(ActorRef<ProviderActor.Command> actor, String model, long tokens) {
    TestProbe<ProviderActor.Admission> probe = kit.createTestProbe();
    actor.tell(new ProviderActor.Acquire(model, tokens, probe.ref()));
    return probe;
  }

  private static long granted(TestProbe<ProviderActor.Admission> probe) {
    return probe.expectMessageClass(ProviderActor.Granted.class).permit();
  }

  private static ProviderException denied(TestProbe<ProviderActor.Admission> probe) {
    return (ProviderException) probe.expectMessageClass(ProviderActor.Denied.class).error();
  }

  private static void release(ActorRef<ProviderActor.Command> actor, long permit, long tokensUsed) {
    actor.tell(new ProviderActor.Release(permit, 1_000_000, -1, null, null, null, tokensUsed, false));
  }

  private static void quiet(TestProbe<ProviderActor.Admission> probe) {
    probe.expectNoMessage(Duration.ofMillis(50));
  }

  @Test
  void callsBeyondMaxInFlightWaitInOrderAndAFullQueueIsRefusedWithRetryAfter() {
    ActorRef<ProviderActor.Command> actor = spawn("max-in-flight = 1, rate-limit { queue-size = 2, queue-timeout = 5s }");
    long first = granted(ask(actor, "m", 0));
    TestProbe<ProviderActor.Admission> second = ask(actor, "m", 0);
    TestProbe<ProviderActor.Admission> third = ask(actor, "m", 0);
    ProviderException full = denied(ask(actor, "m", 0));
    assertEquals(ErrorKind.RATE_LIMITED, full.kind());
    assertEquals("queue_full", full.errorCode());
    assertEquals(429, full.httpStatus());
    assertTrue(full.retryAfter().isPresent());
    assertTrue(full.getMessage().contains("max-in-flight 1 reached"), full.getMessage());
    quiet(second);

    release(actor, first, 0);
    long next = granted(second);
    quiet(third);
    release(actor, next, 0);
    granted(third);
  }

  @Test
  void aCallThatWaitsLongerThanTheQueueTimeoutIsRefused() {
    ActorRef<ProviderActor.Command> actor = spawn("max-in-flight = 1, rate-limit { queue-size = 5, queue-timeout = 5s }");
    granted(ask(actor, "m", 0));
    TestProbe<ProviderActor.Admission> waiting = ask(actor, "m", 0);
    quiet(waiting);
    advance(Duration.ofMillis(4999));
    quiet(waiting);
    advance(Duration.ofMillis(1));
    ProviderException timedOut = denied(waiting);
    assertEquals("queue_timeout", timedOut.errorCode());
    assertEquals(429, timedOut.httpStatus());
  }

  @Test
  void requestsPerMinuteAreSpreadOverTheMinute() {
    ActorRef<ProviderActor.Command> actor = spawn("rate-limit.requests-per-minute = 4");
    for (int i = 0; i < 4; i++) {
      granted(ask(actor, "m", 0));
    }
    // One more every 15 s.
    TestProbe<ProviderActor.Admission> fifth = ask(actor, "m", 0);
    quiet(fifth);
    advance(Duration.ofSeconds(14));
    quiet(fifth);
    advance(Duration.ofSeconds(1));
    granted(fifth);
  }

  @Test
  void tokensPerMinuteAreCorrectedByTheReportedUsage() {
    ActorRef<ProviderActor.Command> actor = spawn("rate-limit.tokens-per-minute = 1000");
    long big = granted(ask(actor, "m", 800));
    TestProbe<ProviderActor.Admission> next = ask(actor, "m", 800);
    quiet(next);
    // The first call used far less than estimated: the difference comes back at once.
    release(actor, big, 100);
    granted(next);
  }

  @Test
  void whatTheProviderReportsIsObeyedPerModel() {
    AtomicReference<BiConsumer<String, RateLimitHeaders.Learned>> observer = new AtomicReference<>();
    ActorRef<ProviderActor.Command> actor = spawn("rate-limit.learn-from-headers = on", (s, sys) ->
        new ObservableProvider(s.name(), observer));
    granted(ask(actor, "m", 0));
    // x-ratelimit-remaining-requests: 0, x-ratelimit-reset-requests: 2s
    observer.get().accept("m", new RateLimitHeaders.Learned(0, Duration.ofSeconds(2), -1, null));
    TestProbe<ProviderActor.Admission> blocked = ask(actor, "m", 0);
    granted(ask(actor, "other", 0));
    quiet(blocked);
    advance(Duration.ofSeconds(2));
    granted(blocked);
  }

  @Test
  void a429sRetryAfterHoldsTheModelAndALongWaitIsRefusedAtOnce() {
    ActorRef<ProviderActor.Command> actor = spawn("rate-limit { learn-from-headers = on, queue-timeout = 2s }");
    long p = granted(ask(actor, "m", 0));
    actor.tell(new ProviderActor.Release(p, 1_000, -1, ErrorKind.RATE_LIMITED, "429", Duration.ofSeconds(3), 0,
        false));
    ProviderException refused = denied(ask(actor, "m", 0));
    assertEquals("local_rate_limit", refused.errorCode());
    assertEquals(Duration.ofSeconds(3), refused.retryAfter().orElseThrow());
    advance(Duration.ofMillis(1500));
    // Now the remaining wait (1.5 s) fits the queue timeout: the call waits instead.
    TestProbe<ProviderActor.Admission> waits = ask(actor, "m", 0);
    quiet(waits);
    advance(Duration.ofMillis(1500));
    granted(waits);
  }

  @Test
  void statusReportsQueueLatencyPercentilesAndTimeToFirstChunk() {
    ActorRef<ProviderActor.Command> actor = spawn("max-in-flight = 1");
    for (int i = 1; i <= 100; i++) {
      long permit = granted(ask(actor, "m", 0));
      actor.tell(new ProviderActor.Release(permit, i * 1_000_000L, i * 100_000L, null, null, null, 0, false));
    }
    granted(ask(actor, "m", 0));
    ask(actor, "m", 0);
    TestProbe<ProviderStatus> probe = kit.createTestProbe();
    actor.tell(new ProviderActor.GetStatus(probe.ref()));
    ProviderStatus s = probe.receiveMessage();
    assertEquals(1, s.queued());
    assertEquals(new ProviderStatus.Percentiles(50, 95, 99, 100), s.latencyMillis());
    assertEquals(9.9, s.timeToFirstChunkMillis().p99(), 1e-9);
    assertEquals(0.0, s.recentErrorRate());
    assertEquals(100, s.recentCalls());
  }

  @Test
  void activeHealthChecksListTheModelsOnTheirInterval() {
    AtomicLong calls = new AtomicLong();
    ActorRef<ProviderActor.Command> actor = spawn("health-check.interval = 10s, circuit-breaker.enabled = on", (s, sys) -> new ObservableProvider(
        s.name(), new AtomicReference<>()) {
      @Override
      public CompletionStage<List<ModelInfo>> listModels() {
        return calls.incrementAndGet() == 1 ? CompletableFuture.completedFuture(List.of())
            : CompletableFuture.failedFuture(new IllegalStateException("models endpoint down"));
      }
    });
    time.timePasses(Duration.ofMillis(1));
    TestProbe<ProviderStatus> probe = kit.createTestProbe();
    probe.awaitAssert(() -> {
      actor.tell(new ProviderActor.GetStatus(probe.ref()));
      ProviderStatus.HealthCheck check = probe.receiveMessage().healthCheck();
      assertTrue(check != null && check.ok(), "first check: " + check);
      return null;
    });
    advance(Duration.ofSeconds(10));
    probe.awaitAssert(() -> {
      actor.tell(new ProviderActor.GetStatus(probe.ref()));
      ProviderStatus.HealthCheck check = probe.receiveMessage().healthCheck();
      assertTrue(!check.ok() && check.error().contains("models endpoint down"), "second check: " + check);
      return null;
    });
    assertEquals("closed", status(actor).breaker(), "a failed check does not move the breaker");
  }

  private ProviderStatus status(ActorRef<ProviderActor.Command> actor) {
    TestProbe<ProviderStatus> probe = kit.createTestProbe();
    actor.tell(new ProviderActor.GetStatus(probe.ref()));
    return probe.receiveMessage();
  }

  /** A provider that hands its rate-limit observer to the test. */
  private static class ObservableProvider implements ChatProvider {
    private final String name;
    private final AtomicReference<BiConsumer<String, RateLimitHeaders.Learned>> observer;

    ObservableProvider(String name, AtomicReference<BiConsumer<String, RateLimitHeaders.Learned>> observer) {
      this.name = name;
      this.observer = observer;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public Source<ChatChunk, NotUsed> stream(ChatRequest request, boolean streaming) {
      return Source.empty();
    }

    @Override
    public CompletionStage<List<ModelInfo>> listModels() {
      return CompletableFuture.completedFuture(List.of());
    }

    @Override
    public void observeRateLimits(BiConsumer<String, RateLimitHeaders.Learned> o) {
      observer.set(o);
    }
  }
}
