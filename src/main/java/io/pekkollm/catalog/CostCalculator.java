package io.pekkollm.catalog;

import io.pekkollm.model.Cost;
import io.pekkollm.model.Usage;
import java.math.BigDecimal;
import java.util.Optional;
import java.util.function.Function;

/**
 * Prices a call's {@link Usage} with the catalog's prices (USD per million tokens), exactly, in
 * {@link BigDecimal}.
 *
 * <p>The rules:
 * <ul>
 *   <li>Cached input is billed at {@code cache_read}, cache writes at {@code cache_write}, the rest of the
 *   input at {@code input}. Whether the usage's input count contains the cached tokens depends on the provider
 *   ({@link CacheAccounting}); where it does, they are subtracted from plain input so nothing is billed
 *   twice.</li>
 *   <li>Reasoning tokens are part of the output count ({@link Usage}); they are billed at {@code reasoning}
 *   where the catalog prices them apart, otherwise at {@code output} (OpenAI, Anthropic and Google bill
 *   reasoning as output tokens), and shown separately either way.</li>
 *   <li>No invented prices: when a price that has tokens to bill is unknown (input or output always; cache
 *   read, cache write only when those tokens are non-zero), there is no cost at all, not a partial one and not
 *   zero. A model missing from the catalog has no cost.</li>
 * </ul>
 * Immutable and thread-safe.
 */
public final class CostCalculator {
  private final ModelCatalog catalog;
  private final Function<String, CacheAccounting> accounting;

  private CostCalculator(ModelCatalog catalog, Function<String, CacheAccounting> accounting) {
    this.catalog = catalog;
    this.accounting = accounting;
  }

  /** A calculator whose cache accounting follows {@link CacheAccounting#forProvider(String)}. */
  public static CostCalculator create(ModelCatalog catalog) {
    return new CostCalculator(catalog, CacheAccounting::forProvider);
  }

  /** A calculator with the cache accounting of each provider given by {@code accounting}. */
  public static CostCalculator create(ModelCatalog catalog, Function<String, CacheAccounting> accounting) {
    return new CostCalculator(catalog, accounting);
  }

  /** The catalog whose prices this calculator uses. */
  public ModelCatalog catalog() {
    return catalog;
  }

  /** The cost of {@code usage} on model {@code provider/model}; empty when the model or a needed price is unknown. */
  public Optional<Cost> cost(String model, Usage usage) {
    return catalog.find(model).flatMap(e -> cost(e, usage, accounting.apply(e.provider())));
  }

  /** The cost of {@code usage} at {@code entry}'s prices. */
  public static Optional<Cost> cost(ModelEntry entry, Usage usage, CacheAccounting accounting) {
    return cost(entry.pricing(), usage, accounting);
  }

  /** The cost of {@code usage} at {@code prices}; see the class comment for the rules. */
  public static Optional<Cost> cost(Pricing prices, Usage usage, CacheAccounting accounting) {
    if (usage == null || prices.input() == null || prices.output() == null) {
      return Optional.empty();
    }
    long cached = Math.max(0, usage.cachedInputTokens());
    long written = Math.max(0, usage.cacheWriteTokens());
    if ((cached > 0 && prices.cacheRead() == null) || (written > 0 && prices.cacheWrite() == null)) {
      return Optional.empty();
    }
    long plainInput = accounting == CacheAccounting.INCLUDED_IN_INPUT
        ? Math.max(0, usage.inputTokens() - cached - written) : Math.max(0, usage.inputTokens());
    long reasoning = Math.max(0, Math.min(usage.reasoningTokens(), usage.outputTokens()));
    long plainOutput = Math.max(0, usage.outputTokens() - reasoning);
    BigDecimal reasoningPrice = prices.reasoning() != null ? prices.reasoning() : prices.output();
    return Optional.of(Cost.of(
        price(plainInput, prices.input()),
        price(cached, prices.cacheRead()),
        price(written, prices.cacheWrite()),
        price(plainOutput, prices.output()),
        price(reasoning, reasoningPrice)));
  }

  private static BigDecimal price(long tokens, BigDecimal perMillion) {
    if (tokens == 0) {
      return BigDecimal.ZERO;
    }
    // Exact: a price per million tokens × tokens, with the decimal point moved six places.
    return perMillion.multiply(BigDecimal.valueOf(tokens)).movePointLeft(6);
  }
}
