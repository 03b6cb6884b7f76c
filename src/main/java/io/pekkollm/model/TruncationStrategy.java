package io.pekkollm.model;

import java.util.Locale;

/**
 * How a request that does not fit its model's context window is shortened instead of being rejected. Both
 * keep every system message and never separate an assistant turn's tool calls from their tool results.
 * <ul>
 *   <li>{@link #SLIDING_WINDOW}: keeps the newest messages that fit and drops everything older.</li>
 *   <li>{@link #SMART}: also keeps the first user message (usually the task), dropping from the middle.</li>
 * </ul>
 * Wire names ({@link #wireName()}) are {@code sliding_window} and {@code smart}.
 */
public enum TruncationStrategy {
  SLIDING_WINDOW("sliding_window"),
  SMART("smart");

  private final String wireName;

  TruncationStrategy(String wireName) {
    this.wireName = wireName;
  }

  public String wireName() {
    return wireName;
  }

  /**
   * The strategy named {@code name} ({@code sliding_window}, {@code smart}; case and {@code -} vs {@code _}
   * ignored). Throws {@link LlmException} of kind INVALID_REQUEST (param {@code truncation}) for any other name:
   * the caller chose it, so a typo must not silently mean "no truncation".
   */
  public static TruncationStrategy of(String name) {
    String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT).replace('-', '_');
    for (TruncationStrategy s : values()) {
      if (s.wireName.equals(n)) {
        return s;
      }
    }
    throw LlmException.invalidRequest("'truncation' must be \"sliding_window\" or \"smart\", not \"" + name + "\"",
        "truncation");
  }
}
