package io.pekkollm.keys;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A budget's reset period as LiteLLM writes it: a positive count and a unit, {@code s}, {@code m}, {@code h},
 * {@code d} or {@code mo} (calendar months, UTC), e.g. {@code 30s}, {@code 1h}, {@code 1d}, {@code 30d}, {@code 1mo}.
 * Periods are anchored at the key's creation: a {@code 1d} budget of a key created at 10:00 resets at 10:00 each
 * day. Immutable.
 */
record BudgetPeriod(long count, String unit) {
  private static final Pattern FORMAT = Pattern.compile("([1-9][0-9]{0,8})(s|m|h|d|mo)");

  /** The period {@code text} names; IllegalArgumentException when it is not one. */
  static BudgetPeriod parse(String text) {
    Matcher m = FORMAT.matcher(text == null ? "" : text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("'" + text + "' is not a period: write a positive count and s, m, h, d or mo "
          + "(e.g. 30m, 1d, 30d, 1mo)");
    }
    return new BudgetPeriod(Long.parseLong(m.group(1)), m.group(2));
  }

  /** The length of a period of fixed length (every unit but {@code mo}). */
  Duration fixedLength() {
    return switch (unit) {
      case "s" -> Duration.ofSeconds(count);
      case "m" -> Duration.ofMinutes(count);
      case "h" -> Duration.ofHours(count);
      case "d" -> Duration.ofDays(count);
      default -> throw new IllegalStateException("months have no fixed length");
    };
  }

  /** The start (epoch ms) of the period holding {@code nowMillis}, periods counted from {@code anchorMillis}. */
  long windowStart(long anchorMillis, long nowMillis) {
    if (nowMillis < anchorMillis) {
      return anchorMillis;
    }
    if (!unit.equals("mo")) {
      long len = fixedLength().toMillis();
      return anchorMillis + (nowMillis - anchorMillis) / len * len;
    }
    ZonedDateTime anchor = Instant.ofEpochMilli(anchorMillis).atZone(ZoneOffset.UTC);
    ZonedDateTime now = Instant.ofEpochMilli(nowMillis).atZone(ZoneOffset.UTC);
    long periods = ChronoUnit.MONTHS.between(anchor, now) / count;
    return anchor.plusMonths(periods * count).toInstant().toEpochMilli();
  }

  /** The end (epoch ms, exclusive) of the period that starts at {@code windowStart}. */
  long windowEnd(long windowStart) {
    if (!unit.equals("mo")) {
      return windowStart + fixedLength().toMillis();
    }
    return Instant.ofEpochMilli(windowStart).atZone(ZoneOffset.UTC).plusMonths(count).toInstant().toEpochMilli();
  }

  /** {@code instant} plus one period. */
  long after(long millis) {
    return windowEnd(millis);
  }

  @Override
  public String toString() {
    return count + unit;
  }
}
