package io.pekkollm.stream;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;
import io.pekkollm.util.Futures;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.Graph;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.SourceShape;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.AbstractGraphStageWithMaterializedValue;

/**
 * A source whose elements come from a source that is only known later, in one stage: each materialization makes a
 * fresh state (its materialized value), then, when the stage starts, asks {@code open} for a future source and runs
 * it once the future completes. It does what {@code Source.lazySource(() -> Source.completionStageSource(f))}
 * does, with one inner stream instead of two: every element crossing into an inner stream costs an event of the
 * interpreter, and this sits on the per-chunk path of every streamed call.
 *
 * <p>A failed future (or a throwing {@code open}) fails the stream with its cause, and so does a failure of the inner
 * source ({@link CompletionException}s unwrapped in both). Cancelled before the future completes, the source that arrives later is run and cancelled at once, so
 * an HTTP response body behind it is released rather than left to its subscription timeout.
 */
public final class DeferredSource<T, S> extends AbstractGraphStageWithMaterializedValue<SourceShape<T>, S> {
  private final Outlet<T> out = Outlet.create("DeferredSource.out");
  private final SourceShape<T> shape = SourceShape.of(out);
  private final Supplier<S> state;
  private final Function<S, CompletionStage<? extends Graph<SourceShape<T>, ?>>> open;

  private DeferredSource(Supplier<S> state, Function<S, CompletionStage<? extends Graph<SourceShape<T>, ?>>> open) {
    this.state = state;
    this.open = open;
  }

  /** A fresh {@code state} per materialization (the materialized value); {@code open(state)} when the stage starts. */
  public static <T, S> Source<T, S> of(Supplier<S> state,
      Function<S, CompletionStage<? extends Graph<SourceShape<T>, ?>>> open) {
    return Source.fromGraph(new DeferredSource<>(state, open));
  }

  /** The source {@code open} completes with, run when the stage starts. */
  public static <T> Source<T, org.apache.pekko.NotUsed> of(
      Supplier<CompletionStage<? extends Graph<SourceShape<T>, ?>>> open) {
    return of(() -> org.apache.pekko.NotUsed.getInstance(), n -> open.get());
  }

  @Override
  public SourceShape<T> shape() {
    return shape;
  }

  @Override
  public String toString() {
    return "DeferredSource";
  }

  @Override
  public Pair<GraphStageLogic, S> createLogicAndMaterializedValuePair(Attributes attributes) {
    S s = state.get();
    return Pair.create(new Logic(s), s);
  }

  private final class Logic extends GraphStageLogic {
    private final S s;
    private SubSinkInlet<T> inner;

    Logic(S s) {
      super(shape);
      this.s = s;
      setHandler(out, new AbstractOutHandler() {
        @Override
        public void onPull() {
          if (inner != null && !inner.hasBeenPulled() && !inner.isClosed()) {
            inner.pull();
          }
        }

        @Override
        public void onDownstreamFinish(Throwable cause) {
          if (inner != null) {
            inner.cancel(cause);
          }
          completeStage();
        }
      });
    }

    @Override
    public void preStart() {
      CompletionStage<? extends Graph<SourceShape<T>, ?>> future;
      try {
        future = open.apply(s);
      } catch (RuntimeException e) {
        failStage(e);
        return;
      }
      CompletableFuture<? extends Graph<SourceShape<T>, ?>> cf = null;
      try {
        cf = future.toCompletableFuture();
      } catch (UnsupportedOperationException notOffered) {
        // A stage that cannot be viewed as a CompletableFuture: wait for it below.
      }
      if (cf != null && cf.isDone()) {
        // Already there (a mock, a cached answer, a failed admission): no asynchronous hop.
        Graph<SourceShape<T>, ?> source;
        try {
          source = cf.join();
        } catch (CompletionException | java.util.concurrent.CancellationException e) {
          failStage(Futures.cause(e));
          return;
        }
        run(source);
        return;
      }
      Materializer mat = materializer();
      AsyncCallback<Object> ready = createAsyncCallback(this::onReady);
      future.whenComplete((source, err) -> scala.jdk.javaapi.FutureConverters.asJava(
              ready.invokeWithFeedback(err != null ? new Failed(Futures.cause(err)) : source))
          .whenComplete((done, notDelivered) -> {
            if (notDelivered != null && source != null) {
              // The stage is gone (cancelled meanwhile): release what the source holds.
              Source.fromGraph(source).runWith(Sink.cancelled(), mat);
            }
          }));
    }

    @SuppressWarnings("unchecked")
    private void onReady(Object outcome) {
      if (outcome instanceof Failed f) {
        failStage(f.error());
      } else {
        run((Graph<SourceShape<T>, ?>) outcome);
      }
    }

    private void run(Graph<SourceShape<T>, ?> source) {
      inner = new SubSinkInlet<>("DeferredSource.in");
      inner.setHandler(new AbstractInHandler() {
        @Override
        public void onPush() {
          push(out, inner.grab());
        }

        @Override
        public void onUpstreamFinish() {
          completeStage();
        }

        @Override
        public void onUpstreamFailure(Throwable ex) {
          // Errors thrown in future callbacks inside the source arrive wrapped; callers decide on the cause.
          failStage(Futures.cause(ex));
        }
      });
      try {
        Source.fromGraph(source).runWith(inner.sink(), subFusingMaterializer());
      } catch (RuntimeException e) {
        failStage(e);
        return;
      }
      if (isAvailable(out)) {
        inner.pull();
      }
    }
  }

  private record Failed(Throwable error) {}
}
