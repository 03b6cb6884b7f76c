package io.pekkollm.cache;

import java.time.Instant;

/**
 * One stored answer, as the admin listing shows it: its key, the {@code provider/model} it answered, its
 * estimated size, when it was stored and when it expires, and how often it was served since.
 */
public record CacheEntryInfo(String key, String model, long bytes, Instant storedAt, Instant expiresAt, long hits) {}
