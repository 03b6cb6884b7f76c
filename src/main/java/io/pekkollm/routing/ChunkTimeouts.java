package io.pekkollm.routing;

import io.pekkollm.provider.ErrorClassifier;
import io.pekkollm.resilience.TimeoutKind;
import java.time.Duration;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.stream.stage.TimerGraphStageLogic;

/**
 * The {@link TimeLimits} of one attempt's chunk stream, in one stage: until the first chunk, between chunks
 * (counted from the first chunk), and for the whole attempt. Each fails the stream with the classifier's TIMEOUT
 * error of its own code.
 *
 * <p>Why not Pekko's {@code initialTimeout}/{@code idleTimeout}/{@code completionTimeout}: {@code idleTimeout}
 * counts from materialization, so a long wait for a reasoning model's first token would be reported as an idle
 * gap, and it measures with {@code System.nanoTime}, which manual test time cannot move; three operators would
 * also each fail with a bare {@code TimeoutException} to tell apart afterwards. Here the gap is measured in
 * scheduler ticks: a check every {@code idle / 10} (at most 1 s) marks whether a chunk passed since the last one,
 * so each chunk costs one field write and the gap fires between {@code idle} and {@code idle} plus one tick.
 */
final class ChunkTimeouts<T> extends GraphStage<FlowShape<T, T>> {
  private static final Duration MAX_TICK = Duration.ofSeconds(1);

  private final Inlet<T> in = Inlet.create("ChunkTimeouts.in");
  private final Outlet<T> out = Outlet.create("ChunkTimeouts.out");
  private final FlowShape<T, T> shape = FlowShape.of(in, out);
  private final String provider;
  private final TimeoutKind firstKind;
  private final Duration first;
  private final Duration idle;
  private final Duration total;

  ChunkTimeouts(String provider, TimeLimits limits) {
    this.provider = provider;
    this.firstKind = limits.firstKind();
    this.first = limits.first();
    this.idle = limits.idle();
    this.total = limits.total();
  }

  @Override
  public FlowShape<T, T> shape() {
    return shape;
  }

  private enum Timer { FIRST, IDLE, TOTAL }

  @Override
  public GraphStageLogic createLogic(Attributes attributes) {
    return new TimerGraphStageLogic(shape) {
      private boolean started;
      private boolean pushedSinceTick;
      private long quietTicks;
      private final Duration tick = tickFor(idle);
      private final long ticksToFail = idle.isZero() ? 0 : (idle.toNanos() + tick.toNanos() - 1) / tick.toNanos();

      {
        setHandler(in, new AbstractInHandler() {
          @Override
          public void onPush() {
            if (!started) {
              started = true;
              cancelTimer(Timer.FIRST);
              if (!idle.isZero()) {
                scheduleWithFixedDelay(Timer.IDLE, tick, tick);
              }
            }
            pushedSinceTick = true;
            push(out, grab(in));
          }
        });
        setHandler(out, new AbstractOutHandler() {
          @Override
          public void onPull() {
            pull(in);
          }
        });
      }

      @Override
      public void preStart() {
        if (!first.isZero()) {
          scheduleOnce(Timer.FIRST, first);
        }
        if (!total.isZero()) {
          scheduleOnce(Timer.TOTAL, total);
        }
      }

      @Override
      public void onTimer(Object key) {
        if (key == Timer.FIRST) {
          failStage(ErrorClassifier.timeout(provider, firstKind, first, null));
        } else if (key == Timer.TOTAL) {
          failStage(ErrorClassifier.timeout(provider, TimeoutKind.TOTAL, total, null));
        } else if (pushedSinceTick || !hasBeenPulled(in)) {
          // A chunk passed, or nothing is asked of the provider (the caller is slow): no gap on its side.
          pushedSinceTick = false;
          quietTicks = 0;
        } else if (++quietTicks >= ticksToFail) {
          failStage(ErrorClassifier.timeout(provider, TimeoutKind.IDLE, idle, null));
        }
      }
    };
  }

  private static Duration tickFor(Duration idle) {
    if (idle.isZero()) {
      return MAX_TICK;
    }
    Duration tenth = idle.dividedBy(10);
    return tenth.compareTo(MAX_TICK) > 0 ? MAX_TICK : tenth.isZero() ? Duration.ofMillis(1) : tenth;
  }

  @Override
  public String toString() {
    return "ChunkTimeouts";
  }
}
