package io.pekkollm.callback;

/**
 * What an application implements to hear of every call of an {@link io.pekkollm.api.LlmClient} (and so of every
 * gateway request): its start, its success (request, response, usage, cost, latency, time to first chunk), its
 * failure (error kind), and, for a callback that {@linkplain #wantsChunks() asks for them}, each streamed chunk.
 * Events describe whole calls: the retries and fallbacks inside a call are not separate events.
 *
 * <p>Delivery is asynchronous: each callback has its own bounded queue and thread ({@link Callbacks}), so a slow
 * or throwing callback never slows or fails a call; when its queue is full, events for it are dropped and counted
 * ({@code pekko.llm.callback.dropped}), exceptions are counted ({@code pekko.llm.callback.errors}). Each callback
 * sees the events of one call in order (start, chunks, then success or failure), on one thread at a time, so an
 * implementation needs no locking of its own. Every method has a no-op default.
 */
public interface LlmCallback extends AutoCloseable {
  /** The name in metrics and the delivery thread's name; default the class's simple name. */
  default String name() {
    return getClass().getSimpleName();
  }

  /** A call was sent (a stream: when it is materialized). */
  default void onStart(CallEvent.Started event) {}

  /** A call ended with its whole answer. */
  default void onSuccess(CallEvent.Succeeded event) {}

  /** A call failed, or (kind CANCELLED) its stream was cancelled by its consumer. */
  default void onFailure(CallEvent.Failed event) {}

  /** One chunk of a streamed call; only for a callback whose {@link #wantsChunks()} is true. */
  default void onChunk(CallEvent.Chunk event) {}

  /** A virtual key reached its soft budget (once per key and budget period). */
  default void onSoftBudgetExceeded(CallEvent.SoftBudgetExceeded event) {}

  /** Whether this callback receives {@link #onChunk} events (one per streamed chunk); default false. */
  default boolean wantsChunks() {
    return false;
  }

  /**
   * Called {@code pekko-llm.callbacks.flush-interval} after the first event it has not flushed yet, and before
   * {@link #close()}: the moment for a batching callback to send what it holds.
   */
  default void flush() {}

  /** Called once when the client shuts down, after the events queued for this callback were delivered. */
  @Override
  default void close() {}
}
