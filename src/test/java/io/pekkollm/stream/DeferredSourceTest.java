package io.pekkollm.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.testkit.TestConfig;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Graph;
import org.apache.pekko.stream.SourceShape;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeferredSourceTest {
  private final ActorTestKit kit = ActorTestKit.create(TestConfig.of(""));

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
  }

  @Test
  void eachRunHasItsOwnStateAndOpensWhenStarted() throws Exception {
    AtomicInteger opened = new AtomicInteger();
    Source<Integer, int[]> src = DeferredSource.<Integer, int[]>of(() -> new int[1], state -> {
      state[0] = opened.incrementAndGet();
      CompletableFuture<Graph<SourceShape<Integer>, ?>> later = new CompletableFuture<>();
      CompletableFuture.delayedExecutor(20, TimeUnit.MILLISECONDS)
          .execute(() -> later.complete(Source.from(List.of(state[0], state[0] * 10))));
      return later;
    });
    assertEquals(0, opened.get(), "nothing happens before the source runs");
    Pair<int[], CompletionStage<List<Integer>>> first = src.toMat(Sink.seq(), Keep.both()).run(kit.system());
    assertEquals(List.of(1, 10), first.second().toCompletableFuture().get(5, TimeUnit.SECONDS));
    Pair<int[], CompletionStage<List<Integer>>> second = src.toMat(Sink.seq(), Keep.both()).run(kit.system());
    assertEquals(List.of(2, 20), second.second().toCompletableFuture().get(5, TimeUnit.SECONDS));
    assertEquals(1, first.first()[0]);
    assertEquals(2, second.first()[0]);
  }

  @Test
  void failuresArriveUnwrapped() {
    IllegalStateException boom = new IllegalStateException("boom");
    Source<String, NotUsed> failedFuture = DeferredSource.of(() -> CompletableFuture.supplyAsync(() -> {
      throw boom;
    }));
    assertSame(boom, failure(failedFuture));
    Source<String, NotUsed> failedInner = DeferredSource.of(() -> CompletableFuture.completedFuture(
        Source.completionStage(CompletableFuture.<String>supplyAsync(() -> {
          throw boom;
        }))));
    assertSame(boom, failure(failedInner));
    Source<String, NotUsed> throwing = DeferredSource.of(() -> {
      throw boom;
    });
    assertSame(boom, failure(throwing));
  }

  @Test
  void aSourceThatArrivesAfterCancellationIsCancelledToo() throws Exception {
    CompletableFuture<Graph<SourceShape<Integer>, ?>> later = new CompletableFuture<>();
    CompletableFuture<Throwable> lateSourceEnded = new CompletableFuture<>();
    Source<Integer, NotUsed> src = DeferredSource.of(() -> later);
    assertEquals(List.of(), src.take(0).runWith(Sink.seq(), kit.system()).toCompletableFuture().get(5, TimeUnit.SECONDS));
    later.complete(Source.<Integer>never().watchTermination((m, done) -> {
      done.whenComplete((d, err) -> lateSourceEnded.complete(err));
      return m;
    }));
    // Cancelled, not left running: a response body behind it is released.
    lateSourceEnded.get(5, TimeUnit.SECONDS);
  }

  private Throwable failure(Source<String, NotUsed> src) {
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> src.runWith(Sink.seq(), kit.system()).toCompletableFuture().get(5, TimeUnit.SECONDS));
    assertTrue(!(e.getCause() instanceof CompletionException), e.getCause().toString());
    return e.getCause();
  }
}
