package io.pekkollm.tools;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * How {@link ToolLoop} runs: at most {@link #maxSteps()} model calls (default 10), at most
 * {@link #maxParallelTools()} tool calls of one step at a time (default 4), each given {@link #toolTimeout()}
 * (default 30 s; a tool still running then is interrupted and answered with an error), on
 * {@link #executor()} (default null: the actor system's blocking-I/O dispatcher, a bounded pool, so tools may block).
 *
 * <p>Immutable and thread-safe; derive with the {@code withX} methods.
 */
public final class ToolLoopOptions {
  /** The defaults. */
  public static final ToolLoopOptions DEFAULTS = new ToolLoopOptions(10, 4, Duration.ofSeconds(30), null);

  private final int maxSteps;
  private final int maxParallelTools;
  private final Duration toolTimeout;
  private final Executor executor;

  private ToolLoopOptions(int maxSteps, int maxParallelTools, Duration toolTimeout, Executor executor) {
    if (maxSteps < 1) {
      throw new IllegalArgumentException("maxSteps must be at least 1");
    }
    if (maxParallelTools < 1) {
      throw new IllegalArgumentException("maxParallelTools must be at least 1");
    }
    if (toolTimeout.isNegative() || toolTimeout.isZero()) {
      throw new IllegalArgumentException("toolTimeout must be positive");
    }
    this.maxSteps = maxSteps;
    this.maxParallelTools = maxParallelTools;
    this.toolTimeout = toolTimeout;
    this.executor = executor;
  }

  public static ToolLoopOptions defaults() {
    return DEFAULTS;
  }

  /** Model calls at most; when the model still calls tools at the last one, the loop ends with MAX_STEPS. */
  public int maxSteps() {
    return maxSteps;
  }

  public int maxParallelTools() {
    return maxParallelTools;
  }

  public Duration toolTimeout() {
    return toolTimeout;
  }

  /** Where tools run; null for the actor system's blocking-I/O dispatcher. */
  public Executor executor() {
    return executor;
  }

  public ToolLoopOptions withMaxSteps(int value) {
    return new ToolLoopOptions(value, maxParallelTools, toolTimeout, executor);
  }

  public ToolLoopOptions withMaxParallelTools(int value) {
    return new ToolLoopOptions(maxSteps, value, toolTimeout, executor);
  }

  public ToolLoopOptions withToolTimeout(Duration value) {
    return new ToolLoopOptions(maxSteps, maxParallelTools, Objects.requireNonNull(value), executor);
  }

  public ToolLoopOptions withExecutor(Executor value) {
    return new ToolLoopOptions(maxSteps, maxParallelTools, toolTimeout, value);
  }
}
