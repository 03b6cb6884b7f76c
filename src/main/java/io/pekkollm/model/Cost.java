package io.pekkollm.model;

import java.math.BigDecimal;
import java.util.Objects;

/**
 * What one call cost, in US dollars, split the way providers bill it: plain input, input read from a prompt
 * cache, input written to a prompt cache, output, and reasoning output. {@code total} is their sum. Values are
 * exact decimals (catalog price per million tokens × tokens ÷ 10⁶), trailing zeros stripped.
 *
 * <p>A cost exists only when every price it needs is known; an unknown price gives no cost at all, never a
 * zero (see {@code io.pekkollm.catalog.CostCalculator}). Immutable and thread-safe.
 */
public record Cost(BigDecimal input, BigDecimal cachedInput, BigDecimal cacheWrite, BigDecimal output,
    BigDecimal reasoning, BigDecimal total) {

  public static final Cost ZERO = of(BigDecimal.ZERO, BigDecimal.ZERO, BigDecimal.ZERO, BigDecimal.ZERO,
      BigDecimal.ZERO);

  public Cost {
    input = norm(input, "input");
    cachedInput = norm(cachedInput, "cachedInput");
    cacheWrite = norm(cacheWrite, "cacheWrite");
    output = norm(output, "output");
    reasoning = norm(reasoning, "reasoning");
    total = norm(total, "total");
  }

  /** A cost whose total is the sum of the parts. */
  public static Cost of(BigDecimal input, BigDecimal cachedInput, BigDecimal cacheWrite, BigDecimal output,
      BigDecimal reasoning) {
    return new Cost(input, cachedInput, cacheWrite, output, reasoning,
        input.add(cachedInput).add(cacheWrite).add(output).add(reasoning));
  }

  /** The sum of two costs, part by part (for totals per session or per key). */
  public Cost plus(Cost other) {
    return of(input.add(other.input), cachedInput.add(other.cachedInput), cacheWrite.add(other.cacheWrite),
        output.add(other.output), reasoning.add(other.reasoning));
  }

  private static BigDecimal norm(BigDecimal v, String name) {
    // Equal amounts compare equal whatever scale the arithmetic left them with.
    return Objects.requireNonNull(v, name).stripTrailingZeros();
  }
}
