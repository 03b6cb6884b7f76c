package io.pekkollm.cache;

import com.typesafe.config.Config;
import io.pekkollm.model.CacheOptions;
import java.time.Duration;
import java.util.Locale;

/**
 * Settings of the response cache, from {@code pekko-llm.cache} (reference.conf documents each key).
 *
 * @param mode          which requests are cached: none, those that ask ({@code opt-in}), or all but those
 *                      that refuse ({@code opt-out})
 * @param defaultTtl    how long an entry lives when the request names no TTL
 * @param maxTtl        the longest TTL a request may ask for (longer ones are capped)
 * @param maxEntries    most entries kept; the least recently used go first
 * @param maxBytes      most (estimated) bytes of all entries together; the least recently used go first
 * @param maxEntryBytes largest single answer stored; larger ones are served but not kept
 * @param askTimeout    how long a call waits for the cache actor before going upstream without it
 */
public record CacheSettings(Mode mode, Duration defaultTtl, Duration maxTtl, int maxEntries, long maxBytes,
    long maxEntryBytes, Duration askTimeout) {

  /** Which requests are cached. */
  public enum Mode {
    /** Nothing is cached; the cache actor does not run. */
    OFF,
    /** Only requests with {@link CacheOptions} (other than skip) are cached. */
    OPT_IN,
    /** Every request is cached unless it says {@link CacheOptions#skip()}. */
    OPT_OUT;

    /** The config spelling: {@code off}, {@code opt-in}, {@code opt-out}. */
    public String configName() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    static Mode of(String value) {
      String v = value.trim().toLowerCase(Locale.ROOT).replace('_', '-');
      for (Mode m : values()) {
        if (m.configName().equals(v)) {
          return m;
        }
      }
      if (v.equals("false")) {
        return OFF;
      }
      throw new IllegalArgumentException("pekko-llm.cache.mode must be off, opt-in or opt-out, not '" + value + "'");
    }
  }

  public static CacheSettings create(Config config) {
    Config c = config.getConfig("pekko-llm.cache");
    CacheSettings s = new CacheSettings(Mode.of(c.getString("mode")), c.getDuration("default-ttl"),
        c.getDuration("max-ttl"), c.getInt("max-entries"), c.getBytes("max-bytes"), c.getBytes("max-entry-bytes"),
        c.getDuration("ask-timeout"));
    if (s.defaultTtl.isZero() || s.defaultTtl.isNegative() || s.maxTtl.isZero() || s.maxTtl.isNegative()) {
      throw new IllegalArgumentException("pekko-llm.cache.default-ttl and max-ttl must be positive");
    }
    if (s.maxEntries < 1 || s.maxBytes < 1 || s.maxEntryBytes < 1) {
      throw new IllegalArgumentException("pekko-llm.cache.max-entries, max-bytes and max-entry-bytes must be positive");
    }
    return s;
  }

  /** A copy with another mode. */
  public CacheSettings withMode(Mode value) {
    return new CacheSettings(value, defaultTtl, maxTtl, maxEntries, maxBytes, maxEntryBytes, askTimeout);
  }

  /**
   * The TTL a request with {@code options} (null: none given) is cached for, or null when it is not cached.
   */
  public Duration ttlFor(CacheOptions options) {
    if (mode == Mode.OFF || (options != null && options.isSkip())) {
      return null;
    }
    if (options == null && mode == Mode.OPT_IN) {
      return null;
    }
    Duration asked = options == null ? defaultTtl : options.requestedTtl().orElse(defaultTtl);
    return asked.compareTo(maxTtl) > 0 ? maxTtl : asked;
  }
}
