package io.pekkollm.session;

import io.pekkollm.model.Cost;
import io.pekkollm.model.Message;
import io.pekkollm.model.Usage;
import java.time.Instant;
import java.util.Optional;

/**
 * One message of a session's history with when it was added. Assistant replies also carry the
 * {@code provider/model} that answered, their usage and cost (each may be absent: not reported, not priced, or
 * imported without them); {@code fromCache} is true for a reply the response cache served without an upstream
 * call (it adds nothing to the session's totals).
 */
public record SessionMessage(Message message, Instant createdAt, String model, Usage usage, Cost cost,
    boolean fromCache) {

  /** A message without reply details (system, user and tool messages). */
  public static SessionMessage of(Message message, Instant createdAt) {
    return new SessionMessage(message, createdAt, null, null, null, false);
  }

  public Optional<Usage> usageIfKnown() {
    return Optional.ofNullable(usage);
  }

  public Optional<Cost> costIfKnown() {
    return Optional.ofNullable(cost);
  }
}
