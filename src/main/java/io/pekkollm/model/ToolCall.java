package io.pekkollm.model;

/**
 * A function call the model asked for. {@code arguments} is the JSON text exactly as the model produced it
 * (it may be invalid JSON: models do that, and the caller decides).
 */
public record ToolCall(String id, String name, String arguments) {
  public ToolCall {
    arguments = arguments == null ? "" : arguments;
  }
}
