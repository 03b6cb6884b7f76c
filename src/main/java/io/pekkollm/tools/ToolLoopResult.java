package io.pekkollm.tools;

import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.Cost;
import io.pekkollm.model.Message;
import io.pekkollm.model.ToolCall;
import io.pekkollm.model.Usage;
import java.util.List;
import java.util.Optional;

/**
 * How a {@link ToolLoop} ended. {@link #outcome()} says why; {@link #response()} is the last model answer (the
 * final text when ANSWERED; when MAX_STEPS, the answer whose tool calls were left unrun, see
 * {@link #unansweredCalls()}). {@link #transcript()} is the whole conversation: the request's messages, every
 * assistant turn and every tool result, ready to continue with. Usage and cost are totals over all steps; the
 * cost is empty when any step could not be priced.
 *
 * <p>Immutable and thread-safe.
 */
public record ToolLoopResult(Outcome outcome, ChatResponse response, List<Message> transcript,
    List<ChatResponse> steps, Usage usage, Optional<Cost> cost, int toolCalls, int toolErrors) {

  /** Why the loop ended. */
  public enum Outcome {
    /** The model answered without calling a tool. */
    ANSWERED,
    /** The model still called tools at the last allowed step ({@link ToolLoopOptions#maxSteps()}). */
    MAX_STEPS
  }

  public ToolLoopResult {
    transcript = List.copyOf(transcript);
    steps = List.copyOf(steps);
  }

  /** The final answer's text ("" when the loop ended with MAX_STEPS on a turn of only tool calls). */
  public String text() {
    return response.text();
  }

  /** The tool calls of the last answer that were not run (MAX_STEPS); empty when ANSWERED. */
  public List<ToolCall> unansweredCalls() {
    return outcome == Outcome.MAX_STEPS ? response.toolCalls() : List.of();
  }
}
