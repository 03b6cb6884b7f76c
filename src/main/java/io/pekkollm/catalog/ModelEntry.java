package io.pekkollm.catalog;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the catalog knows about one model: one entry of {@code config/models/<provider>.yml}. Every field but
 * the ids may be unknown, and unknown stays unknown (an empty Optional, {@link Pricing#UNKNOWN}, an empty
 * capability set): nothing is filled in by guessing.
 *
 * <p>{@link #model()} is the id the provider's API expects ({@code gpt-4o-mini}); {@link #id()} is the
 * library's {@code provider/model}. {@link #aliases()} are other model ids of the same provider naming the same
 * model. Immutable and thread-safe; build with {@link #builder(String, String)}.
 */
public final class ModelEntry {
  private final String provider;
  private final String model;
  private final String mode;
  private final Integer contextWindow;
  private final Integer maxOutputTokens;
  private final Pricing pricing;
  private final Set<Capability> capabilities;
  private final Set<String> otherCapabilities;
  private final LocalDate deprecationDate;
  private final List<String> aliases;
  private final List<String> litellmKeys;

  private ModelEntry(Builder b) {
    this.provider = requireId(b.provider, "provider");
    this.model = requireId(b.model, "model");
    this.mode = b.mode;
    this.contextWindow = b.contextWindow;
    this.maxOutputTokens = b.maxOutputTokens;
    this.pricing = b.pricing == null ? Pricing.UNKNOWN : b.pricing;
    this.capabilities = Collections.unmodifiableSet(b.capabilities.isEmpty()
        ? EnumSet.noneOf(Capability.class) : EnumSet.copyOf(b.capabilities));
    this.otherCapabilities = Collections.unmodifiableSet(new TreeSet<>(b.otherCapabilities));
    this.deprecationDate = b.deprecationDate;
    this.aliases = List.copyOf(b.aliases);
    this.litellmKeys = List.copyOf(b.litellmKeys);
  }

  public static Builder builder(String provider, String model) {
    return new Builder(provider, model);
  }

  public Builder toBuilder() {
    Builder b = new Builder(provider, model);
    b.mode = mode;
    b.contextWindow = contextWindow;
    b.maxOutputTokens = maxOutputTokens;
    b.pricing = pricing;
    b.capabilities.addAll(capabilities);
    b.otherCapabilities.addAll(otherCapabilities);
    b.deprecationDate = deprecationDate;
    b.aliases.addAll(aliases);
    b.litellmKeys.addAll(litellmKeys);
    return b;
  }

  /** The provider, the part before the slash in {@link #id()}. */
  public String provider() { return provider; }

  /** The id the provider's API expects. */
  public String model() { return model; }

  /** {@code provider/model}. */
  public String id() { return provider + "/" + model; }

  /** LiteLLM's mode: {@code chat}, {@code responses}, {@code completion}, {@code embedding}, ...; an open value. */
  public Optional<String> mode() { return Optional.ofNullable(mode); }

  /** Maximum input tokens. */
  public OptionalInt contextWindow() {
    return contextWindow == null ? OptionalInt.empty() : OptionalInt.of(contextWindow);
  }

  public OptionalInt maxOutputTokens() {
    return maxOutputTokens == null ? OptionalInt.empty() : OptionalInt.of(maxOutputTokens);
  }

  /** Prices in USD per million tokens; {@link Pricing#UNKNOWN} when none is known. */
  public Pricing pricing() { return pricing; }

  /** The known capabilities the catalog lists for this model. */
  public Set<Capability> capabilities() { return capabilities; }

  /** Capability names the file lists that {@link Capability} does not know, sorted. */
  public Set<String> otherCapabilities() { return otherCapabilities; }

  public boolean has(Capability capability) {
    return capabilities.contains(capability);
  }

  /** Whether the file lists the capability {@code name}, known to {@link Capability} or not. */
  public boolean hasCapability(String name) {
    return Capability.fromWireName(name).map(capabilities::contains).orElseGet(() -> otherCapabilities.contains(name));
  }

  /** Every capability name, known and other, sorted: what the YAML lists. */
  public List<String> capabilityNames() {
    TreeSet<String> all = new TreeSet<>(otherCapabilities);
    capabilities.forEach(c -> all.add(c.wireName()));
    return List.copyOf(all);
  }

  public Optional<LocalDate> deprecationDate() { return Optional.ofNullable(deprecationDate); }

  /** True when the model has a deprecation date on or before {@code asOf}. */
  public boolean isDeprecated(LocalDate asOf) {
    return deprecationDate != null && !deprecationDate.isAfter(asOf);
  }

  /** Other ids of this provider naming the same model (without the provider prefix). */
  public List<String> aliases() { return aliases; }

  /** The LiteLLM keys merged into this entry, when not equal to the id. */
  public List<String> litellmKeys() { return litellmKeys; }

  @Override
  public boolean equals(Object o) {
    return o instanceof ModelEntry e && e.provider.equals(provider) && e.model.equals(model)
        && Objects.equals(e.mode, mode) && Objects.equals(e.contextWindow, contextWindow)
        && Objects.equals(e.maxOutputTokens, maxOutputTokens) && e.pricing.equals(pricing)
        && e.capabilities.equals(capabilities) && e.otherCapabilities.equals(otherCapabilities)
        && Objects.equals(e.deprecationDate, deprecationDate) && e.aliases.equals(aliases)
        && e.litellmKeys.equals(litellmKeys);
  }

  @Override
  public int hashCode() {
    return Objects.hash(provider, model, mode, contextWindow, maxOutputTokens, pricing, capabilities);
  }

  @Override
  public String toString() {
    return "ModelEntry{" + id() + ", mode=" + mode + ", contextWindow=" + contextWindow + ", maxOutputTokens="
        + maxOutputTokens + ", pricing=" + pricing + ", capabilities=" + capabilityNames() + "}";
  }

  private static String requireId(String value, String name) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(name + " must not be empty");
    }
    return value;
  }

  /** Builder for {@link ModelEntry}; not thread-safe. */
  public static final class Builder {
    private final String provider;
    private final String model;
    private String mode;
    private Integer contextWindow;
    private Integer maxOutputTokens;
    private Pricing pricing;
    private final Set<Capability> capabilities = EnumSet.noneOf(Capability.class);
    private final Set<String> otherCapabilities = new TreeSet<>();
    private LocalDate deprecationDate;
    private final List<String> aliases = new ArrayList<>();
    private final List<String> litellmKeys = new ArrayList<>();

    private Builder(String provider, String model) {
      this.provider = provider;
      this.model = model;
    }

    public Builder mode(String value) { this.mode = value; return this; }

    /** Null for unknown; otherwise at least 1. */
    public Builder contextWindow(Integer value) { this.contextWindow = positive(value, "contextWindow"); return this; }

    /** Null for unknown; otherwise at least 1. */
    public Builder maxOutputTokens(Integer value) {
      this.maxOutputTokens = positive(value, "maxOutputTokens");
      return this;
    }

    public Builder pricing(Pricing value) { this.pricing = value; return this; }

    public Builder capabilities(Collection<Capability> value) {
      capabilities.clear();
      capabilities.addAll(value);
      return this;
    }

    public Builder capability(Capability value) { capabilities.add(value); return this; }

    /** Adds a capability by its YAML name: a known one becomes a {@link Capability}, any other is kept as is. */
    public Builder capability(String name) {
      Capability.fromWireName(name).ifPresentOrElse(capabilities::add, () -> otherCapabilities.add(name));
      return this;
    }

    public Builder deprecationDate(LocalDate value) { this.deprecationDate = value; return this; }

    public Builder aliases(Collection<String> value) {
      aliases.clear();
      aliases.addAll(value);
      return this;
    }

    public Builder litellmKeys(Collection<String> value) {
      litellmKeys.clear();
      litellmKeys.addAll(value);
      return this;
    }

    public ModelEntry build() {
      return new ModelEntry(this);
    }

    private static Integer positive(Integer value, String name) {
      if (value != null && value < 1) {
        throw new IllegalArgumentException(name + " must be at least 1, not " + value);
      }
      return value;
    }
  }
}
