package io.pekkollm.model;

import java.util.Locale;
import java.util.Objects;

/**
 * Why the model stopped. An open value: the common constants below, plus any other value a provider sends,
 * kept as it came ({@link #of(String)} never fails on a new value). Immutable.
 */
public final class FinishReason {
  public static final FinishReason STOP = new FinishReason("stop");
  public static final FinishReason LENGTH = new FinishReason("length");
  public static final FinishReason TOOL_CALLS = new FinishReason("tool_calls");
  public static final FinishReason CONTENT_FILTER = new FinishReason("content_filter");
  public static final FinishReason ERROR = new FinishReason("error");

  private final String value;

  private FinishReason(String value) {
    this.value = value;
  }

  /** The known constant for {@code value}, or a new open value that keeps it. Null stays null. */
  public static FinishReason of(String value) {
    if (value == null) {
      return null;
    }
    return switch (value) {
      case "stop" -> STOP;
      case "length" -> LENGTH;
      case "tool_calls" -> TOOL_CALLS;
      case "content_filter" -> CONTENT_FILTER;
      case "error" -> ERROR;
      default -> new FinishReason(value.toLowerCase(Locale.ROOT));
    };
  }

  public String value() {
    return value;
  }

  public boolean isKnown() {
    return this == STOP || this == LENGTH || this == TOOL_CALLS || this == CONTENT_FILTER || this == ERROR;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof FinishReason f && f.value.equals(value);
  }

  @Override
  public int hashCode() {
    return Objects.hash(value);
  }

  @Override
  public String toString() {
    return value;
  }
}
