package io.pekkollm.keys;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.math.BigDecimal;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The metrics of virtual keys, by key id (never the secret), team and model, in Prometheus names:
 * {@code pekko_llm_key_requests_total{key,team,model}}, {@code pekko_llm_key_tokens_total{key,team,model}},
 * {@code pekko_llm_key_spend_usd_total{key,team,model}} (catalog prices) and
 * {@code pekko_llm_key_refusals_total{key,team,reason}} (the refusal's error code: {@code budget_exceeded},
 * {@code rate_limit_exceeded}, {@code parallel_request_limit_exceeded}, {@code model_not_allowed}) and
 * {@code pekko_llm_key_spend_unwritten_total{key,team}} (charges not confirmed in the journal within
 * {@code spend-write-timeout}, answered anyway).
 *
 * <p>Cardinality: a Prometheus series exists per label combination, and a gateway may have many thousands of keys.
 * So the first {@code maxKeys} key ids this node sees get a label of their own and every later key is counted as
 * {@code key="other"}; teams and models are bounded the same way ({@code maxKeys} distinct values each, then
 * {@code other}). {@code maxKeys = 0} counts every key as {@code other} (per-team and per-model totals remain).
 * Set by {@code pekko-llm.keys.metrics-max-keys}. Thread-safe.
 */
final class KeyMetrics {
  private static final String OTHER = "other";

  private final MeterRegistry registry;
  private final int maxKeys;
  private final Set<String> keys = ConcurrentHashMap.newKeySet();
  private final Set<String> teams = ConcurrentHashMap.newKeySet();
  private final Set<String> models = ConcurrentHashMap.newKeySet();
  private final ConcurrentHashMap<String, Meters> meters = new ConcurrentHashMap<>();

  /** The counters of one key, team and model. */
  private record Meters(Counter requests, Counter tokens, Counter spend) {}

  /** Metrics into {@code registry} (null: none are recorded). */
  KeyMetrics(MeterRegistry registry, int maxKeys) {
    this.registry = registry;
    this.maxKeys = Math.max(0, maxKeys);
  }

  /** One settled call of {@code key} on {@code model}: {@code tokens} used, {@code cost} USD (null: unknown). */
  void settled(VirtualKey key, String model, long tokens, BigDecimal cost) {
    if (registry == null) {
      return;
    }
    String k = bounded(keys, key.id());
    String t = bounded(teams, key.team() == null ? "" : key.team());
    String m = bounded(models, model == null ? "" : model);
    Meters x = meters.computeIfAbsent(k + '\n' + t + '\n' + m, s -> new Meters(
        Counter.builder("pekko.llm.key.requests").description("Calls made with a virtual key")
            .tags("key", k, "team", t, "model", m).register(registry),
        Counter.builder("pekko.llm.key.tokens").description("Tokens used by calls of a virtual key")
            .tags("key", k, "team", t, "model", m).register(registry),
        Counter.builder("pekko.llm.key.spend").baseUnit("usd").description("Spend of a virtual key, catalog prices")
            .tags("key", k, "team", t, "model", m).register(registry)));
    x.requests().increment();
    if (tokens > 0) {
      x.tokens().increment(tokens);
    }
    if (cost != null && cost.signum() > 0) {
      x.spend().increment(cost.doubleValue());
    }
  }

  /** A call of {@code key} refused with {@code code}. */
  void refused(VirtualKey key, String code) {
    if (registry == null) {
      return;
    }
    Counter.builder("pekko.llm.key.refusals").description("Calls a virtual key's limits refused")
        .tags("key", bounded(keys, key.id()), "team", bounded(teams, key.team() == null ? "" : key.team()),
            "reason", code)
        .register(registry).increment();
  }

  /** A charge of {@code key} not confirmed in the journal in time. */
  void unwritten(VirtualKey key) {
    if (registry == null) {
      return;
    }
    Counter.builder("pekko.llm.key.spend.unwritten")
        .description("Charges of a virtual key not confirmed in the journal within spend-write-timeout")
        .tags("key", bounded(keys, key.id()), "team", bounded(teams, key.team() == null ? "" : key.team()))
        .register(registry).increment();
  }

  /** {@code value} while fewer than {@code maxKeys} values are known (or it is one of them), else "other". */
  private String bounded(Set<String> seen, String value) {
    if (seen.contains(value)) {
      return value;
    }
    if (seen.size() < maxKeys) {
      seen.add(value);
      return value;
    }
    return OTHER;
  }
}
