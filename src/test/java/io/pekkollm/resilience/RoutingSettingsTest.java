package io.pekkollm.resilience;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigException;
import io.pekkollm.testkit.TestConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

class RoutingSettingsTest {

  @Test
  void readsListAndObjectGroupsWithTheDefaultStrategy() {
    RoutingSettings r = RoutingSettings.create(TestConfig.of("pekko-llm.routing {\n"
        + "  default-strategy = least-busy\n"
        + "  groups {\n"
        + "    fast = [\"groq/llama-3.1-8b-instant\", \"openai/gpt-4o-mini\"]\n"
        + "    cheap { strategy = lowest_cost, models = [\"openai/gpt-4o-mini\"] }\n"
        + "  }\n"
        + "}"));
    ModelGroup fast = r.group("fast").orElseThrow();
    assertEquals(RoutingStrategy.LEAST_BUSY, fast.strategy());
    assertEquals(List.of("groq/llama-3.1-8b-instant", "openai/gpt-4o-mini"), fast.models());
    assertEquals(RoutingStrategy.LOWEST_COST, r.group("cheap").orElseThrow().strategy());
    assertTrue(r.group("slow").isEmpty());
  }

  @Test
  void badGroupsFailStartUpNamingTheKey() {
    ConfigException e = assertThrows(ConfigException.class, () -> RoutingSettings.create(TestConfig.of(
        "pekko-llm.routing.groups.fast = [\"gpt-4o-mini\"]")));
    assertTrue(e.getMessage().contains("pekko-llm.routing.groups.fast"), e.getMessage());
    assertTrue(e.getMessage().contains("provider/model"), e.getMessage());
    e = assertThrows(ConfigException.class, () -> RoutingSettings.create(TestConfig.of(
        "pekko-llm.routing.groups.fast { strategy = fastest, models = [\"a/b\"] }")));
    assertTrue(e.getMessage().contains("least-latency"), e.getMessage());
  }

  @Test
  void readsModelAliasesAndRefusesAnAliasWithASlash() {
    RoutingSettings r = RoutingSettings.create(TestConfig.of(
        "pekko-llm.routing.model-aliases { \"claude-3.5\" = \"anthropic/claude-3-5-haiku-20241022\", x = fast }"));
    assertEquals("anthropic/claude-3-5-haiku-20241022", r.modelAliases().get("claude-3.5"));
    assertEquals("fast", r.modelAliases().get("x"));
    ConfigException e = assertThrows(ConfigException.class, () -> RoutingSettings.create(TestConfig.of(
        "pekko-llm.routing.model-aliases { \"a/b\" = \"openai/gpt-4o\" }")));
    assertTrue(e.getMessage().contains("pekko-llm.routing.model-aliases"), e.getMessage());
  }
}
