package io.pekkollm.catalog;

import java.math.BigDecimal;
import java.util.Optional;

/**
 * Prices of one model in US dollars per million tokens, as in {@code config/models/*.yml}: {@code input},
 * {@code output}, {@code cacheRead} (input read from a prompt cache), {@code cacheWrite} (input written to a
 * prompt cache) and {@code reasoning} (reasoning output, where it is priced apart from output). Each is null
 * when unknown; zero is a known price of nothing. Immutable.
 */
public record Pricing(BigDecimal input, BigDecimal output, BigDecimal cacheRead, BigDecimal cacheWrite,
    BigDecimal reasoning) {

  /** Nothing known. */
  public static final Pricing UNKNOWN = new Pricing(null, null, null, null, null);

  private static final BigDecimal THREE = BigDecimal.valueOf(3);
  private static final BigDecimal FOUR = BigDecimal.valueOf(4);

  /** Input and output prices only. */
  public static Pricing of(String input, String output) {
    return new Pricing(new BigDecimal(input), new BigDecimal(output), null, null, null);
  }

  /** True when no price at all is known. */
  public boolean isUnknown() {
    return input == null && output == null && cacheRead == null && cacheWrite == null && reasoning == null;
  }

  /**
   * The blended price per million tokens, {@code (3 × input + output) / 4}, or empty unless both are known.
   * Three input tokens per output token is a typical chat mix (Artificial Analysis ranks models by the same
   * blend); it orders {@link ModelCatalog#recommend} results and {@link ModelComparison#cheaper()}.
   */
  public Optional<BigDecimal> blended() {
    if (input == null || output == null) {
      return Optional.empty();
    }
    // Dividing by 4 always terminates, so the result is exact.
    return Optional.of(input.multiply(THREE).add(output).divide(FOUR).stripTrailingZeros());
  }
}
