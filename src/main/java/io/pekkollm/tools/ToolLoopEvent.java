package io.pekkollm.tools;

import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.ToolCall;

/**
 * What happens in a {@link ToolLoop}, in order, for UIs and logs. {@code step} counts model calls from 1.
 * Immutable.
 */
public sealed interface ToolLoopEvent {
  int step();

  /** A piece of the model's text as it streams. */
  record TextDelta(int step, String text) implements ToolLoopEvent {}

  /** The model's call of a tool, about to run, with its arguments as the model wrote them. */
  record ToolCallStarted(int step, ToolCall call) implements ToolLoopEvent {}

  /**
   * A tool call's result as the model gets it. {@code error} is set when the call did not run or failed
   * (unknown tool, invalid arguments, the tool threw or timed out): then {@code result} says why, for the model.
   */
  record ToolResult(int step, ToolCall call, String result, ToolError error) implements ToolLoopEvent {
    public boolean failed() {
      return error != null;
    }
  }

  /** A model call finished: its whole answer, with usage and cost. */
  record StepFinished(int step, ChatResponse response) implements ToolLoopEvent {}
}
