package io.pekkollm.stream;

/**
 * A streamed body whose framing is corrupt: a bad checksum, an impossible length, an unreadable header. The
 * same bytes would come back on a retry, so the provider layer reports it as a malformed response rather than
 * a network error. (A body that merely stops early is a truncation, not this.)
 */
public final class MalformedFrameException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public MalformedFrameException(String message, Throwable cause) {
    super(message, cause);
  }

  public MalformedFrameException(String message) {
    super(message);
  }
}
