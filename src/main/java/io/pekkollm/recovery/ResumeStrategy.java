package io.pekkollm.recovery;

import io.pekkollm.model.LlmException;
import java.util.Locale;

/** How an interrupted stream continues. */
public enum ResumeStrategy {
  /** Continue from the exact cut-off; the joined text is the partial plus the continuation. */
  EXACT,
  /** Drop the unfinished trailing paragraph and regenerate from its start. */
  PARAGRAPH,
  /** Have a model condense the partial, continue from that summary, and append after the kept text. */
  SUMMARIZE;

  /** Parses {@code exact}, {@code paragraph} or {@code summarize} (any case). */
  public static ResumeStrategy of(String value) {
    if (value == null) {
      return EXACT;
    }
    try {
      return valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw LlmException.invalidRequest("'strategy' must be exact, paragraph or summarize, not '" + value + "'",
          "strategy");
    }
  }

  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
