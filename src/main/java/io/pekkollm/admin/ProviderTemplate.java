package io.pekkollm.admin;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.util.Json;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * How to set up one kind of provider: what it is (name, description, category, setup difficulty, docs), which
 * implementation serves it ({@code kind}) with which fixed settings, the fields a user fills (its configuration
 * schema) and how its models are listed. Read from {@code provider-templates.yml} by {@link ProviderTemplates}.
 * Immutable.
 *
 * @param settings fixed keys of the provider's config block (see reference.conf's {@code pekko-llm.providers})
 */
public record ProviderTemplate(String id, String name, String description, String category, String difficulty,
    boolean recommended, String docsUrl, String kind, Map<String, Object> settings, List<Field> configSchema,
    ModelFetching modelFetching) {

  /** The categories, in the order the UI shows them. */
  public static final List<String> CATEGORIES = List.of("popular_cloud", "enterprise", "local", "custom");
  public static final List<String> DIFFICULTIES = List.of("easy", "medium", "hard");
  public static final List<String> TYPES = List.of("text", "password", "url", "select", "number");

  public ProviderTemplate {
    settings = Map.copyOf(settings);
    configSchema = List.copyOf(configSchema);
  }

  /**
   * One field of the form: {@code key} is the provider config key its value goes to; a {@code password} field is a
   * secret (encrypted at rest, never returned). {@code defaultValue}, {@code pattern} may be null; {@code options}
   * is empty unless {@code type} is {@code select}. A value must match {@code pattern} as a whole.
   */
  public record Field(String name, String key, String type, String label, boolean required, String defaultValue,
      String help, String pattern, List<String> options) {
    public Field {
      options = List.copyOf(options);
    }

    /** Whether the value is a secret. */
    public boolean secret() {
      return type.equals("password");
    }

    /** What is wrong with {@code value} (non-empty), or null when it is fine. */
    String problem(String value) {
      switch (type) {
        case "number" -> {
          try {
            Double.parseDouble(value);
          } catch (NumberFormatException e) {
            return "must be a number";
          }
        }
        case "url" -> {
          if (!value.startsWith("http://") && !value.startsWith("https://")) {
            return "must be an http:// or https:// URL";
          }
        }
        case "select" -> {
          if (!options.contains(value)) {
            return "must be one of " + String.join(", ", options);
          }
        }
        default -> { }
      }
      if (pattern != null && !Pattern.compile(pattern).matcher(value).matches()) {
        return "does not have the expected form" + (secret() ? "" : " (" + pattern + ")");
      }
      return null;
    }

    ObjectNode toJson() {
      ObjectNode o = Json.object().put("name", name).put("type", type).put("label", label).put("required", required)
          .put("default", defaultValue).put("help", help).put("pattern", pattern).put("secret", secret());
      ArrayNode opts = o.putArray("options");
      options.forEach(opts::add);
      return o;
    }
  }

  /** How models are listed ({@code method}, for people), how long a list is kept, and the fallback models. */
  public record ModelFetching(String method, int ttlSeconds, List<String> fallbackModels) {
    public ModelFetching {
      fallbackModels = List.copyOf(fallbackModels);
    }
  }

  /** The field named {@code name}, or null. */
  public Field field(String name) {
    return configSchema.stream().filter(f -> f.name().equals(name)).findFirst().orElse(null);
  }

  /** The template as {@code GET /v1/admin/provider-templates} shows it. */
  public ObjectNode toJson() {
    ObjectNode o = Json.object().put("id", id).put("name", name).put("description", description)
        .put("category", category).put("difficulty", difficulty).put("recommended", recommended)
        .put("docs_url", docsUrl).put("kind", kind);
    ArrayNode fields = o.putArray("config_schema");
    configSchema.forEach(f -> fields.add(f.toJson()));
    ObjectNode mf = o.putObject("model_fetching").put("method", modelFetching.method())
        .put("ttl_seconds", modelFetching.ttlSeconds());
    ArrayNode fb = mf.putArray("fallback_models");
    modelFetching.fallbackModels().forEach(fb::add);
    return o;
  }
}
