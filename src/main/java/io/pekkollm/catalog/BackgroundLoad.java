package io.pekkollm.catalog;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * A value computed once, on the first {@link #get()} or earlier on a background thread ({@link #startInBackground}),
 * so that start-up can overlap it with other work. {@link #get()} waits for a computation in progress and throws
 * what it threw, the same exception instance; a failure is not kept, the next {@link #get()} computes again.
 * Thread-safe.
 */
final class BackgroundLoad<T> {
  private final Supplier<T> supplier;
  private final String threadName;
  private final AtomicReference<FutureTask<T>> task = new AtomicReference<>();

  BackgroundLoad(Supplier<T> supplier, String threadName) {
    this.supplier = supplier;
    this.threadName = threadName;
  }

  /** Starts the computation on a new daemon thread, unless it is done or under way. */
  void startInBackground() {
    FutureTask<T> t = task();
    if (!t.isDone()) {
      Thread thread = new Thread(t, threadName);
      thread.setDaemon(true);
      thread.start();
    }
  }

  /** The value: computed here unless another thread has started or finished it, then waited for. */
  T get() {
    FutureTask<T> t = task();
    t.run(); // returns at once when the task is running elsewhere or done
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return t.get();
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException e) {
          task.compareAndSet(t, null);
          Throwable cause = e.getCause();
          if (cause instanceof RuntimeException re) {
            throw re;
          }
          if (cause instanceof Error err) {
            throw err;
          }
          throw new IllegalStateException(cause);
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private FutureTask<T> task() {
    FutureTask<T> t = task.get();
    while (t == null) {
      task.compareAndSet(null, new FutureTask<>(supplier::get));
      t = task.get();
    }
    return t;
  }
}
