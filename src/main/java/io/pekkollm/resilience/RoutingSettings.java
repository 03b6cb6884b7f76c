package io.pekkollm.resilience;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Model groups and model aliases from {@code pekko-llm.routing} (see reference.conf). A group is either a list,
 * {@code fast = ["groq/llama-3.1-8b-instant", "openai/gpt-4o-mini"]} (strategy {@code default-strategy}), or
 * an object, {@code cheap { strategy = lowest-cost, models = [...] }}. An alias maps a bare model id a client
 * sends to a {@code provider/model} id or a group: {@code model-aliases { "claude-x" = "anthropic/claude-x" }}.
 * Immutable.
 */
public final class RoutingSettings {
  private final Map<String, ModelGroup> groups;
  private final Map<String, String> modelAliases;

  private RoutingSettings(Map<String, ModelGroup> groups, Map<String, String> modelAliases) {
    this.groups = Map.copyOf(groups);
    this.modelAliases = Map.copyOf(modelAliases);
  }

  /** No groups, no aliases. */
  public static RoutingSettings empty() {
    return new RoutingSettings(Map.of(), Map.of());
  }

  /** Reads {@code pekko-llm.routing} of the whole configuration. */
  public static RoutingSettings create(Config config) {
    Config routing = config.getConfig("pekko-llm.routing");
    RoutingStrategy defaultStrategy = RoutingStrategy.of(routing.getString("default-strategy"));
    Map<String, ModelGroup> out = new LinkedHashMap<>();
    for (Map.Entry<String, ConfigValue> e : routing.getObject("groups").entrySet()) {
      String name = e.getKey();
      ConfigValue v = e.getValue();
      try {
        if (v.valueType() == ConfigValueType.LIST) {
          out.put(name, new ModelGroup(name, defaultStrategy, strings(v)));
        } else if (v.valueType() == ConfigValueType.OBJECT) {
          Config g = ((com.typesafe.config.ConfigObject) v).toConfig();
          RoutingStrategy s = g.hasPath("strategy") ? RoutingStrategy.of(g.getString("strategy")) : defaultStrategy;
          out.put(name, new ModelGroup(name, s, g.getStringList("models")));
        } else {
          throw new IllegalArgumentException("must be a list of provider/model ids or { strategy, models }");
        }
      } catch (IllegalArgumentException | ConfigException ex) {
        throw new ConfigException.BadValue(v.origin(), "pekko-llm.routing.groups." + name, ex.getMessage(), ex);
      }
    }
    Map<String, String> aliases = new LinkedHashMap<>();
    if (routing.hasPath("model-aliases")) {
      for (Map.Entry<String, ConfigValue> e : routing.getObject("model-aliases").entrySet()) {
        Object target = e.getValue().unwrapped();
        // Object keys are single path elements: "claude-3.5" (quoted) is one key; unquoted it is a nested object.
        String alias = e.getKey();
        if (!(target instanceof String t) || t.isBlank() || alias.indexOf('/') >= 0) {
          throw new ConfigException.BadValue(e.getValue().origin(), "pekko-llm.routing.model-aliases." + e.getKey(),
              "an alias is a bare model id (no '/'; quote ids with dots) mapped to a provider/model id or a group name");
        }
        aliases.put(alias, t);
      }
    }
    return new RoutingSettings(out, aliases);
  }


  private static List<String> strings(ConfigValue list) {
    List<String> out = new ArrayList<>();
    for (Object o : (List<?>) list.unwrapped()) {
      out.add(String.valueOf(o));
    }
    return out;
  }

  public Optional<ModelGroup> group(String name) {
    return Optional.ofNullable(groups.get(name));
  }

  /** Every group by name. */
  public Map<String, ModelGroup> groups() {
    return groups;
  }

  /** The configured aliases: bare model id → {@code provider/model} id or group name. */
  public Map<String, String> modelAliases() {
    return modelAliases;
  }
}
