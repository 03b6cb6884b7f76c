package io.pekkollm.api;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

/**
 * Loads pekko-llm's configuration: system properties, then {@code application.conf}, then pekko-llm's defaults
 * for Pekko itself ({@code pekko-llm-pekko.conf}: SSE limits for LLM streams, timeouts, pool sizes, logging),
 * then every {@code reference.conf}. Those Pekko defaults cannot live in our {@code reference.conf}: in a fat jar
 * Pekko's own reference files are appended after it and would win. Build configs you pass to
 * {@link LlmClient#create(Config)} on top of {@link #load()}.
 */
public final class LlmConfig {
  private LlmConfig() {}

  /** The layered configuration, resolved. */
  public static Config load() {
    ConfigFactory.invalidateCaches();
    return ConfigFactory.defaultOverrides()
        .withFallback(ConfigFactory.defaultApplication())
        .withFallback(pekkoDefaults())
        .withFallback(ConfigFactory.defaultReference())
        .resolve();
  }

  /** pekko-llm's defaults for Pekko's own settings (unresolved). */
  public static Config pekkoDefaults() {
    return ConfigFactory.parseResources(LlmConfig.class.getClassLoader(), "pekko-llm-pekko.conf");
  }
}
