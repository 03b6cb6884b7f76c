package io.pekkollm.model;

import java.util.Objects;

/**
 * How the model may use the tools: {@link #AUTO}, {@link #NONE}, {@link #REQUIRED} (some tool), or one named
 * function ({@link #function(String)}). Immutable.
 */
public final class ToolChoice {
  public enum Mode { AUTO, NONE, REQUIRED, FUNCTION }

  public static final ToolChoice AUTO = new ToolChoice(Mode.AUTO, null);
  public static final ToolChoice NONE = new ToolChoice(Mode.NONE, null);
  public static final ToolChoice REQUIRED = new ToolChoice(Mode.REQUIRED, null);

  private final Mode mode;
  private final String functionName;

  private ToolChoice(Mode mode, String functionName) {
    this.mode = mode;
    this.functionName = functionName;
  }

  public static ToolChoice function(String name) {
    return new ToolChoice(Mode.FUNCTION, Objects.requireNonNull(name, "name"));
  }

  public Mode mode() {
    return mode;
  }

  /** The forced function's name, or null unless {@link #mode()} is FUNCTION. */
  public String functionName() {
    return functionName;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ToolChoice t && t.mode == mode && Objects.equals(t.functionName, functionName);
  }

  @Override
  public int hashCode() {
    return Objects.hash(mode, functionName);
  }

  @Override
  public String toString() {
    return mode == Mode.FUNCTION ? "function:" + functionName : mode.name().toLowerCase();
  }
}
