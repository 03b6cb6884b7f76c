package io.pekkollm.model;

/**
 * A fragment of a streamed tool call. The first fragment of a call carries its {@code id} and {@code name};
 * later ones append to {@code argumentsDelta}. {@code index} says which call of the turn it belongs to.
 */
public record ToolCallDelta(int index, String id, String name, String argumentsDelta) {
  public ToolCallDelta {
    argumentsDelta = argumentsDelta == null ? "" : argumentsDelta;
  }
}
