package io.pekkollm.provider;

import io.pekkollm.model.LlmException;
import io.pekkollm.resilience.BreakerSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The circuit breakers of one provider: none when {@code circuit-breaker.enabled} is off, one for the whole
 * provider, or with {@code per-model} one per model, created on a model's first provider fault and dropped
 * again once it is closed with nothing remembered (at most {@code maxTrackedModels} at a time, so model names
 * callers send cannot grow it without bound). It decides whether a call may start as far as breakers go (an
 * open breaker refuses; a half-open one lets one probe through), moves the breaker by each call's outcome, and
 * publishes the state to {@link ProviderLoad}. Not thread-safe: its actor's only.
 */
final class BreakerSet {
  /** A breaker opened ({@code opened}) or closed after its probe succeeded. */
  record Change(Breaker breaker, boolean opened) {}

  private final String provider;
  private final BreakerSettings settings;
  private final int maxTrackedModels;
  private final ProviderLoad load;
  private final Function<String, Breaker> newBreaker;
  private final Breaker providerBreaker;
  private final Map<String, Breaker> modelBreakers = new HashMap<>();

  /** {@code newBreaker} builds the breaker of a model ("" for calls about no model), or null for the provider. */
  BreakerSet(String provider, BreakerSettings settings, int maxTrackedModels, ProviderLoad load,
      Function<String, Breaker> newBreaker) {
    this.provider = provider;
    this.settings = settings;
    this.maxTrackedModels = maxTrackedModels;
    this.load = load;
    this.newBreaker = newBreaker;
    this.providerBreaker = settings.enabled() && !settings.perModel() ? newBreaker.apply(null) : null;
  }

  /** The breaker guarding {@code model}'s calls; null when none applies (disabled, or no per-model one yet). */
  Breaker guarding(String model) {
    if (providerBreaker != null || !settings.enabled()) {
      return providerBreaker;
    }
    return modelBreakers.get(key(model));
  }

  private Breaker guardingOrNew(String model) {
    Breaker b = guarding(model);
    if (b == null && providerBreaker == null && settings.enabled() && modelBreakers.size() < maxTrackedModels) {
      b = newBreaker.apply(key(model));
      modelBreakers.put(key(model), b);
    }
    return b;
  }

  private static String key(String model) {
    return model == null ? "" : model;
  }

  /** Why a call of {@code model} may not start now; null when the breakers let it. */
  LlmException refusal(String model) {
    return refusal(guarding(model));
  }

  /**
   * Why a call guarded by {@code b} may not start now: open (kind OVERLOADED, code {@code circuit_open},
   * Retry-After the time left), or half-open with its probe in flight (come back in a second); null when it may.
   */
  LlmException refusal(Breaker b) {
    if (b == null) {
      return null;
    }
    String model = b.model() == null || b.model().isEmpty() ? null : b.model();
    if (b.isOpen()) {
      return ErrorClassifier.circuitOpen(provider, model, b.remaining());
    }
    if (b.isHalfOpen() && b.probing()) {
      // One probe at a time; the others are told to come back shortly.
      return ErrorClassifier.circuitOpen(provider, model, Duration.ofSeconds(1));
    }
    return null;
  }

  /**
   * The call {@code permit} of {@code model} starts (the caller checked {@link #refusal} first). Returns the
   * breaker that guards it, to hand back to {@link #ended} or {@link #cancelled}; null when none does.
   */
  Breaker started(String model, long permit) {
    Breaker b = guarding(model);
    if (b != null) {
      b.admit(permit);
    }
    return b;
  }

  /**
   * The call {@code permit} of {@code model}, guarded by {@code atStart} (what {@link #started} returned),
   * ended: a provider fault counts as a failure (creating the model's breaker if needed), anything else the
   * provider answered as a success. A call admitted before its breaker opened, or while half-open but not as the
   * probe, does not move it. Returns what changed, or null.
   */
  Change ended(Breaker atStart, String model, long permit, boolean providerFault) {
    Breaker b = atStart != null ? atStart : providerFault ? guardingOrNew(model) : null;
    if (b == null) {
      return null;
    }
    boolean probe = b.probeEnded(permit);
    if (!b.isClosed() && !probe) {
      return null;
    }
    Change change = null;
    if (providerFault) {
      if (b.fail()) {
        load.breakerOpened();
        change = new Change(b, true);
      }
    } else if (b.succeed()) {
      change = new Change(b, false);
    }
    if (b.model() != null && b.isIdle()) {
      modelBreakers.remove(b.model());
    }
    publish();
    return change;
  }

  /** The call {@code permit} was cancelled: it says nothing about the provider; if it was the probe, the next call probes. */
  void cancelled(Breaker atStart, long permit) {
    if (atStart != null) {
      atStart.probeEnded(permit);
    }
  }

  /** Writes the breakers' state to {@link ProviderLoad}: the provider breaker's, or how many model breakers are not closed. */
  void publish() {
    if (providerBreaker != null) {
      load.breakerState(providerBreaker.state());
    } else {
      int open = 0;
      for (Breaker b : modelBreakers.values()) {
        open += b.isClosed() ? 0 : 1;
      }
      load.openModelBreakers(open);
    }
  }

  /** For log lines: {@code provider NAME} or {@code NAME/MODEL}. */
  String describe(Breaker b) {
    return b.model() == null ? "provider " + provider : provider + "/" + b.model();
  }

  /** The provider-wide breaker for {@link ProviderStatus#breaker()}: disabled, closed, half-open or open. */
  String state() {
    if (!settings.enabled()) {
      return "disabled";
    }
    if (providerBreaker == null || providerBreaker.isClosed()) {
      return "closed";
    }
    return providerBreaker.isHalfOpen() ? "half-open" : "open";
  }

  /** While the provider-wide breaker is open, the time until it lets a probe through, ms; else 0. */
  long retryAfterMillis() {
    return providerBreaker != null && providerBreaker.isOpen() ? providerBreaker.remaining().toMillis() : 0;
  }

  /** The models whose breaker is open or half-open, sorted. */
  List<String> openModels() {
    List<String> open = new ArrayList<>();
    modelBreakers.forEach((model, b) -> {
      if (!b.isClosed()) {
        open.add(model);
      }
    });
    open.sort(null);
    return open;
  }
}
