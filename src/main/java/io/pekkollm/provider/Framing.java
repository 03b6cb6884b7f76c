package io.pekkollm.provider;

/** How a provider frames a streamed response body. */
public enum Framing {
  /** Server-sent events ({@code text/event-stream}). */
  SSE,
  /** One JSON document per line ({@code application/x-ndjson}). */
  NDJSON
}
