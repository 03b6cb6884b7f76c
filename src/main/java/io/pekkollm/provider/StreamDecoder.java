package io.pekkollm.provider;

import io.pekkollm.model.ChatChunk;
import java.util.List;

/**
 * Turns the frames of one streamed response into chunks. One instance per response (it may keep state);
 * used from one thread at a time.
 */
public interface StreamDecoder {

  /**
   * Decodes one frame: an SSE event ({@code eventType} may be null), one NDJSON line ({@code eventType} null),
   * or one AWS event-stream message. Returns the chunks it yields (often one, may be none); throws an
   * {@link io.pekkollm.model.LlmException} for an error event.
   */
  List<ChatChunk> onFrame(String eventType, String data);

  /** True once the provider's end-of-stream marker (or final event) was seen. */
  boolean isComplete();

  /**
   * Chunks to emit when a complete stream ends, for decoders that hold something back until then (a finish
   * reason a provider repeats, for example). Called once, only when {@link #isComplete()}.
   */
  default List<ChatChunk> onEnd() {
    return List.of();
  }
}
