package io.pekkollm.http;

import com.typesafe.config.Config;
import io.pekkollm.model.ErrorKind;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * Handles large chat request bodies ({@code pekko-llm.gateway.large-requests}) on a small pool of their own:
 * parsing megabytes of JSON and counting their tokens takes a thread for up to a second, which on the shared
 * dispatcher (one thread per core) would hold up every other request. At most {@code threads} bodies are
 * handled at once and {@code queue} more wait; beyond that the answer is 503 {@code overloaded} with
 * {@code Retry-After: 1}. The threads are daemons and stop with {@link #close()}.
 */
final class LargeRequests implements AutoCloseable {
  private final long minBytes;
  private final int threads;
  private final int queue;
  private final ThreadPoolExecutor pool;
  // Admission: threads + queue bodies at once. Not the executor's queue capacity: a task offered to a full queue
  // is refused even while an idle thread is about to take the one before it.
  private final Semaphore admitted;

  private LargeRequests(long minBytes, int threads, int queue) {
    this.minBytes = minBytes;
    this.threads = threads;
    this.queue = queue;
    this.admitted = new Semaphore(threads + queue);
    AtomicInteger n = new AtomicInteger();
    this.pool = new ThreadPoolExecutor(threads, threads, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
      Thread t = new Thread(r, "pekko-llm-large-request-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    pool.allowCoreThreadTimeOut(true);
  }

  /** From {@code pekko-llm.gateway.large-requests}. */
  static LargeRequests create(Config gateway) {
    Config c = gateway.getConfig("large-requests");
    int threads = c.getInt("threads");
    int queue = c.getInt("queue");
    if (threads < 0 || queue < 1) {
      throw new IllegalArgumentException("pekko-llm.gateway.large-requests: threads must be >= 0 and queue >= 1, not "
          + threads + " and " + queue);
    }
    int t = threads == 0 ? Math.max(1, Runtime.getRuntime().availableProcessors() / 2) : threads;
    return new LargeRequests(c.getBytes("min-bytes"), t, queue);
  }

  /**
   * {@code handle} of a body of {@code bytes}: run right here when the body is small, else on the pool (or
   * answered 503 when the pool and its queue are full).
   */
  CompletionStage<HttpResponse> handle(long bytes, Supplier<CompletionStage<HttpResponse>> handle) {
    if (bytes < minBytes) {
      return handle.get();
    }
    if (!admitted.tryAcquire()) {
      return CompletableFuture.completedFuture(ErrorResponses.json(503, ChatCompletionsCodec.writeError(
          "too many large requests are being handled (" + threads + " at once, " + queue
              + " waiting; pekko-llm.gateway.large-requests): retry shortly", ErrorKind.OVERLOADED.openAiType(), null,
          "overloaded"), List.of(RawHeader.create("Retry-After", "1"))));
    }
    try {
      // The permit is held while the body is parsed and fitted, not while the answer streams.
      return CompletableFuture.supplyAsync(() -> {
        try {
          return handle.get();
        } finally {
          admitted.release();
        }
      }, pool).thenCompose(Function.identity());
    } catch (RuntimeException e) {
      admitted.release();
      throw e;
    }
  }

  @Override
  public void close() {
    pool.shutdown();
  }
}
