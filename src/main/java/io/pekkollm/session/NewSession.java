package io.pekkollm.session;

import io.pekkollm.model.TruncationStrategy;
import java.util.Map;
import java.util.Objects;

/**
 * What a new session starts with: its {@code provider/model} (default {@code pekko-llm.sessions.default-model}),
 * an optional id (letters, digits, {@code -} and {@code _}, at most 64; a random one when absent), name, system
 * prompt, metadata, and context strategy (default {@code pekko-llm.sessions.context-strategy}; set
 * {@link Builder#noContextStrategy()} to reject turns that outgrow the window instead). Immutable; build with
 * {@link #builder()}.
 */
public final class NewSession {
  private final String id;
  private final String name;
  private final String model;
  private final String system;
  private final Map<String, String> metadata;
  private final TruncationStrategy contextStrategy;
  private final boolean contextStrategySet;
  private final String owner;

  private NewSession(Builder b) {
    this.id = b.id;
    this.name = b.name;
    this.model = b.model;
    this.system = b.system;
    this.metadata = b.metadata == null ? Map.of() : Map.copyOf(b.metadata);
    this.contextStrategy = b.contextStrategy;
    this.contextStrategySet = b.contextStrategySet;
    this.owner = b.owner;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A session of {@code model} with every other field at its default. */
  public static NewSession of(String model) {
    return builder().model(model).build();
  }

  public String id() { return id; }
  public String name() { return name; }
  public String model() { return model; }
  public String system() { return system; }
  public Map<String, String> metadata() { return metadata; }
  public TruncationStrategy contextStrategy() { return contextStrategy; }
  /** Whether the context strategy was chosen (null then means none) rather than left to the default. */
  public boolean contextStrategySet() { return contextStrategySet; }
  /** The virtual key id that owns the session (null: none); see {@link Session#owner()}. */
  public String owner() { return owner; }

  /** Builder for {@link NewSession}; not thread-safe. */
  public static final class Builder {
    private String id;
    private String name;
    private String model;
    private String system;
    private Map<String, String> metadata;
    private TruncationStrategy contextStrategy;
    private boolean contextStrategySet;
    private String owner;

    private Builder() {}

    public Builder id(String value) { this.id = value; return this; }
    public Builder name(String value) { this.name = value; return this; }
    public Builder model(String value) { this.model = value; return this; }
    /** A system prompt, stored as the history's first message. */
    public Builder system(String value) { this.system = value; return this; }
    public Builder metadata(Map<String, String> value) { this.metadata = value; return this; }
    /** See {@link NewSession#owner()}. */
    public Builder owner(String value) { this.owner = value; return this; }

    public Builder contextStrategy(TruncationStrategy value) {
      this.contextStrategy = Objects.requireNonNull(value);
      this.contextStrategySet = true;
      return this;
    }

    /** Turns whose history does not fit the model's window are rejected, never shortened. */
    public Builder noContextStrategy() {
      this.contextStrategy = null;
      this.contextStrategySet = true;
      return this;
    }

    public NewSession build() {
      return new NewSession(this);
    }
  }
}
