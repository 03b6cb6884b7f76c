package io.pekkollm.cache;

/**
 * A consistent snapshot of the response cache's counters (all since start, or since the cache was created).
 *
 * @param hits        lookups answered from a stored entry
 * @param coalesced   lookups that joined an identical call already in flight (no upstream call of their own)
 * @param misses      lookups that made an upstream call
 * @param stores      answers stored
 * @param evictions   entries removed to stay within {@code max-entries} / {@code max-bytes} (least recently used
 *                    first)
 * @param expirations entries removed because their TTL passed
 * @param entries     entries held now
 * @param bytes       estimated bytes held now
 * @param maxEntries  the configured entry bound
 * @param maxBytes    the configured byte bound
 */
public record CacheStats(long hits, long coalesced, long misses, long stores, long evictions, long expirations,
    long entries, long bytes, long maxEntries, long maxBytes) {

  /** The counters of an empty cache with these bounds. */
  public static CacheStats empty(long maxEntries, long maxBytes) {
    return new CacheStats(0, 0, 0, 0, 0, 0, 0, 0, maxEntries, maxBytes);
  }

  /** Lookups made: hits, coalesced and misses. */
  public long lookups() {
    return hits + coalesced + misses;
  }

  /**
   * The share of lookups served without an upstream call of their own, {@code (hits + coalesced) / lookups},
   * from 0 to 1; 0 before the first lookup.
   */
  public double hitRate() {
    long n = lookups();
    return n == 0 ? 0 : (double) (hits + coalesced) / n;
  }
}
