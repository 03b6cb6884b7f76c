package io.pekkollm.session;

import io.pekkollm.model.TruncationStrategy;
import java.util.Map;
import java.util.Optional;

/**
 * Changes to a session's settings: each field that is set replaces the session's (metadata as a whole). Model
 * changes apply to the next turn; the history stays. Immutable; build with {@link #builder()}.
 */
public final class SessionUpdate {
  private final String name;
  private final String model;
  private final Map<String, String> metadata;
  private final TruncationStrategy contextStrategy;
  private final boolean changesContextStrategy;

  private SessionUpdate(Builder b) {
    this.name = b.name;
    this.model = b.model;
    this.metadata = b.metadata == null ? null : Map.copyOf(b.metadata);
    this.contextStrategy = b.contextStrategy;
    this.changesContextStrategy = b.changesContextStrategy;
  }

  public static Builder builder() {
    return new Builder();
  }

  public Optional<String> name() { return Optional.ofNullable(name); }
  public Optional<String> model() { return Optional.ofNullable(model); }
  public Optional<Map<String, String>> metadata() { return Optional.ofNullable(metadata); }
  /** Whether the context strategy changes (to {@link #contextStrategy()}). */
  public boolean changesContextStrategy() { return changesContextStrategy; }
  /** The new context strategy when {@link #changesContextStrategy()}; null for none (turns that do not fit fail). */
  public TruncationStrategy contextStrategy() { return contextStrategy; }

  /** Builder for {@link SessionUpdate}; not thread-safe. */
  public static final class Builder {
    private String name;
    private String model;
    private Map<String, String> metadata;
    private TruncationStrategy contextStrategy;
    private boolean changesContextStrategy;

    private Builder() {}

    public Builder name(String value) { this.name = value; return this; }
    public Builder model(String value) { this.model = value; return this; }
    public Builder metadata(Map<String, String> value) { this.metadata = value; return this; }
    /** The new context strategy; null for none. */
    public Builder contextStrategy(TruncationStrategy value) {
      this.contextStrategy = value;
      this.changesContextStrategy = true;
      return this;
    }

    public SessionUpdate build() {
      return new SessionUpdate(this);
    }
  }
}
