package io.pekkollm.routing;

import io.pekkollm.provider.ErrorClassifier;
import io.pekkollm.resilience.TimeoutKind;
import io.pekkollm.resilience.TimeoutSettings;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The time limits of one attempt, decided once from the provider's {@link TimeoutSettings} for both ways of
 * reading an answer: until the first chunk ({@code first-byte} when streaming, {@code response-timeout} when
 * not), between chunks ({@code idle}, streaming only), and for the whole attempt ({@code total}); zero is off.
 * A streamed answer gets them as one stage ({@link ChunkTimeouts}); a whole answer, which has one "chunk", the
 * tighter of its first and total limits as one timer. Either way the attempt fails with the classifier's
 * TIMEOUT error of the limit's kind.
 */
record TimeLimits(TimeoutKind firstKind, Duration first, Duration idle, Duration total) {

  static TimeLimits of(TimeoutSettings timeouts, boolean streaming) {
    return new TimeLimits(streaming ? TimeoutKind.FIRST_BYTE : TimeoutKind.RESPONSE,
        streaming ? timeouts.firstByte() : timeouts.response(), streaming ? timeouts.idle() : Duration.ZERO,
        timeouts.total());
  }

  boolean off() {
    return first.isZero() && idle.isZero() && total.isZero();
  }

  /** {@code source} under these limits; unchanged when all of them are off. */
  <T> Source<T, NotUsed> apply(Source<T, NotUsed> source, String provider) {
    return off() ? source : source.via(new ChunkTimeouts<T>(provider, this));
  }

  /** {@code call}, failed with the TIMEOUT error of the tighter of the first and total limits when it runs over. */
  <T> CompletionStage<T> apply(CompletionStage<T> call, String provider, ActorSystem<?> system) {
    if (first.isZero() && total.isZero()) {
      return call;
    }
    boolean byFirst = total.isZero() || (!first.isZero() && first.compareTo(total) <= 0);
    Duration limit = byFirst ? first : total;
    TimeoutKind kind = byFirst ? firstKind : TimeoutKind.TOTAL;
    CompletableFuture<T> out = new CompletableFuture<>();
    Cancellable timer = system.scheduler().scheduleOnce(limit,
        () -> out.completeExceptionally(ErrorClassifier.timeout(provider, kind, limit, null)),
        system.executionContext());
    call.whenComplete((v, err) -> {
      timer.cancel();
      if (err != null) {
        out.completeExceptionally(err);
      } else {
        out.complete(v);
      }
    });
    return out;
  }
}
