package io.pekkollm.session;

import java.time.Instant;

/**
 * One session in a listing: its id, name (may be empty), {@code provider/model}, creation time and owner (the
 * virtual key id that created it, or null).
 */
public record SessionSummary(String id, String name, String model, Instant createdAt, String owner) {}
