package io.pekkollm.metrics;

import com.typesafe.config.Config;

/**
 * Metrics settings from {@code pekko-llm.metrics} (see reference.conf).
 *
 * @param enabled              record metrics at all
 * @param maxModelsPerProvider distinct models per provider with their own series; the rest share
 *                             {@code model="other"}
 */
public record MetricsSettings(boolean enabled, int maxModelsPerProvider) {

  public static MetricsSettings create(Config config) {
    Config c = config.getConfig("pekko-llm.metrics");
    return new MetricsSettings(c.getBoolean("enabled"), Math.max(1, c.getInt("max-models-per-provider")));
  }
}
