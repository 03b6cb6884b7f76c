package io.pekkollm.provider;

import com.typesafe.config.Config;
import io.pekkollm.resilience.ResilienceSettings;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Settings of one configured provider, read from {@code pekko-llm.providers.<name>} (see reference.conf for
 * every key). The API key is never printed by {@link #toString()}.
 *
 * @param name           provider id ({@code openai}, {@code groq}, ...)
 * @param kind           which implementation serves it ({@code openai}, {@code mock}, ...)
 * @param baseUrl        API base URL without trailing slash
 * @param apiKey         secret; empty when not set
 * @param enabled        whether requests may be sent
 * @param disabledReason what to tell a caller when not enabled
 * @param maxInFlight    admission limit: calls running at once
 * @param maxConnections HTTP connections kept to the upstream host
 * @param streamUsage    whether to request {@code stream_options.include_usage}
 * @param maxResponseBytes largest non-streamed body or error body read
 * @param responseTimeout longest wait for a non-streamed answer
 * @param headers        extra headers sent with every request
 * @param resilience     retries, circuit breaker, rate limits, timeouts and health check
 * @param images         size and count limits of the images in a request, checked before sending
 * @param config         the provider's whole config block, for kind-specific keys
 */
public record ProviderSettings(String name, String kind, String baseUrl, String apiKey, boolean enabled,
    String disabledReason, int maxInFlight, int maxConnections, boolean streamUsage, long maxResponseBytes,
    Duration responseTimeout, Map<String, String> headers, ResilienceSettings resilience, ImageLimits images, Config config) {

  /** Reads {@code config} (one provider's block, with the shared {@code defaults} already folded in). */
  public static ProviderSettings create(String name, Config config) {
    String kind = config.getString("kind");
    String explicitBase = config.hasPath("base-url") ? config.getString("base-url").trim() : "";
    String base = explicitBase.isEmpty() ? config.getString("default-base-url") : explicitBase;
    base = base.endsWith("/") ? base.substring(0, base.length() - 1) : base;
    String apiKey = config.hasPath("api-key") ? config.getString("api-key").trim() : "";
    String enabledSetting = config.getString("enabled");
    boolean requiresKey = config.getBoolean("requires-api-key");
    boolean enabled;
    String reason = null;
    switch (enabledSetting) {
      case "on", "true" -> enabled = true;
      case "off", "false" -> {
        enabled = false;
        reason = "provider '" + name + "' is disabled by configuration (pekko-llm.providers." + name + ".enabled)";
      }
      case "auto" -> {
        enabled = !requiresKey || !apiKey.isEmpty() || !explicitBase.isEmpty();
        if (!enabled) {
          String env = config.hasPath("api-key-env") ? config.getString("api-key-env") : name.toUpperCase() + "_API_KEY";
          reason = "provider '" + name + "' is not configured: set " + env;
        }
      }
      default -> throw new IllegalArgumentException("pekko-llm.providers." + name
          + ".enabled must be auto, on or off, not '" + enabledSetting + "'");
    }
    boolean local = kind.equals("mock") || kind.equals("custom");
    if (enabled && !local && !(base.startsWith("http://") || base.startsWith("https://"))) {
      throw new IllegalArgumentException("pekko-llm.providers." + name + ".base-url must be an http:// or https:// URL, not '"
          + base + "'");
    }
    Map<String, String> headers = new LinkedHashMap<>();
    if (config.hasPath("headers")) {
      config.getConfig("headers").entrySet()
          .forEach(e -> headers.put(e.getKey(), String.valueOf(e.getValue().unwrapped())));
    }
    return new ProviderSettings(name, kind, base, apiKey, enabled, reason, config.getInt("max-in-flight"),
        config.getInt("max-connections"), config.getBoolean("stream-usage"),
        config.getBytes("max-response-bytes"), config.getDuration("response-timeout"), Map.copyOf(headers),
        ResilienceSettings.create(config), ImageLimits.create(config), config);
  }

  /**
   * The secrets of this provider, for {@link io.pekkollm.util.Redactor#of}: the API key, AWS credentials and the
   * values of configured headers whose names mention a key, token or authorization.
   */
  public java.util.List<String> secrets() {
    java.util.List<String> out = new java.util.ArrayList<>();
    out.add(apiKey);
    for (String path : new String[] {"access-key-id", "session-token"}) {
      if (config != null && config.hasPath(path)) {
        out.add(config.getString(path));
      }
    }
    headers.forEach((name, value) -> {
      String n = name.toLowerCase(java.util.Locale.ROOT);
      if (n.contains("key") || n.contains("token") || n.contains("auth")) {
        out.add(value);
      }
    });
    return out;
  }

  /** The provider's {@code logging} block (folded in from {@code pekko-llm.logging}); none: nothing logged. */
  public io.pekkollm.util.LoggingSettings logging() {
    return config != null && config.hasPath("logging")
        ? io.pekkollm.util.LoggingSettings.create(config.getConfig("logging")) : io.pekkollm.util.LoggingSettings.DEFAULT;
  }

  /** The redactor of everything this provider logs, stores or shows: {@link #logging()}'s, with {@link #secrets()}. */
  public io.pekkollm.util.Redactor redactor() {
    return logging().redactor(secrets());
  }

  @Override
  public String toString() {
    return "ProviderSettings{name=" + name + ", kind=" + kind + ", baseUrl=" + baseUrl + ", apiKey="
        + (apiKey.isEmpty() ? "(none)" : "(set)") + ", enabled=" + enabled + ", maxInFlight=" + maxInFlight + "}";
  }
}
