package io.pekkollm.resilience;

import java.util.Locale;

/**
 * The order in which a {@link ModelGroup}'s models are tried for a call. Whatever the order, models whose
 * circuit breaker is open go last, and a model the request does not fit is skipped.
 * <ul>
 *   <li>{@link #ORDERED}: as configured; the first is the primary, the rest are fallbacks.</li>
 *   <li>{@link #LEAST_LATENCY}: lowest recent time to first chunk of the model's provider first (a provider
 *   with no measurement yet counts as fastest, so it gets measured).</li>
 *   <li>{@link #LOWEST_COST}: lowest blended catalog price first ({@code (3 × input + output) / 4} per million
 *   tokens); models without a price last.</li>
 *   <li>{@link #LEAST_BUSY}: fewest calls in flight at the model's provider first.</li>
 * </ul>
 * Ties keep the configured order. Config names: {@code ordered}, {@code least-latency}, {@code lowest-cost},
 * {@code least-busy}.
 */
public enum RoutingStrategy {
  ORDERED("ordered"),
  LEAST_LATENCY("least-latency"),
  LOWEST_COST("lowest-cost"),
  LEAST_BUSY("least-busy");

  private final String configName;

  RoutingStrategy(String configName) {
    this.configName = configName;
  }

  public String configName() {
    return configName;
  }

  /** The strategy called {@code name} (case, {@code -} and {@code _} ignored); IllegalArgumentException otherwise. */
  public static RoutingStrategy of(String name) {
    String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
    for (RoutingStrategy s : values()) {
      if (s.configName.equals(n)) {
        return s;
      }
    }
    throw new IllegalArgumentException("unknown routing strategy '" + name
        + "': use ordered, least-latency, lowest-cost or least-busy");
  }
}
