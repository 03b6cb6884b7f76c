package io.pekkollm.session;

import io.pekkollm.model.Cost;
import io.pekkollm.model.Message;
import io.pekkollm.model.TruncationStrategy;
import io.pekkollm.model.Usage;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A session as it stands: its history, the {@code provider/model} its turns use, how history is shortened when it
 * outgrows the model's context window ({@code contextStrategy}; null rejects a turn that does not fit), the
 * caller's metadata, and the usage and cost of its turns (replies served from the response cache excluded;
 * replies whose price the catalog lacks add usage but no cost), and its {@code owner}: the virtual key id that
 * created it (null: none; the gateway shows such a session to its shared and master keys only). Immutable snapshot.
 */
public record Session(String id, String name, String model, TruncationStrategy contextStrategy,
    Map<String, String> metadata, List<SessionMessage> messages, Usage usage, Cost cost, Instant createdAt,
    Instant updatedAt, String owner) {

  public Session {
    metadata = Map.copyOf(metadata);
    messages = List.copyOf(messages);
  }

  /** The history as plain messages, oldest first, as a request sends it. */
  public List<Message> history() {
    return messages.stream().map(SessionMessage::message).toList();
  }

  public Optional<TruncationStrategy> contextStrategyIfSet() {
    return Optional.ofNullable(contextStrategy);
  }

  /** A listing entry for this session. */
  public SessionSummary summary() {
    return new SessionSummary(id, name, model, createdAt, owner);
  }
}
