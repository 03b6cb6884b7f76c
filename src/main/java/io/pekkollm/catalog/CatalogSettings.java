package io.pekkollm.catalog;

import com.typesafe.config.Config;
import java.nio.file.Path;

/**
 * Catalog settings from {@code pekko-llm.catalog} (reference.conf documents each).
 *
 * @param modelsDir    external directory of {@code <provider>.yml} files that override and extend the bundled
 *                     catalog ({@code PEKKO_LLM_MODELS_DIR}); null for the bundled catalog only
 * @param contextCheck whether {@code LlmClient} checks that a request fits its model's context window before
 *                     sending it
 */
public record CatalogSettings(Path modelsDir, boolean contextCheck) {

  /** Reads {@code config} (the whole configuration, e.g. {@code ConfigFactory.load()}). */
  public static CatalogSettings create(Config config) {
    Config c = config.getConfig("pekko-llm.catalog");
    String dir = c.getString("models-dir").trim();
    return new CatalogSettings(dir.isEmpty() ? null : Path.of(dir), c.getBoolean("context-check"));
  }
}
