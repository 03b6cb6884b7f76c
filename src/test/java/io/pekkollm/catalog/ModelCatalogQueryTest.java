package io.pekkollm.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ModelCatalogQueryTest {
  private static final ModelCatalog BUNDLED = ModelCatalog.bundled();

  /** A small catalog whose order is worked out by hand below. */
  private static final ModelCatalog SMALL = ModelCatalog.of(List.of(
      entry("a", "cheap-small", "0.1", "0.4", 16000, null, Capability.STREAMING),
      entry("a", "cheap-big", "0.1", "0.4", 128000, null, Capability.STREAMING, Capability.TOOLS),
      entry("b", "mid", "1", "2", 200000, null, Capability.STREAMING, Capability.TOOLS, Capability.VISION),
      // Same prices and window as b/mid: only the id orders them.
      entry("b", "tie-a", "1", "2", 200000, null, Capability.STREAMING, Capability.TOOLS),
      entry("c", "unpriced", null, null, 1000000, null, Capability.STREAMING, Capability.TOOLS),
      entry("c", "unpriced-no-window", null, null, null, null, Capability.STREAMING, Capability.TOOLS),
      entry("c", "retired", "0.01", "0.01", 128000, LocalDate.of(2025, 1, 31), Capability.STREAMING),
      ModelEntry.builder("d", "embedder").mode("embedding").contextWindow(8192)
          .pricing(Pricing.of("0.02", "0")).build()));

  private static ModelEntry entry(String provider, String model, String in, String out, Integer window,
      LocalDate deprecated, Capability... caps) {
    return ModelEntry.builder(provider, model).mode("chat").contextWindow(window)
        .pricing(in == null ? Pricing.UNKNOWN : Pricing.of(in, out)).capabilities(List.of(caps))
        .deprecationDate(deprecated).build();
  }

  private static List<String> ids(List<ModelEntry> entries) {
    return entries.stream().map(ModelEntry::id).toList();
  }

  @Test
  void supportsAnswersFromTheCatalogAndSaysUnknownForUnlistedModels() {
    assertEquals(Support.SUPPORTED, BUNDLED.supports("openai/gpt-4o-mini", Capability.VISION));
    assertEquals(Support.UNSUPPORTED, BUNDLED.supports("openai/gpt-4o-mini", Capability.REASONING));
    assertEquals(Support.SUPPORTED, BUNDLED.supports("anthropic/claude-3-5-haiku-20241022",
        Capability.ASSISTANT_PREFILL));
    assertEquals(Support.UNKNOWN, BUNDLED.supports("openai/gpt-99-turbo", Capability.TOOLS));
    assertEquals(Support.UNKNOWN, BUNDLED.supports("nosuchprovider/x", Capability.TOOLS));
    assertEquals(Support.UNKNOWN, BUNDLED.supports("no-slash", Capability.TOOLS));
    assertTrue(BUNDLED.supports("mock/echo", Capability.TOOLS).isSupported());
  }

  @Test
  void unknownModelOfAKnownProviderHasNoMetadata() {
    assertTrue(BUNDLED.hasProvider("openai"));
    assertTrue(BUNDLED.find("openai/gpt-99-turbo").isEmpty());
    assertTrue(BUNDLED.find("openai", "gpt-99-turbo").isEmpty());
    assertTrue(BUNDLED.models("nosuchprovider").isEmpty());
  }

  @Test
  void aliasesFindTheSameModel() {
    ModelEntry undated = BUNDLED.find("openai/gpt-4o-mini").orElseThrow();
    ModelEntry dated = BUNDLED.find("openai/gpt-4o-mini-2024-07-18").orElseThrow();
    assertEquals(List.of("gpt-4o-mini"), dated.aliases());
    assertEquals(undated.contextWindow(), dated.contextWindow());
    assertEquals(undated.pricing(), dated.pricing());

    ModelCatalog onlyAlias = ModelCatalog.of(List.of(ModelEntry.builder("p", "model-2025-01-01")
        .aliases(List.of("model", "model-latest")).contextWindow(1000).build(),
        ModelEntry.builder("p", "model-latest").contextWindow(2000).build()));
    assertEquals("p/model-2025-01-01", onlyAlias.find("p/model").orElseThrow().id());
    assertEquals(2000, onlyAlias.find("p/model-latest").orElseThrow().contextWindow().getAsInt(),
        "an id of its own wins over another entry's alias");
  }

  @Test
  void findsModelsWithEveryRequestedCapability() {
    assertEquals(List.of("a/cheap-big", "b/mid", "b/tie-a", "c/unpriced", "c/unpriced-no-window"),
        ids(SMALL.withCapabilities(Capability.TOOLS)));
    assertEquals(List.of("b/mid"), ids(SMALL.withCapabilities(Capability.TOOLS, Capability.VISION)));
    assertEquals(SMALL.models(), SMALL.withCapabilities(List.of()));
    List<ModelEntry> reasoningVision = BUNDLED.withCapabilities(Capability.REASONING, Capability.VISION);
    assertTrue(ids(reasoningVision).contains("openai/o3"), ids(reasoningVision).toString());
    assertTrue(reasoningVision.stream().allMatch(e -> e.has(Capability.REASONING) && e.has(Capability.VISION)));
  }

  @Test
  void comparesTwoModels() {
    ModelComparison c = BUNDLED.compare("openai/gpt-4o-mini", "anthropic/claude-3-5-haiku-20241022");
    assertEquals("openai/gpt-4o-mini", c.cheaper().orElseThrow().id());
    assertEquals("anthropic/claude-3-5-haiku-20241022", c.largerContext().orElseThrow().id());
    assertEquals(Set.of(Capability.PARALLEL_TOOLS, Capability.SYSTEM_MESSAGES), c.onlyFirst());
    assertEquals(Set.of(Capability.ASSISTANT_PREFILL, Capability.WEB_SEARCH), c.onlySecond());
    assertTrue(c.common().containsAll(Set.of(Capability.TOOLS, Capability.VISION, Capability.JSON_SCHEMA)));

    ModelComparison tie = SMALL.compare("b/mid", "b/tie-a");
    assertTrue(tie.cheaper().isEmpty(), "equal prices give no verdict");
    assertTrue(tie.largerContext().isEmpty());
    assertTrue(SMALL.compare("a/cheap-big", "c/unpriced").cheaper().isEmpty(), "an unknown price gives no verdict");

    LlmException e = assertThrows(LlmException.class, () -> BUNDLED.compare("openai/gpt-4o", "openai/nope"));
    assertEquals(ErrorKind.MODEL_NOT_FOUND, e.kind());
  }

  @Test
  void blendedPriceWeighsThreeInputTokensPerOutputToken() {
    assertEquals(new BigDecimal("0.2625"), Pricing.of("0.15", "0.6").blended().orElseThrow());
    assertTrue(new Pricing(new BigDecimal("1"), null, null, null, null).blended().isEmpty());
  }

  @Test
  void recommendOrdersByBlendedPriceThenContextThenId() {
    Requirements all = Requirements.builder().asOf(LocalDate.of(2026, 1, 1)).build();
    // blended: a/* 0.175, b/* 1.25 (tie: same window, so by id), unpriced last (with a window before without);
    // c/retired is deprecated; d/embedder is not a chat model.
    assertEquals(List.of("a/cheap-big", "a/cheap-small", "b/mid", "b/tie-a", "c/unpriced", "c/unpriced-no-window"),
        ids(SMALL.recommend(all)));
    assertEquals(List.of("c/retired", "a/cheap-big", "a/cheap-small"), ids(SMALL.recommend(Requirements.builder()
        .asOf(LocalDate.of(2025, 1, 30)).limit(3).build())), "not yet deprecated on the day before");
  }

  @Test
  void recommendFiltersAndLeavesOutModelsWhoseFilteredValueIsUnknown() {
    LocalDate day = LocalDate.of(2026, 1, 1);
    assertEquals(List.of("a/cheap-big", "b/mid", "b/tie-a", "c/unpriced"), ids(SMALL.recommend(Requirements.builder()
        .capabilities(Capability.TOOLS).minContextWindow(100000).asOf(day).build())));
    assertEquals(List.of("a/cheap-big"), ids(SMALL.recommend(Requirements.builder()
        .capabilities(Capability.TOOLS).maxInputPrice(new BigDecimal("0.5")).asOf(day).build())));
    assertEquals(List.of("a/cheap-big", "a/cheap-small"), ids(SMALL.recommend(Requirements.builder()
        .maxOutputPrice(new BigDecimal("0.4")).asOf(day).build())));
    assertEquals(List.of("b/mid", "b/tie-a"), ids(SMALL.recommend(Requirements.builder()
        .providers(List.of("b")).asOf(day).build())));
    assertEquals(List.of("d/embedder"), ids(SMALL.recommend(Requirements.builder().mode("embedding").asOf(day)
        .build())));
  }

  @Test
  void recommendOnTheRealCatalogMeetsEveryRequirement() {
    Requirements req = Requirements.builder().capabilities(Capability.TOOLS, Capability.VISION)
        .maxInputPrice(new BigDecimal("1")).minContextWindow(128000).asOf(LocalDate.of(2026, 2, 20)).build();
    List<ModelEntry> got = BUNDLED.recommend(req);
    assertTrue(got.size() > 5, ids(got).toString());
    for (int i = 0; i < got.size(); i++) {
      ModelEntry e = got.get(i);
      assertTrue(e.has(Capability.TOOLS) && e.has(Capability.VISION), e.toString());
      assertTrue(e.pricing().input().compareTo(BigDecimal.ONE) <= 0, e.toString());
      assertTrue(e.contextWindow().getAsInt() >= 128000, e.toString());
      if (i > 0) {
        assertTrue(got.get(i - 1).pricing().blended().orElseThrow().compareTo(e.pricing().blended().orElseThrow())
            <= 0, "sorted by blended price");
      }
    }
    assertEquals(got, BUNDLED.recommend(req), "deterministic");
  }
}
