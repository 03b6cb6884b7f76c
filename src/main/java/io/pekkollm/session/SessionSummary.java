package io.pekkollm.session;

import java.time.Instant;

/** One session in a listing: its id, name (may be empty), {@code provider/model} and creation time. */
public record SessionSummary(String id, String name, String model, Instant createdAt) {}
