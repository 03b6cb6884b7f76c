package io.pekkollm.model;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How one request uses the response cache ({@link ChatRequest#cache()}). {@link #use()} asks for caching with
 * the configured default TTL, {@link #ttl(Duration)} with a TTL of its own (capped by
 * {@code pekko-llm.cache.max-ttl}), {@link #skip()} bypasses the cache: no lookup, no store, no sharing of an
 * identical call in flight. A request without options follows {@code pekko-llm.cache.mode}: cached in
 * {@code opt-out} mode, not cached in {@code opt-in} mode (the default).
 *
 * <p>Immutable and thread-safe.
 */
public final class CacheOptions {
  private static final CacheOptions USE = new CacheOptions(false, null);
  private static final CacheOptions SKIP = new CacheOptions(true, null);

  private final boolean skip;
  private final Duration ttl;

  private CacheOptions(boolean skip, Duration ttl) {
    this.skip = skip;
    this.ttl = ttl;
  }

  /** Cache the answer for the configured default TTL. */
  public static CacheOptions use() {
    return USE;
  }

  /** Cache the answer for {@code ttl} (positive; capped by the configured maximum). */
  public static CacheOptions ttl(Duration ttl) {
    Objects.requireNonNull(ttl, "ttl");
    if (ttl.isNegative() || ttl.isZero()) {
      throw LlmException.invalidRequest("a cache TTL must be positive, not " + ttl, "cache.ttl_seconds");
    }
    return new CacheOptions(false, ttl);
  }

  /** Bypass the cache for this request. */
  public static CacheOptions skip() {
    return SKIP;
  }

  /** True when the request bypasses the cache. */
  public boolean isSkip() {
    return skip;
  }

  /** The TTL asked for; empty means the configured default. */
  public Optional<Duration> requestedTtl() {
    return Optional.ofNullable(ttl);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CacheOptions c && c.skip == skip && Objects.equals(c.ttl, ttl);
  }

  @Override
  public int hashCode() {
    return Objects.hash(skip, ttl);
  }

  @Override
  public String toString() {
    return skip ? "CacheOptions{skip}" : "CacheOptions{ttl=" + (ttl == null ? "default" : ttl) + "}";
  }
}
