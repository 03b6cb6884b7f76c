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
 * Model groups from {@code pekko-llm.routing} (see reference.conf). A group is either a list,
 * {@code fast = ["groq/llama-3.1-8b-instant", "openai/gpt-4o-mini"]} (strategy {@code default-strategy}), or
 * an object, {@code cheap { strategy = lowest-cost, models = [...] }}. Immutable.
 */
public final class RoutingSettings {
  private final Map<String, ModelGroup> groups;

  private RoutingSettings(Map<String, ModelGroup> groups) {
    this.groups = Map.copyOf(groups);
  }

  /** No groups. */
  public static RoutingSettings empty() {
    return new RoutingSettings(Map.of());
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
    return new RoutingSettings(out);
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
}
