package io.pekkollm.api;

import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatResponse;

/**
 * Callbacks for callers who do not use Pekko Streams. Called one at a time, in order, never concurrently;
 * exactly one of {@link #onComplete} or {@link #onError} ends the stream. Keep them quick: a slow callback
 * slows the stream (backpressure reaches the provider).
 */
public interface ChatStreamHandler {
  void onChunk(ChatChunk chunk);

  /** The stream finished; {@code response} is every chunk folded together. */
  default void onComplete(ChatResponse response) {}

  default void onError(Throwable error) {}
}
