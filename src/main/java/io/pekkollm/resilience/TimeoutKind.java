package io.pekkollm.resilience;

/**
 * Which time limit of an attempt fired (see {@link TimeoutSettings}). Each is reported as kind TIMEOUT with
 * its own error {@link #code()}, and only the ones before the answer started are retried.
 */
public enum TimeoutKind {
  /** The connection could not be established in time. */
  CONNECT("connect_timeout", "connecting to", true),
  /** A streamed answer sent no first chunk in time. */
  FIRST_BYTE("first_byte_timeout", "the first chunk from", true),
  /** A streamed answer went quiet between two chunks for too long. */
  IDLE("idle_timeout", "the next chunk from", true),
  /** The whole attempt took too long. */
  TOTAL("total_timeout", "the whole answer from", false),
  /** A non-streamed answer did not arrive in time. */
  RESPONSE("response_timeout", "the response from", true);

  private final String code;
  private final String waitingFor;
  private final boolean retryable;

  TimeoutKind(String code, String waitingFor, boolean retryable) {
    this.code = code;
    this.waitingFor = waitingFor;
    this.retryable = retryable;
  }

  /** The error code reported to callers, e.g. {@code first_byte_timeout}. */
  public String code() {
    return code;
  }

  /** What was awaited, for messages: "waited 30000 ms for the first chunk from openai". */
  public String waitingFor() {
    return waitingFor;
  }

  /** Whether another attempt may help (not for {@link #TOTAL}: the next one gets the same budget). */
  public boolean retryable() {
    return retryable;
  }
}
