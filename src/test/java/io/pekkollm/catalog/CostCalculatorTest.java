package io.pekkollm.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.model.Cost;
import io.pekkollm.model.Usage;
import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

class CostCalculatorTest {
  private static final CostCalculator COSTS = CostCalculator.create(ModelCatalog.bundled());

  private static BigDecimal usd(String v) {
    return new BigDecimal(v);
  }

  @Test
  void pricesInputAndOutputPerMillionTokens() {
    // gpt-4o-mini: $0.15 / $0.60 per 1M tokens. 1000 × 0.15 / 10⁶ = 0.00015; 500 × 0.60 / 10⁶ = 0.0003.
    Cost c = COSTS.cost("openai/gpt-4o-mini", Usage.of(1000, 500)).orElseThrow();
    assertEquals(usd("0.00015"), c.input());
    assertEquals(usd("0.0003"), c.output());
    assertEquals(BigDecimal.ZERO, c.cachedInput());
    assertEquals(BigDecimal.ZERO, c.reasoning());
    assertEquals(usd("0.00045"), c.total());
    assertEquals("0.00045", c.total().toPlainString());
  }

  @Test
  void openAiFamilyCachedTokensAreInsideInputAndBilledAtCacheRead() {
    // 1000 prompt tokens of which 400 cached: 600 × 0.15 + 400 × 0.075 = 90 + 30 (µ$), output 500 × 0.6 = 300.
    Cost c = COSTS.cost("openai/gpt-4o-mini", new Usage(1000, 500, 400, 0, 0)).orElseThrow();
    assertEquals(usd("0.00009"), c.input());
    assertEquals(usd("0.00003"), c.cachedInput());
    assertEquals(usd("0.00042"), c.total());
  }

  @Test
  void anthropicCacheTokensAreBesideInput() {
    // claude-3-5-haiku: input 0.8, output 4, cache_read 0.08, cache_write 1 (USD per 1M).
    // 100 × 0.8 = 80, 1000 × 0.08 = 80, 2000 × 1 = 2000, 200 × 4 = 800 (µ$): 2960 µ$.
    Cost c = COSTS.cost("anthropic/claude-3-5-haiku-20241022", new Usage(100, 200, 1000, 2000, 0)).orElseThrow();
    assertEquals(usd("0.00008"), c.input());
    assertEquals(usd("0.00008"), c.cachedInput());
    assertEquals(usd("0.002"), c.cacheWrite());
    assertEquals(usd("0.0008"), c.output());
    assertEquals(usd("0.00296"), c.total());
  }

  @Test
  void cacheAccountingFollowsTheProviderFamily() {
    assertEquals(CacheAccounting.SEPARATE_FROM_INPUT, CacheAccounting.forProvider("anthropic"));
    assertEquals(CacheAccounting.SEPARATE_FROM_INPUT, CacheAccounting.forProvider("bedrock"));
    for (String p : new String[] {"openai", "deepseek", "gemini", "groq", "openrouter", "mock", "myserver"}) {
      assertEquals(CacheAccounting.INCLUDED_IN_INPUT, CacheAccounting.forProvider(p), p);
    }
    Pricing p = new Pricing(usd("2"), usd("8"), usd("0.5"), usd("3"), null);
    Usage u = new Usage(10_000, 0, 4_000, 1_000, 0);
    // Included: plain input is (10000 - 4000 - 1000) × $2 per 1M; separate: 10000 × $2 per 1M.
    assertEquals(usd("0.01"), CostCalculator.cost(p, u, CacheAccounting.INCLUDED_IN_INPUT).orElseThrow().input());
    assertEquals(usd("0.02"), CostCalculator.cost(p, u, CacheAccounting.SEPARATE_FROM_INPUT).orElseThrow().input());
  }

  @Test
  void reasoningTokensAreOutputBilledAtTheReasoningPriceWhenThereIsOne() {
    Usage u = new Usage(0, 600, 0, 0, 200);
    Cost apart = CostCalculator.cost(new Pricing(usd("1"), usd("4"), null, null, usd("10")), u,
        CacheAccounting.INCLUDED_IN_INPUT).orElseThrow();
    assertEquals(usd("0.0016"), apart.output());
    assertEquals(usd("0.002"), apart.reasoning());
    Cost asOutput = CostCalculator.cost(Pricing.of("1", "4"), u, CacheAccounting.INCLUDED_IN_INPUT).orElseThrow();
    assertEquals(usd("0.0016"), asOutput.output());
    assertEquals(usd("0.0008"), asOutput.reasoning());
    assertEquals(usd("0.0024"), asOutput.total(), "600 output tokens × $4 per 1M, split but not changed");
  }

  @Test
  void unknownPricesGiveNoCostNotZero() {
    assertTrue(COSTS.cost("ollama/llama3.2", Usage.of(10, 10)).isEmpty(), "no pricing at all");
    assertTrue(COSTS.cost("openai/gpt-99-turbo", Usage.of(10, 10)).isEmpty(), "model not in the catalog");
    assertTrue(COSTS.cost("openai/gpt-4o-mini", null).isEmpty(), "no usage");
    assertTrue(CostCalculator.cost(new Pricing(usd("1"), null, null, null, null), Usage.of(10, 0),
        CacheAccounting.INCLUDED_IN_INPUT).isEmpty(), "output price unknown");
    // chatgpt-4o-latest has input and output prices but no cache_read price.
    assertTrue(COSTS.cost("openai/chatgpt-4o-latest", Usage.of(1000, 10)).isPresent());
    assertTrue(COSTS.cost("openai/chatgpt-4o-latest", new Usage(1000, 10, 500, 0, 0)).isEmpty(),
        "cached tokens without a cache_read price");
  }

  @Test
  void aKnownZeroPriceIsAZeroCost() {
    Cost c = COSTS.cost("mock/echo", Usage.of(1000, 1000)).orElseThrow();
    assertEquals(BigDecimal.ZERO, c.total());
    assertEquals(Cost.ZERO, c);
  }

  @Test
  void costsAddUpPartByPart() {
    Cost a = COSTS.cost("openai/gpt-4o-mini", Usage.of(1000, 500)).orElseThrow();
    Cost b = COSTS.cost("openai/gpt-4o-mini", new Usage(1000, 500, 400, 0, 0)).orElseThrow();
    Cost sum = a.plus(b);
    assertEquals(usd("0.00087"), sum.total());
    assertEquals(usd("0.00024"), sum.input());
    assertEquals(usd("0.00003"), sum.cachedInput());
  }
}
