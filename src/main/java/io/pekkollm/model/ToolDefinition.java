package io.pekkollm.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/**
 * A function the model may call. {@code parameters} is a JSON Schema object (may be null for a function
 * without parameters); {@code strict} is OpenAI's structured-outputs flag (null when not given).
 */
public record ToolDefinition(String name, String description, JsonNode parameters, Boolean strict) {
  public ToolDefinition {
    Objects.requireNonNull(name, "name");
  }

  public static ToolDefinition of(String name, String description, JsonNode parameters) {
    return new ToolDefinition(name, description, parameters, null);
  }
}
