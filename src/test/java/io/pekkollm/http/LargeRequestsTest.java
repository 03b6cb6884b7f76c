package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.junit.jupiter.api.Test;

/** Admission of the large-request pool: threads + queue bodies at once, the next one 503, small ones inline. */
class LargeRequestsTest {
  private static final Supplier<CompletionStage<HttpResponse>> OK =
      () -> CompletableFuture.completedFuture(HttpResponse.create());

  @Test
  void admitsThreadsPlusQueueThenAnswers503AndHandlesSmallBodiesInline() throws Exception {
    try (LargeRequests pool = LargeRequests.create(ConfigFactory.parseString(
        "large-requests { min-bytes = 100, threads = 1, queue = 1 }"))) {
      // An idle thread: the next task is offered to the queue before the thread takes it.
      assertEquals(200, status(pool.handle(100, OK)));
      CountDownLatch release = new CountDownLatch(1);
      CountDownLatch running = new CountDownLatch(1);
      CompletionStage<HttpResponse> busy = pool.handle(100, () -> {
        running.countDown();
        await(release);
        return OK.get();
      });
      CompletionStage<HttpResponse> queued = pool.handle(100, OK);
      assertTrue(running.await(10, TimeUnit.SECONDS));
      HttpResponse refused = pool.handle(100, OK).toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertEquals(503, refused.status().intValue());
      assertTrue(refused.getHeader("Retry-After").isPresent());
      assertEquals(200, status(pool.handle(99, OK)), "a small body never waits for the pool");
      release.countDown();
      assertEquals(200, status(busy));
      assertEquals(200, status(queued), "the queued one was admitted");
      assertEquals(200, status(pool.handle(100, OK)), "permits come back");
    }
  }

  private static int status(CompletionStage<HttpResponse> r) throws Exception {
    return r.toCompletableFuture().get(10, TimeUnit.SECONDS).status().intValue();
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
