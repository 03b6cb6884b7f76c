package io.pekkollm.callback;

import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.Cost;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.Usage;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * An event of one call, delivered to {@link LlmCallback}s. Every event carries the call's id (the same for the
 * start, chunks and end of one call) and when it happened. Immutable.
 */
public sealed interface CallEvent {
  /** The id shared by the events of one call. */
  String callId();

  /** When the event happened. */
  Instant at();

  /** A call was sent: {@code request} as the caller made it, {@code streaming} whether it is a stream. */
  record Started(String callId, Instant at, ChatRequest request, boolean streaming) implements CallEvent {}

  /**
   * A call ended with {@code response} (whose model is the one that served, with its usage and cost).
   * {@code timeToFirstChunk} is null for a call that was not streamed.
   */
  record Succeeded(String callId, Instant at, ChatRequest request, ChatResponse response, boolean streaming,
      Duration latency, Duration timeToFirstChunk) implements CallEvent {
    /** The usage the provider reported; null when it reported none. */
    public Usage usage() {
      return response.usage();
    }

    /** The answer's cost by catalog prices, when the catalog prices it. */
    public Optional<Cost> cost() {
      return response.cost();
    }
  }

  /**
   * A call failed with an error of {@code kind} ({@code CANCELLED}: its consumer cancelled the stream);
   * {@code message} is redacted.
   */
  record Failed(String callId, Instant at, ChatRequest request, boolean streaming, ErrorKind kind, String message,
      Duration latency) implements CallEvent {}

  /** One chunk of a streamed call, in order. */
  record Chunk(String callId, Instant at, ChatChunk chunk) implements CallEvent {}

  /**
   * A virtual key's spend in its budget period reached its soft budget ({@code spend} of {@code softBudget}, USD):
   * one event per key and period, not tied to one call ({@code callId} names the key and period).
   * {@code periodEndsAt} is null for a key whose budget has no period. Never carries the key's secret.
   */
  record SoftBudgetExceeded(String callId, Instant at, String keyId, String team, java.math.BigDecimal spend,
      java.math.BigDecimal softBudget, Instant periodEndsAt) implements CallEvent {}
}
