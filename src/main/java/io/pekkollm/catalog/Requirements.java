package io.pekkollm.catalog;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.Collection;
import java.util.EnumSet;
import java.util.Set;
import java.util.TreeSet;

/**
 * What {@link ModelCatalog#recommend} looks for. Defaults: mode {@code chat}, no capability, price or context
 * limit, every provider, deprecated models left out as of today (UTC), no limit on the number of results.
 * A limit excludes models whose value is unknown: with a maximum input price, a model of unknown input price
 * is not recommended. Immutable; build with {@link #builder()}.
 */
public final class Requirements {
  private final Set<Capability> capabilities;
  private final BigDecimal maxInputPrice;
  private final BigDecimal maxOutputPrice;
  private final Integer minContextWindow;
  private final Set<String> providers;
  private final String mode;
  private final LocalDate asOf;
  private final int limit;

  private Requirements(Builder b) {
    this.capabilities = Set.copyOf(b.capabilities);
    this.maxInputPrice = b.maxInputPrice;
    this.maxOutputPrice = b.maxOutputPrice;
    this.minContextWindow = b.minContextWindow;
    this.providers = Set.copyOf(b.providers);
    this.mode = b.mode;
    this.asOf = b.asOf;
    this.limit = b.limit;
  }

  public static Builder builder() {
    return new Builder();
  }

  public Set<Capability> capabilities() { return capabilities; }
  /** USD per 1M input tokens, or null for no limit. */
  public BigDecimal maxInputPrice() { return maxInputPrice; }
  /** USD per 1M output tokens, or null for no limit. */
  public BigDecimal maxOutputPrice() { return maxOutputPrice; }
  /** Minimum context window in tokens, or null for no limit. */
  public Integer minContextWindow() { return minContextWindow; }
  /** Providers to choose from; empty for all. */
  public Set<String> providers() { return providers; }
  /** Required mode, or null for any. */
  public String mode() { return mode; }
  /** The date deprecation is judged at; null for today (UTC). */
  public LocalDate asOf() { return asOf; }
  /** Most results returned; 0 for all. */
  public int limit() { return limit; }

  /** Builder for {@link Requirements}; not thread-safe. */
  public static final class Builder {
    private final Set<Capability> capabilities = EnumSet.noneOf(Capability.class);
    private BigDecimal maxInputPrice;
    private BigDecimal maxOutputPrice;
    private Integer minContextWindow;
    private final Set<String> providers = new TreeSet<>();
    private String mode = "chat";
    private LocalDate asOf;
    private int limit;

    private Builder() {}

    public Builder capabilities(Capability... values) {
      capabilities.addAll(Set.of(values));
      return this;
    }

    public Builder capabilities(Collection<Capability> values) {
      capabilities.addAll(values);
      return this;
    }

    /** Maximum price in USD per 1M input tokens. */
    public Builder maxInputPrice(BigDecimal value) { this.maxInputPrice = value; return this; }

    /** Maximum price in USD per 1M output tokens. */
    public Builder maxOutputPrice(BigDecimal value) { this.maxOutputPrice = value; return this; }

    public Builder minContextWindow(Integer tokens) { this.minContextWindow = tokens; return this; }

    /** Restricts the choice to these providers (e.g. the enabled ones). */
    public Builder providers(Collection<String> values) {
      providers.addAll(values);
      return this;
    }

    /** The mode models must have; null for any. Default {@code chat}. */
    public Builder mode(String value) { this.mode = value; return this; }

    /** Leave out models deprecated on or before this date (default today, UTC). */
    public Builder asOf(LocalDate value) { this.asOf = value; return this; }

    /** Return at most {@code n} models; 0 for all. */
    public Builder limit(int n) {
      if (n < 0) {
        throw new IllegalArgumentException("limit must not be negative");
      }
      this.limit = n;
      return this;
    }

    public Requirements build() {
      return new Requirements(this);
    }
  }
}
