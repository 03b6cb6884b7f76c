package io.pekkollm.stream;

/** How a provider frames a streamed response body. */
public enum Framing {
  /** Server-sent events ({@code text/event-stream}). */
  SSE,
  /** One JSON document per line ({@code application/x-ndjson}). */
  NDJSON,
  /**
   * AWS binary event-stream messages ({@code application/vnd.amazon.eventstream}, Bedrock ConverseStream):
   * length-prefixed, CRC32-checked, with typed headers naming the event or exception.
   */
  AWS_EVENT_STREAM
}
