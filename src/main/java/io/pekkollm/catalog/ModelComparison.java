package io.pekkollm.catalog;

import java.math.BigDecimal;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Two catalog models side by side ({@link ModelCatalog#compare}): the capabilities they share and those only
 * one has, which is cheaper by blended price ({@link Pricing#blended()}) and which has the larger context
 * window. A verdict is empty when either value is unknown or both are equal. Immutable.
 */
public record ModelComparison(ModelEntry first, ModelEntry second, Set<Capability> common,
    Set<Capability> onlyFirst, Set<Capability> onlySecond) {

  /** The model with the lower blended price. */
  public Optional<ModelEntry> cheaper() {
    Optional<BigDecimal> a = first.pricing().blended();
    Optional<BigDecimal> b = second.pricing().blended();
    if (a.isEmpty() || b.isEmpty()) {
      return Optional.empty();
    }
    int c = a.get().compareTo(b.get());
    return c == 0 ? Optional.empty() : Optional.of(c < 0 ? first : second);
  }

  /** The model with the larger context window. */
  public Optional<ModelEntry> largerContext() {
    OptionalInt a = first.contextWindow();
    OptionalInt b = second.contextWindow();
    if (a.isEmpty() || b.isEmpty() || a.getAsInt() == b.getAsInt()) {
      return Optional.empty();
    }
    return Optional.of(a.getAsInt() > b.getAsInt() ? first : second);
  }
}
