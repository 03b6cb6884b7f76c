package io.pekkollm.model;

import java.time.Duration;
import java.util.Optional;

/**
 * The one unchecked root of every error this library raises. {@link #kind()} says what went wrong;
 * {@link #isRetryable()} whether the same call may succeed later; {@link #param()} names the request field at
 * fault, when one is.
 */
public class LlmException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final ErrorKind kind;
  private final boolean retryable;
  private final String param;

  public LlmException(ErrorKind kind, String message) {
    this(kind, message, null, false, null);
  }

  public LlmException(ErrorKind kind, String message, Throwable cause, boolean retryable, String param) {
    super(message, cause);
    this.kind = kind;
    this.retryable = retryable;
    this.param = param;
  }

  public static LlmException invalidRequest(String message, String param) {
    return new LlmException(ErrorKind.INVALID_REQUEST, message, null, false, param);
  }

  public ErrorKind kind() {
    return kind;
  }

  public boolean isRetryable() {
    return retryable;
  }

  public String param() {
    return param;
  }

  /** How long to wait before retrying, when the source said so. */
  public Optional<Duration> retryAfter() {
    return Optional.empty();
  }

  /** The HTTP status a gateway should answer with. */
  public int httpStatus() {
    return kind.httpStatus();
  }

  /** The error {@code type} reported in OpenAI's error body. */
  public String errorType() {
    return kind.openAiType();
  }

  /** The error {@code code} reported in OpenAI's error body, or null. */
  public String errorCode() {
    return null;
  }
}
