package io.pekkollm.api;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValueType;
import io.pekkollm.provider.ProviderSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Library settings read from {@code pekko-llm} (reference.conf documents every key): the providers, with the
 * shared {@code provider-defaults} folded into each, and timeouts of the client itself.
 */
public record LlmSettings(List<ProviderSettings> providers, Duration admissionTimeout, Duration modelsTimeout,
    Duration restartMinBackoff, Duration restartMaxBackoff) {

  /** Reads {@code config} (the whole configuration, e.g. {@code ConfigFactory.load()}). */
  public static LlmSettings create(Config config) {
    Config root = config.getConfig("pekko-llm");
    Config providers = root.getConfig("providers");
    List<ProviderSettings> out = new ArrayList<>();
    for (String name : providers.root().keySet().stream().sorted().toList()) {
      if (providers.root().get(name).valueType() != ConfigValueType.OBJECT) {
        throw new ConfigException.WrongType(providers.origin(), "pekko-llm.providers." + name,
            "object", providers.root().get(name).valueType().name());
      }
      if (name.isBlank() || name.contains("/")) {
        throw new ConfigException.BadPath("pekko-llm.providers." + name, "a provider name may not contain '/'");
      }
      out.add(provider(config, name, providers.getConfig("\"" + name + "\"")));
    }
    return new LlmSettings(List.copyOf(out), root.getDuration("admission-timeout"),
        root.getDuration("models-timeout"), root.getDuration("provider-restart.min-backoff"),
        root.getDuration("provider-restart.max-backoff"));
  }

  /**
   * The settings of provider {@code name} whose own block is {@code block}, with {@code provider-defaults} and the
   * logging block of {@code config} (the whole configuration) folded in, as for a configured provider. For
   * providers configured at runtime. Throws ConfigException naming the provider when a setting is invalid.
   */
  public static ProviderSettings provider(Config config, String name, Config block) {
    Config root = config.getConfig("pekko-llm");
    // The logging block is folded in too: a provider logs and redacts as pekko-llm.logging says, unless its own
    // block overrides that.
    Config p = block.withFallback(root.getConfig("provider-defaults"))
        .withFallback(root.getConfig("logging").atKey("logging"));
    try {
      return ProviderSettings.create(name, p);
    } catch (ConfigException e) {
      throw new ConfigException.Generic("invalid settings for provider '" + name + "': " + e.getMessage(), e);
    }
  }
}
