package io.pekkollm.resilience;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Map;

/**
 * Reads the rate-limit state a provider reports on its responses, successful or not:
 * <ul>
 *   <li>OpenAI and the hosts that copy it (Groq, Together, Fireworks, DeepSeek, xAI, ...):
 *   {@code x-ratelimit-remaining-requests|tokens} and {@code x-ratelimit-reset-requests|tokens}, the reset as
 *   a Go-style duration ({@code 1s}, {@code 6m0s}, {@code 17ms}, {@code 2m59.56s});</li>
 *   <li>Anthropic: {@code anthropic-ratelimit-requests|tokens-remaining} and {@code ...-reset} as an RFC 3339
 *   time.</li>
 * </ul>
 * A reset given as a plain number is seconds from now. Stateless and thread-safe.
 */
public final class RateLimitHeaders {
  private RateLimitHeaders() {}

  /**
   * What the headers said; {@code -1} / null where they said nothing.
   *
   * @param remainingRequests requests left in the provider's current window
   * @param resetRequests     until the request window resets
   * @param remainingTokens   tokens left in the provider's current window
   * @param resetTokens       until the token window resets
   */
  public record Learned(long remainingRequests, Duration resetRequests, long remainingTokens, Duration resetTokens) {}

  /** True for a (lower-case) header name this class reads. Cheap: meant for filtering every response header. */
  public static boolean isRateLimitHeader(String lowerCaseName) {
    return lowerCaseName.startsWith("x-ratelimit-") || lowerCaseName.startsWith("anthropic-ratelimit-");
  }

  /** Parses {@code headers} (lower-case names); null when they carry no usable rate-limit state. */
  public static Learned parse(Map<String, String> headers, Instant now) {
    long remReq = number(first(headers, "x-ratelimit-remaining-requests", "anthropic-ratelimit-requests-remaining"));
    long remTok = number(first(headers, "x-ratelimit-remaining-tokens", "anthropic-ratelimit-tokens-remaining"));
    Duration resetReq = reset(first(headers, "x-ratelimit-reset-requests", "anthropic-ratelimit-requests-reset"), now);
    Duration resetTok = reset(first(headers, "x-ratelimit-reset-tokens", "anthropic-ratelimit-tokens-reset"), now);
    if (remReq < 0 && remTok < 0) {
      return null;
    }
    return new Learned(remReq, resetReq, remTok, resetTok);
  }

  private static String first(Map<String, String> headers, String a, String b) {
    String v = headers.get(a);
    return v != null ? v : headers.get(b);
  }

  private static long number(String v) {
    if (v == null) {
      return -1;
    }
    try {
      return Math.max(0, (long) Double.parseDouble(v.trim()));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** A reset as a duration from now: Go duration, RFC 3339 time, or seconds; null when unreadable. */
  static Duration reset(String v, Instant now) {
    if (v == null || v.isBlank()) {
      return null;
    }
    String s = v.trim();
    try {
      double seconds = Double.parseDouble(s);
      return seconds < 0 ? null : Duration.ofNanos((long) (seconds * 1e9));
    } catch (NumberFormatException notSeconds) {
      // a duration or a time
    }
    if (s.length() > 10 && s.charAt(4) == '-') {
      try {
        Duration d = Duration.between(now, OffsetDateTime.parse(s).toInstant());
        return d.isNegative() ? Duration.ZERO : d;
      } catch (DateTimeParseException e) {
        return null;
      }
    }
    return goDuration(s);
  }

  /** Go's time.Duration text ({@code 1h2m3.5s}, {@code 250ms}, {@code 10us}); null when malformed. */
  static Duration goDuration(String s) {
    String t = s.toLowerCase(Locale.ROOT);
    double nanos = 0;
    int i = 0;
    int n = t.length();
    if (n == 0) {
      return null;
    }
    while (i < n) {
      int start = i;
      while (i < n && (Character.isDigit(t.charAt(i)) || t.charAt(i) == '.')) {
        i++;
      }
      if (start == i) {
        return null;
      }
      double value;
      try {
        value = Double.parseDouble(t.substring(start, i));
      } catch (NumberFormatException e) {
        return null;
      }
      int unitStart = i;
      while (i < n && !Character.isDigit(t.charAt(i)) && t.charAt(i) != '.') {
        i++;
      }
      double unit = switch (t.substring(unitStart, i)) {
        case "h" -> 3600e9;
        case "m" -> 60e9;
        case "s" -> 1e9;
        case "ms" -> 1e6;
        case "us", "µs" -> 1e3;
        case "ns" -> 1;
        default -> -1;
      };
      if (unit < 0) {
        return null;
      }
      nanos += value * unit;
    }
    return Duration.ofNanos((long) nanos);
  }
}
