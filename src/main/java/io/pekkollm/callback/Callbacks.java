package io.pekkollm.callback;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.stream.ChatAccumulator;
import io.pekkollm.util.Futures;
import io.pekkollm.util.Redactor;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The registered {@link LlmCallback}s of one client and their delivery: each callback has its own bounded queue
 * and daemon thread, so a call only ever offers events (never waits) and one slow callback delays no other.
 * A full queue drops the event for that callback ({@code pekko.llm.callback.dropped}, tag {@code callback}); an
 * exception from a callback is logged and counted ({@code pekko.llm.callback.errors}) and delivery goes on.
 * With no callbacks, {@link #observe} and {@link #whole} return what they are given: no event is made.
 * Thread-safe; {@link #close()} delivers what is queued (for up to five seconds per callback), then closes them.
 */
public final class Callbacks implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Callbacks.class);
  private static final long CLOSE_WAIT_MILLIS = 5_000;

  private final List<Worker> workers;
  private final boolean anyWantsChunks;

  private Callbacks(List<Worker> workers) {
    this.workers = workers;
    this.anyWantsChunks = workers.stream().anyMatch(w -> w.callback.wantsChunks());
  }

  /** No callbacks. */
  public static Callbacks none() {
    return new Callbacks(List.of());
  }

  /** Starts delivery to {@code callbacks} (an empty list gives {@link #none()}); counters go to {@code registry}. */
  public static Callbacks start(List<LlmCallback> callbacks, CallbackSettings settings, MeterRegistry registry) {
    List<Worker> workers = new ArrayList<>();
    for (LlmCallback cb : callbacks) {
      workers.add(new Worker(cb, settings, registry));
    }
    workers.forEach(Worker::start);
    return new Callbacks(List.copyOf(workers));
  }

  /** Whether any callback is registered. */
  public boolean isEmpty() {
    return workers.isEmpty();
  }

  /**
   * {@code source} (a streamed call's chunks, as {@code chunkOf} reads them) reporting its start when it is
   * materialized, its chunks, and its end: success with the answer {@code respond} folds from the chunks, failure
   * with the error's kind, or a cancellation by its consumer.
   */
  public <T> Source<T, NotUsed> observe(Source<T, NotUsed> source, ChatRequest request, Function<T, ChatChunk> chunkOf,
      Function<ChatAccumulator, ChatResponse> respond) {
    if (workers.isEmpty()) {
      return source;
    }
    return Source.<T, NotUsed>fromMaterializer((mat, attrs) -> {
      Call call = new Call(request, true);
      ChatAccumulator acc = new ChatAccumulator();
      boolean[] completed = new boolean[1];
      return source
          .map(t -> {
            ChatChunk c = chunkOf.apply(t);
            acc.add(c);
            call.chunk(c);
            return t;
          })
          .concatLazy(Source.lazySource(() -> {
            // Materialized only when the call's own source completes: a cancellation never gets here.
            completed[0] = true;
            return Source.<T>empty();
          }))
          .watchTermination((m, done) -> {
            done.whenComplete((d, err) -> {
              if (err == null && completed[0]) {
                call.succeeded(respond.apply(acc));
              } else {
                call.failed(err);
              }
            });
            return NotUsed.getInstance();
          });
    }).mapMaterializedValue(f -> NotUsed.getInstance());
  }

  /** {@code call} (a whole answer) reporting its start now and its end when it completes. */
  public CompletionStage<ChatResponse> whole(ChatRequest request, Supplier<CompletionStage<ChatResponse>> call) {
    if (workers.isEmpty()) {
      return call.get();
    }
    Call c = new Call(request, false);
    CompletionStage<ChatResponse> result;
    try {
      result = call.get();
    } catch (RuntimeException e) {
      result = CompletableFuture.failedFuture(e);
    }
    return result.whenComplete((r, err) -> {
      if (err == null) {
        c.succeeded(r);
      } else {
        c.failed(Futures.cause(err));
      }
    });
  }

  /** Delivers {@code event} to every callback (queued, off the caller's thread). */
  public void softBudgetExceeded(CallEvent.SoftBudgetExceeded event) {
    offer(event);
  }

  private void offer(CallEvent e) {
    for (Worker w : workers) {
      w.offer(e);
    }
  }

  /** Delivers what is queued (up to five seconds per callback), then closes every callback. */
  @Override
  public void close() {
    workers.forEach(Worker::stop);
    for (Worker w : workers) {
      w.await();
    }
  }

  /** The events of one call. */
  private final class Call {
    private final String id = UUID.randomUUID().toString();
    private final ChatRequest request;
    private final boolean streaming;
    private final long start = System.nanoTime();
    private long firstChunkNanos = -1;

    Call(ChatRequest request, boolean streaming) {
      this.request = request;
      this.streaming = streaming;
      offer(new CallEvent.Started(id, Instant.now(), request, streaming));
    }

    void chunk(ChatChunk c) {
      if (firstChunkNanos < 0) {
        firstChunkNanos = System.nanoTime() - start;
      }
      if (anyWantsChunks) {
        CallEvent.Chunk e = new CallEvent.Chunk(id, Instant.now(), c);
        for (Worker w : workers) {
          if (w.callback.wantsChunks()) {
            w.offer(e);
          }
        }
      }
    }

    void succeeded(ChatResponse response) {
      Duration ttft = streaming && firstChunkNanos >= 0 ? Duration.ofNanos(firstChunkNanos) : null;
      offer(new CallEvent.Succeeded(id, Instant.now(), request, response, streaming,
          Duration.ofNanos(System.nanoTime() - start), ttft));
    }

    void failed(Throwable err) {
      ErrorKind kind = err == null || isCancellation(err) ? ErrorKind.CANCELLED
          : err instanceof LlmException le ? le.kind() : ErrorKind.INTERNAL;
      String message = err == null ? "the stream was cancelled by its consumer" : Redactor.DEFAULT.redact(
          String.valueOf(err.getMessage()));
      offer(new CallEvent.Failed(id, Instant.now(), request, streaming, kind, message,
          Duration.ofNanos(System.nanoTime() - start)));
    }
  }

  private static boolean isCancellation(Throwable err) {
    return err instanceof org.apache.pekko.stream.AbruptStageTerminationException
        || err instanceof org.apache.pekko.stream.SubscriptionWithCancelException.NonFailureCancellation;
  }

  /** One callback's queue and delivery thread. */
  private static final class Worker implements Runnable {
    private static final CallEvent STOP = new CallEvent.Chunk("", Instant.EPOCH, null);

    final LlmCallback callback;
    private final BlockingQueue<CallEvent> queue;
    private final long flushNanos;
    private final Counter dropped;
    private final Counter errors;
    private final Thread thread;
    private volatile boolean stopping;

    Worker(LlmCallback callback, CallbackSettings settings, MeterRegistry registry) {
      this.callback = callback;
      this.queue = new ArrayBlockingQueue<>(settings.queueSize());
      this.flushNanos = Math.max(1, settings.flushInterval().toNanos());
      this.dropped = Counter.builder("pekko.llm.callback.dropped")
          .description("Callback events dropped because the callback's queue was full")
          .tag("callback", callback.name()).register(registry);
      this.errors = Counter.builder("pekko.llm.callback.errors")
          .description("Exceptions thrown by callbacks (the event is skipped, delivery goes on)")
          .tag("callback", callback.name()).register(registry);
      this.thread = new Thread(this, "pekko-llm-callback-" + callback.name());
      thread.setDaemon(true);
    }

    void start() {
      thread.start();
    }

    void offer(CallEvent e) {
      if (stopping || !queue.offer(e)) {
        dropped.increment();
      }
    }

    void stop() {
      stopping = true;
      // The queue may be full: the thread also checks the flag whenever its poll times out.
      queue.offer(STOP);
    }

    void await() {
      try {
        thread.join(CLOSE_WAIT_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (thread.isAlive()) {
        LOG.warn("callback {} did not finish its queued events within {} ms; {} left undelivered", callback.name(),
            CLOSE_WAIT_MILLIS, queue.size());
        thread.interrupt();
      }
    }

    @Override
    public void run() {
      long firstPending = 0;
      boolean pending = false;
      try {
        while (true) {
          long wait = pending ? Math.max(0, firstPending + flushNanos - System.nanoTime()) : flushNanos;
          CallEvent e = queue.poll(wait, TimeUnit.NANOSECONDS);
          if (e == STOP || (e == null && stopping && queue.isEmpty())) {
            break;
          }
          if (e != null) {
            deliver(e);
            if (!pending) {
              pending = true;
              firstPending = System.nanoTime();
            }
          }
          if (pending && System.nanoTime() - firstPending >= flushNanos) {
            guarded(callback::flush);
            pending = false;
          }
        }
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
      }
      guarded(callback::flush);
      guarded(callback::close);
    }

    private void deliver(CallEvent e) {
      guarded(() -> {
        if (e instanceof CallEvent.Started s) {
          callback.onStart(s);
        } else if (e instanceof CallEvent.Succeeded s) {
          callback.onSuccess(s);
        } else if (e instanceof CallEvent.Failed f) {
          callback.onFailure(f);
        } else if (e instanceof CallEvent.Chunk c) {
          callback.onChunk(c);
        } else if (e instanceof CallEvent.SoftBudgetExceeded b) {
          callback.onSoftBudgetExceeded(b);
        }
      });
    }

    private void guarded(Runnable r) {
      try {
        r.run();
      } catch (RuntimeException | LinkageError | AssertionError t) {
        errors.increment();
        LOG.warn("callback {} threw {}: {}", callback.name(), t.getClass().getName(),
            Redactor.DEFAULT.redact(t.getMessage()));
      }
    }
  }
}
