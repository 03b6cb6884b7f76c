package io.pekkollm.catalog;

import java.util.Optional;

/**
 * The capability vocabulary of {@code config/models/*.yml} (see {@code config/models/README.md} for where each
 * comes from). A catalog file may name capabilities this enum does not know yet: they are kept as strings in
 * {@link ModelEntry#otherCapabilities()}, never an error.
 */
public enum Capability {
  STREAMING("streaming"),
  TOOLS("tools"),
  PARALLEL_TOOLS("parallel_tools"),
  VISION("vision"),
  JSON_SCHEMA("json_schema"),
  REASONING("reasoning"),
  PROMPT_CACHING("prompt_caching"),
  ASSISTANT_PREFILL("assistant_prefill"),
  SYSTEM_MESSAGES("system_messages"),
  AUDIO("audio"),
  PDF("pdf"),
  WEB_SEARCH("web_search");

  private final String wireName;

  Capability(String wireName) {
    this.wireName = wireName;
  }

  /** The name used in the YAML files and the gateway's JSON. */
  public String wireName() {
    return wireName;
  }

  /** The capability named {@code name} in the YAML vocabulary, or empty for a name this version does not know. */
  public static Optional<Capability> fromWireName(String name) {
    for (Capability c : values()) {
      if (c.wireName.equals(name)) {
        return Optional.of(c);
      }
    }
    return Optional.empty();
  }
}
