package io.pekkollm.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ModelInfo;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.Test;

/** The health probe on its own: one check at a time, its latency on the manual clock, its result. */
class HealthProbeTest {
  private final AtomicLong clock = new AtomicLong(1_000_000_000L);
  private final HealthProbe probe = new HealthProbe(Duration.ofSeconds(5), clock::get, () -> 7L);

  /** A provider whose model list the test completes. */
  private static final class Pending implements ChatProvider {
    final CompletableFuture<List<ModelInfo>> models = new CompletableFuture<>();

    @Override
    public String name() {
      return "p";
    }

    @Override
    public Source<ChatChunk, NotUsed> stream(ChatRequest request, boolean streaming) {
      return Source.empty();
    }

    @Override
    public CompletionStage<List<ModelInfo>> listModels() {
      return models;
    }
  }

  private static HealthProbe.Result result(CompletionStage<HealthProbe.Result> check) throws Exception {
    return check.toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  void oneCheckAtATimeTimedOnTheClock() throws Exception {
    Pending provider = new Pending();
    CompletionStage<HealthProbe.Result> check = probe.start(provider);
    assertNull(probe.start(provider), "a second check waits for the first");
    clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(250));
    provider.models.complete(List.of());
    HealthProbe.Result r = result(check);
    assertNull(r.error());
    assertTrue(probe.finished(r), "the first result is news");
    assertEquals(new ProviderStatus.HealthCheck(7, true, 250, null), probe.last());
    assertFalse(probe.finished(r), "the same result again is not");
  }

  @Test
  void aFailedCheckKeepsItsErrorAndEndsTheRun() throws Exception {
    assertNull(probe.last());
    Pending down = new Pending();
    CompletionStage<HealthProbe.Result> check = probe.start(down);
    down.models.completeExceptionally(new IllegalStateException("models endpoint down"));
    assertTrue(probe.finished(result(check)));
    assertFalse(probe.last().ok());
    assertEquals("models endpoint down", probe.last().error());
    Pending up = new Pending();
    CompletionStage<HealthProbe.Result> next = probe.start(up);
    up.models.complete(List.of());
    assertTrue(probe.finished(result(next)), "back up is news");
    assertTrue(probe.last().ok());
  }

  @Test
  void aCheckThatTakesLongerThanItsTimeoutFails() throws Exception {
    HealthProbe quick = new HealthProbe(Duration.ofMillis(1), clock::get, () -> 7L);
    HealthProbe.Result r = result(quick.start(new Pending()));
    assertTrue(r.error() instanceof java.util.concurrent.TimeoutException, String.valueOf(r.error()));
    quick.finished(r);
    assertFalse(quick.last().ok());
  }
}
