package io.pekkollm.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A streaming load generator on {@code java.net.http} (HTTP/1.1, non-blocking): sends chat completion requests
 * with {@code stream: true} and records, per stream, the time to the first content chunk, the time to
 * {@code data: [DONE]}, how many content chunks arrived and whether they came in order. Content chunks are
 * recognised by the fake upstream's {@code "content":"tok<i> "} text, so a lost, repeated or reordered chunk is
 * counted whichever way the stream went. Thread-safe.
 */
final class StreamClient implements AutoCloseable {
  private final HttpClient http;
  private final ExecutorService executor;

  /** One finished (or failed) stream. Times are nanoseconds from just before the request was sent. */
  record Result(int status, long ttftNanos, long totalNanos, int chunks, int outOfOrder, boolean done, String error,
      long firstEventNanos) {
    boolean ok() {
      return status == 200 && done && error == null;
    }
  }

  StreamClient(int threads) {
    this.executor = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "stream-client");
      t.setDaemon(true);
      return t;
    });
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).executor(executor)
        .connectTimeout(Duration.ofSeconds(20)).build();
  }

  static String body(String model, String extra) {
    return "{\"model\":\"" + model + "\",\"stream\":true,\"stream_options\":{\"include_usage\":true},"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"Write a short story about a lighthouse keeper.\"}]"
        + (extra == null ? "" : "," + extra) + "}";
  }

  /** An open stream: completes {@link #first} at its first content chunk and {@link #result} at its end. */
  static final class Handle {
    final CompletableFuture<Long> first = new CompletableFuture<>();
    final CompletableFuture<Result> result = new CompletableFuture<>();
    volatile Flow.Subscription subscription;
    volatile boolean cancelled;

    /** Closes the stream from the client side (the connection is dropped). */
    void cancel() {
      cancelled = true;
      Flow.Subscription s = subscription;
      if (s != null) {
        s.cancel();
      }
    }
  }

  /** The key sent (the gateway's own bench key unless BENCH_KEY names another, e.g. a virtual key). */
  private static final String KEY = System.getenv().getOrDefault("BENCH_KEY", "bench");

  /** Starts one stream to {@code url} (a chat completions URL) asking for {@code model}. */
  Handle start(URI url, String model, String extra) {
    Handle h = new Handle();
    long start = System.nanoTime();
    Lines lines = new Lines(h, start);
    HttpRequest req = HttpRequest.newBuilder(url)
        .header("Content-Type", "application/json")
        .header("Authorization", "Bearer " + KEY)
        .timeout(Duration.ofMinutes(30))
        .POST(HttpRequest.BodyPublishers.ofString(body(model, extra)))
        .build();
    http.sendAsync(req, HttpResponse.BodyHandlers.fromLineSubscriber(lines))
        .whenComplete((resp, err) -> lines.finish(resp == null ? 0 : resp.statusCode(), err));
    return h;
  }

  /** Runs {@code count} streams with at most {@code concurrency} at once; returns every result. */
  List<Result> run(URI url, String model, int count, int concurrency, Duration timeout) throws InterruptedException {
    Semaphore permits = new Semaphore(concurrency);
    List<CompletableFuture<Result>> all = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      permits.acquire();
      Handle h = start(url, model, null);
      h.result.whenComplete((r, e) -> permits.release());
      all.add(h.result);
    }
    return collect(all, timeout);
  }

  /**
   * Keeps {@code concurrency} streams running back to back for {@code duration}; returns the results of the
   * streams that ended (those still running at the end are waited for, up to {@code timeout}).
   */
  List<Result> closedLoop(URI url, String model, int concurrency, Duration duration, Duration timeout)
      throws InterruptedException {
    long end = System.nanoTime() + duration.toNanos();
    Semaphore permits = new Semaphore(concurrency);
    List<CompletableFuture<Result>> all = new ArrayList<>();
    while (System.nanoTime() < end) {
      if (!permits.tryAcquire(50, TimeUnit.MILLISECONDS)) {
        continue;
      }
      Handle h = start(url, model, null);
      h.result.whenComplete((r, e) -> permits.release());
      all.add(h.result);
    }
    return collect(all, timeout);
  }

  static List<Result> collect(List<CompletableFuture<Result>> all, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<Result> out = new ArrayList<>(all.size());
    for (CompletableFuture<Result> f : all) {
      try {
        out.add(f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS));
      } catch (Exception e) {
        out.add(new Result(0, 0, 0, 0, 0, false, "timed out or failed: " + e, 0));
      }
    }
    return out;
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }

  /** Reads the SSE lines of one stream. */
  private static final class Lines implements Flow.Subscriber<String> {
    private final Handle handle;
    private final long start;
    private final AtomicLong firstAt = new AtomicLong();
    // The first data event of any kind (a role-only chunk included): what a client that shows "typing" sees.
    private final AtomicLong firstEventAt = new AtomicLong();
    private volatile long doneAt;
    private int chunks;
    private int next;
    private int outOfOrder;
    private volatile String error;

    Lines(Handle handle, long start) {
      this.handle = handle;
      this.start = start;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      handle.subscription = s;
      if (handle.cancelled) {
        s.cancel();
      }
      s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(String line) {
      if (!line.startsWith("data: ")) {
        return;
      }
      if (line.equals("data: [DONE]")) {
        doneAt = System.nanoTime();
        return;
      }
      if (firstEventAt.get() == 0) {
        firstEventAt.compareAndSet(0, System.nanoTime());
      }
      int c = line.indexOf("\"content\":\"");
      if (c >= 0 && c + 11 < line.length() && line.charAt(c + 11) != '"') {
        // Any non-empty content counts as the first token (the mock provider's chunks are words, not "tok<i>").
        long now = System.nanoTime();
        if (firstAt.compareAndSet(0, now)) {
          handle.first.complete(now - start);
        }
      }
      int i = line.indexOf("\"content\":\"tok");
      if (i >= 0) {
        int j = i + 14;
        int n = 0;
        while (j < line.length() && Character.isDigit(line.charAt(j))) {
          n = n * 10 + (line.charAt(j++) - '0');
        }
        if (n != next) {
          outOfOrder++;
        }
        next = n + 1;
        chunks++;
      } else if (line.startsWith("data: {\"error\"")) {
        error = line.substring(6);
      }
    }

    @Override
    public void onError(Throwable t) {
      if (error == null) {
        error = String.valueOf(t);
      }
    }

    @Override
    public void onComplete() {}

    void finish(int status, Throwable err) {
      long now = System.nanoTime();
      String e = error;
      if (err != null && e == null) {
        e = String.valueOf(err);
      }
      if (status != 200 && e == null) {
        e = "HTTP " + status;
      }
      long first = firstAt.get();
      if (!handle.first.isDone()) {
        handle.first.completeExceptionally(new IllegalStateException(e == null ? "no content chunk" : e));
      }
      long done = doneAt;
      handle.result.complete(new Result(status, first == 0 ? 0 : first - start, (done == 0 ? now : done) - start,
          chunks, outOfOrder, done != 0, e, firstEventAt.get() == 0 ? 0 : firstEventAt.get() - start));
    }
  }
}
