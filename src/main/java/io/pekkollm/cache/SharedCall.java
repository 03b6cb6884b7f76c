package io.pekkollm.cache;

import io.pekkollm.model.ChatChunk;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.Source;

/**
 * One upstream call shared by every identical request that arrives while it runs (request coalescing). The
 * call's chunks are recorded as they arrive; each reader replays them from the first and then follows the
 * live call at its own pace, so a reader that joins late misses nothing. The upstream is read as fast as it
 * answers (readers do not slow it), and its chunks stay in memory until the call ends and the last reader is
 * done. When every reader has cancelled before the call ended, the upstream call is cancelled too.
 *
 * <p>Thread-safe: the producer and the readers run on stream threads; the cache actor only passes it around.
 */
final class SharedCall {

  /** Fails a reader that arrives after the call was abandoned by all others; the reader looks up again. */
  static final class Abandoned extends RuntimeException {
    Abandoned() {
      super("every caller of a shared upstream call cancelled it", null, false, false);
    }
  }

  private final List<ChatChunk> chunks = new ArrayList<>();
  private CompletableFuture<Void> changed = new CompletableFuture<>();
  private boolean finished;
  private Throwable failure;
  // The leader (who starts the call) counts as a reader from the start, before its reader exists: a leader that
  // is cancelled before reading must still release the call, or nobody would stop the upstream.
  private int readers = 1;
  private boolean leaderPending = true;
  private boolean abandoned;
  private UniqueKillSwitch upstream;

  /** The producer's handle on the upstream call, to cancel it when every reader has gone. */
  void attach(UniqueKillSwitch killSwitch) {
    boolean stopNow;
    synchronized (this) {
      upstream = killSwitch;
      stopNow = abandoned;
    }
    if (stopNow) {
      killSwitch.abort(new Abandoned());
    }
  }

  void add(ChatChunk chunk) {
    CompletableFuture<Void> wake;
    synchronized (this) {
      chunks.add(chunk);
      wake = changed;
      changed = new CompletableFuture<>();
    }
    wake.complete(null);
  }

  void finish() {
    end(null);
  }

  void fail(Throwable error) {
    end(error);
  }

  private void end(Throwable error) {
    CompletableFuture<Void> wake;
    synchronized (this) {
      if (finished || failure != null) {
        return;
      }
      if (error == null) {
        finished = true;
      } else {
        failure = error;
      }
      wake = changed;
    }
    wake.complete(null);
  }

  synchronized boolean wasAbandoned() {
    return abandoned;
  }

  /** The chunks recorded so far. */
  synchronized List<ChatChunk> chunks() {
    return List.copyOf(chunks);
  }

  /** A new reader: every chunk from the first, then the live call, ending as the call ends. */
  Source<ChatChunk, NotUsed> reader() {
    return reader(false);
  }

  /** The leader's reader: takes the place reserved for it at creation. */
  Source<ChatChunk, NotUsed> leaderReader() {
    return reader(true);
  }

  /** The leader will not read (it was cancelled before its reader started): give up its place. Idempotent. */
  void releaseLeader() {
    boolean release;
    synchronized (this) {
      release = leaderPending;
      leaderPending = false;
    }
    if (release) {
      left();
    }
  }

  private Source<ChatChunk, NotUsed> reader(boolean leader) {
    return Source.lazySource(() -> {
      synchronized (this) {
        if (leader && leaderPending) {
          leaderPending = false;
        } else if (abandoned || leader) {
          return Source.<ChatChunk>failed(new Abandoned());
        } else {
          readers++;
        }
      }
      return Source.unfoldAsync(0, this::next)
          .watchTermination((mat, done) -> {
            done.whenComplete((d, e) -> left());
            return mat;
          });
    }).mapMaterializedValue(m -> NotUsed.getInstance());
  }

  private CompletionStage<Optional<Pair<Integer, ChatChunk>>> next(int index) {
    CompletableFuture<Void> wait;
    synchronized (this) {
      if (index < chunks.size()) {
        return CompletableFuture.completedFuture(Optional.of(Pair.create(index + 1, chunks.get(index))));
      }
      if (failure != null) {
        return CompletableFuture.failedFuture(failure);
      }
      if (finished) {
        return CompletableFuture.completedFuture(Optional.empty());
      }
      wait = changed;
    }
    return wait.thenCompose(v -> next(index));
  }

  private void left() {
    UniqueKillSwitch stop = null;
    synchronized (this) {
      readers--;
      if (readers == 0 && !finished && failure == null) {
        abandoned = true;
        stop = upstream;
      }
    }
    if (stop != null) {
      // Cancels the upstream request (closing its connection) and fails the producer, so nothing is stored.
      stop.abort(new Abandoned());
    }
  }
}
