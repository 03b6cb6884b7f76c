package io.pekkollm.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.pekkollm.model.LlmException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The provider templates ({@code io/pekkollm/admin/provider-templates.yml} on the class path), and the check of a
 * runtime provider's configuration against its template's schema. Immutable; thread-safe.
 */
public final class ProviderTemplates {
  static final String RESOURCE = "io/pekkollm/admin/provider-templates.yml";
  private static final Set<String> KINDS = Set.of("openai", "anthropic", "gemini", "ollama", "cohere", "bedrock");

  private final Map<String, ProviderTemplate> byId;

  private ProviderTemplates(Map<String, ProviderTemplate> byId) {
    this.byId = byId;
  }

  /** The bundled templates; throws IllegalStateException naming the template and field when the file is malformed. */
  public static ProviderTemplates load() {
    try (InputStream in = ProviderTemplates.class.getClassLoader().getResourceAsStream(RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(RESOURCE + " is missing from the class path");
      }
      return parse(new ObjectMapper(new YAMLFactory()).readTree(in));
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + RESOURCE + ": " + e.getMessage(), e);
    }
  }

  static ProviderTemplates parse(JsonNode root) {
    if (root == null || !root.isArray()) {
      throw new IllegalStateException(RESOURCE + " must be a list of templates");
    }
    Map<String, ProviderTemplate> out = new LinkedHashMap<>();
    for (JsonNode t : root) {
      String id = required(t, "id", "?");
      List<ProviderTemplate.Field> fields = new ArrayList<>();
      for (JsonNode f : t.path("config_schema")) {
        String name = required(f, "name", id);
        String type = required(f, "type", id + "." + name);
        check(ProviderTemplate.TYPES.contains(type), id + "." + name + ": type must be one of " + ProviderTemplate.TYPES);
        String pattern = text(f, "pattern");
        if (pattern != null) {
          try {
            Pattern.compile(pattern);
          } catch (PatternSyntaxException e) {
            throw new IllegalStateException(RESOURCE + ": " + id + "." + name + ": bad pattern: " + e.getMessage(), e);
          }
        }
        List<String> options = new ArrayList<>();
        f.path("options").forEach(o -> options.add(o.asText()));
        check(!type.equals("select") || !options.isEmpty(), id + "." + name + ": a select needs options");
        fields.add(new ProviderTemplate.Field(name, required(f, "key", id + "." + name), type,
            required(f, "label", id + "." + name), f.path("required").asBoolean(false), text(f, "default"),
            required(f, "help", id + "." + name), pattern, options));
      }
      check(!fields.isEmpty(), id + ": config_schema is empty");
      String category = required(t, "category", id);
      check(ProviderTemplate.CATEGORIES.contains(category), id + ": category must be one of " + ProviderTemplate.CATEGORIES);
      String difficulty = required(t, "difficulty", id);
      check(ProviderTemplate.DIFFICULTIES.contains(difficulty), id + ": difficulty must be one of "
          + ProviderTemplate.DIFFICULTIES);
      String kind = required(t, "kind", id);
      check(KINDS.contains(kind), id + ": kind must be one of " + KINDS);
      Map<String, Object> settings = new LinkedHashMap<>();
      t.path("settings").fields().forEachRemaining(e -> settings.put(e.getKey(),
          e.getValue().isBoolean() ? e.getValue().asBoolean() : e.getValue().isNumber() ? e.getValue().numberValue()
              : e.getValue().asText()));
      JsonNode mf = t.path("model_fetching");
      check(mf.path("ttl_seconds").canConvertToInt() && mf.path("ttl_seconds").asInt() > 0,
          id + ": model_fetching.ttl_seconds must be a positive integer");
      List<String> fallback = new ArrayList<>();
      mf.path("fallback_models").forEach(m -> fallback.add(m.asText()));
      check(out.put(id, new ProviderTemplate(id, required(t, "name", id), required(t, "description", id), category,
          difficulty, t.path("recommended").asBoolean(false), required(t, "docs_url", id), kind, settings, fields,
          new ProviderTemplate.ModelFetching(required(mf, "method", id + ".model_fetching"),
              mf.path("ttl_seconds").asInt(), fallback))) == null, id + ": the id is used twice");
    }
    return new ProviderTemplates(Map.copyOf(out));
  }

  /** Every template, by category (in {@link ProviderTemplate#CATEGORIES} order), then name. */
  public List<ProviderTemplate> all() {
    return byId.values().stream().sorted(java.util.Comparator
        .comparingInt((ProviderTemplate t) -> ProviderTemplate.CATEGORIES.indexOf(t.category()))
        .thenComparing(ProviderTemplate::name)).toList();
  }

  /** The template {@code id}, or null. */
  public ProviderTemplate get(String id) {
    return id == null ? null : byId.get(id);
  }

  /**
   * Checks {@code config} (field name to value; blank values count as absent) against {@code template}'s schema:
   * unknown fields, missing required ones, and values of the wrong form fail with INVALID_REQUEST whose param names
   * the field ({@code config.<name>}). Secret values are never part of a message.
   */
  public static void validate(ProviderTemplate template, Map<String, String> config) {
    validate(template, config, Set.of());
  }

  /** As above, with the fields named in {@code kept} present with values checked before (stored secrets). */
  static void validate(ProviderTemplate template, Map<String, String> config, Set<String> kept) {
    for (String name : config.keySet()) {
      if (template.field(name) == null) {
        throw LlmException.invalidRequest("config." + name + " is not a field of template '" + template.id()
            + "'; its fields: " + String.join(", ", template.configSchema().stream()
                .map(ProviderTemplate.Field::name).toList()), "config." + name);
      }
    }
    // Values of the wrong form first, then missing ones: a form being filled in learns about what it typed.
    for (ProviderTemplate.Field f : template.configSchema()) {
      String v = config.get(f.name());
      if (v != null && !v.isBlank() && !kept.contains(f.name())) {
        String problem = f.problem(v.trim());
        if (problem != null) {
          throw LlmException.invalidRequest("config." + f.name() + " (" + f.label() + ") " + problem,
              "config." + f.name());
        }
      }
    }
    for (ProviderTemplate.Field f : template.configSchema()) {
      String v = config.get(f.name());
      if (f.required() && f.defaultValue() == null && (v == null || v.isBlank()) && !kept.contains(f.name())) {
        throw LlmException.invalidRequest("config." + f.name() + " (" + f.label() + ") is required",
            "config." + f.name());
      }
    }
  }

  private static String required(JsonNode n, String field, String where) {
    String v = text(n, field);
    check(v != null && !v.isBlank(), where + ": '" + field + "' is required");
    return v;
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }

  private static void check(boolean ok, String message) {
    if (!ok) {
      throw new IllegalStateException(RESOURCE + ": " + message);
    }
  }
}
