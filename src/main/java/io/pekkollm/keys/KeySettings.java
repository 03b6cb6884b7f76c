package io.pekkollm.keys;

import com.typesafe.config.Config;
import java.time.Duration;

/**
 * {@code pekko-llm.keys}, checked: what {@link KeyService} runs with, and what {@code check-config} reports before
 * a gateway starts on a bad value.
 *
 * @param askTimeout how long a call waits for the key directory or a key's spend entity
 * @param cacheTtl how long a checked key is answered from memory
 * @param passivateAfter how long a key's spend entity stays in memory without calls
 * @param spendWriteTimeout how long a response waits for its charge's journal write
 * @param spendWaits whether a call's end waits for its charge's journal write ({@code spend-durability = per-call})
 *     or the charge is written in the background ({@code background})
 * @param spendSnapshotEvery a key's spend is snapshotted every this-many writes (0: never)
 * @param metricsMaxKeys key ids with a metrics label of their own
 */
public record KeySettings(Duration askTimeout, Duration cacheTtl, Duration passivateAfter,
    Duration spendWriteTimeout, boolean spendWaits, int spendSnapshotEvery, int metricsMaxKeys) {

  public KeySettings {
    positive("ask-timeout", askTimeout);
    if (cacheTtl.isNegative()) {
      throw new IllegalArgumentException("pekko-llm.keys.cache-ttl must be >= 0, not " + cacheTtl);
    }
    positive("passivate-after", passivateAfter);
    positive("spend-write-timeout", spendWriteTimeout);
    if (spendSnapshotEvery < 0) {
      throw new IllegalArgumentException("pekko-llm.keys.spend-snapshot-every must be >= 0 (0: no snapshots), not "
          + spendSnapshotEvery);
    }
    if (metricsMaxKeys < 0) {
      throw new IllegalArgumentException("pekko-llm.keys.metrics-max-keys must be >= 0, not " + metricsMaxKeys);
    }
  }

  /** The settings in {@code keys} (the {@code pekko-llm.keys} section). */
  public static KeySettings of(Config keys) {
    return new KeySettings(keys.getDuration("ask-timeout"), keys.getDuration("cache-ttl"),
        keys.getDuration("passivate-after"), keys.getDuration("spend-write-timeout"),
        spendWaits(keys.getString("spend-durability")), keys.getInt("spend-snapshot-every"),
        keys.getInt("metrics-max-keys"));
  }

  private static boolean spendWaits(String durability) {
    return switch (durability.trim()) {
      case "per-call" -> true;
      case "background" -> false;
      default -> throw new IllegalArgumentException("pekko-llm.keys.spend-durability must be per-call or background, "
          + "not '" + durability + "'");
    };
  }

  private static void positive(String name, Duration d) {
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException("pekko-llm.keys." + name + " must be > 0, not " + d);
    }
  }
}
