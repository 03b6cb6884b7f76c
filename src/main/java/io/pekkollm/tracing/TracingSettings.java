package io.pekkollm.tracing;

import com.typesafe.config.Config;
import java.util.Locale;
import java.util.Map;

/**
 * {@code pekko-llm.tracing}: whether calls are traced with OpenTelemetry, and how many journal writes of a stream
 * get a span. {@code enabled = auto} (the default) turns tracing on when {@code OTEL_EXPORTER_OTLP_ENDPOINT} (or
 * {@code OTEL_EXPORTER_OTLP_TRACES_ENDPOINT}, or their {@code otel.*} system properties) is set, unless
 * {@code OTEL_SDK_DISABLED=true}; everything else about the exporter follows the standard {@code OTEL_*}
 * variables.
 *
 * @param enabled whether spans are made
 * @param journalSpanEvery a stream's first journal write gets a span, then every n-th (0: only the first)
 * @param journalSpansPerStream at most this many journal-write spans per stream (0: none)
 */
public record TracingSettings(boolean enabled, int journalSpanEvery, int journalSpansPerStream) {

  /** Tracing off. */
  public static final TracingSettings OFF = new TracingSettings(false, 16, 4);

  public static TracingSettings create(Config config) {
    return create(config, System.getenv());
  }

  /** {@code config} (the root configuration) with {@code env} as the process environment. */
  public static TracingSettings create(Config config, Map<String, String> env) {
    Config c = config.getConfig("pekko-llm.tracing");
    String mode = c.getString("enabled").trim().toLowerCase(Locale.ROOT);
    boolean enabled = switch (mode) {
      case "on", "true", "yes" -> true;
      case "off", "false", "no" -> false;
      case "auto" -> !isTrue(setting(env, "OTEL_SDK_DISABLED"))
          && (setting(env, "OTEL_EXPORTER_OTLP_ENDPOINT") != null
              || setting(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != null);
      default -> throw new IllegalArgumentException("pekko-llm.tracing.enabled must be on, off or auto, not '"
          + c.getString("enabled") + "'");
    };
    int every = c.getInt("journal-span-every");
    int max = c.getInt("journal-spans-per-stream");
    if (every < 0 || max < 0) {
      throw new IllegalArgumentException("pekko-llm.tracing.journal-span-every and journal-spans-per-stream must be "
          + ">= 0");
    }
    return new TracingSettings(enabled, every, max);
  }

  /** An environment variable, else its {@code otel.*} system property; null when neither is set or blank. */
  private static String setting(Map<String, String> env, String name) {
    String v = env.get(name);
    if (v == null || v.isBlank()) {
      v = System.getProperty(name.toLowerCase(Locale.ROOT).replace('_', '.'));
    }
    return v == null || v.isBlank() ? null : v;
  }

  private static boolean isTrue(String v) {
    return v != null && v.trim().equalsIgnoreCase("true");
  }
}
