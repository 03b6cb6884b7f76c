package io.pekkollm.util;

import com.typesafe.config.Config;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

/**
 * {@code pekko-llm.logging}: whether upstream request and response bodies are logged (logger
 * {@code io.pekkollm.bodies}, level INFO), how much of each, and how everything logged, stored or shown is redacted
 * (see {@link Redactor}). Immutable.
 *
 * @param bodies        which exchanges are logged
 * @param maxBodyChars  characters of a body logged at most (the rest is cut, saying how much)
 * @param maskPii       whether e-mail addresses, phone numbers and card numbers are masked as well
 * @param redactPatterns regular expressions whose matches are masked as well
 */
public record LoggingSettings(Bodies bodies, int maxBodyChars, boolean maskPii, List<String> redactPatterns) {

  /** Which upstream exchanges have their bodies logged. */
  public enum Bodies {
    /** None (the default). */
    OFF,
    /** Those that failed: an error status or a failed connection. */
    ERRORS,
    /** Every one. */
    ALL
  }

  /** Nothing logged, the default redaction. */
  public static final LoggingSettings DEFAULT = new LoggingSettings(Bodies.OFF, 16_384, false, List.of());

  /** Reads {@code block} (the {@code pekko-llm.logging} block itself). */
  public static LoggingSettings create(Config block) {
    String mode = block.getString("bodies").trim().toLowerCase(Locale.ROOT);
    Bodies bodies = switch (mode) {
      case "off", "false", "none", "" -> Bodies.OFF;
      case "errors" -> Bodies.ERRORS;
      case "all", "on", "true" -> Bodies.ALL;
      default -> throw new IllegalArgumentException("pekko-llm.logging.bodies must be off, errors or all, not '"
          + block.getString("bodies") + "'");
    };
    LoggingSettings s = new LoggingSettings(bodies, Math.max(0, block.getInt("max-body-chars")),
        block.getBoolean("mask-pii"), List.copyOf(block.getStringList("redact-patterns")));
    s.redactor(List.of());
    return s;
  }

  /** The redactor for text that may hold {@code secrets}: the patterns, PII masking when on, and those secrets. */
  public Redactor redactor(Collection<String> secrets) {
    Redactor r = Redactor.of(secrets).withPatterns(redactPatterns);
    return maskPii ? r.withPiiMasking() : r;
  }

  /** {@code text} redacted and cut to {@link #maxBodyChars}. */
  public String body(Redactor redactor, String text) {
    String safe = redactor.redact(text);
    if (safe == null || safe.length() <= maxBodyChars) {
      return safe;
    }
    return safe.substring(0, maxBodyChars) + "...[" + (safe.length() - maxBodyChars) + " more chars]";
  }
}
