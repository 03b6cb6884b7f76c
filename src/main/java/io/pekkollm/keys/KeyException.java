package io.pekkollm.keys;

import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import java.time.Duration;
import java.util.Optional;

/**
 * A call refused for its virtual key: unknown, revoked or expired (AUTHENTICATION), a model outside its list
 * (PERMISSION), its budget spent ({@code budget_exceeded}, with when it resets), or a rate or parallel limit
 * reached (RATE_LIMITED, with {@link #retryAfter()}). {@link #errorCode()} is the code gateways report.
 */
public final class KeyException extends LlmException {
  private static final long serialVersionUID = 1L;

  private final String code;
  private final transient Duration retryAfter;
  private final Long resetsAt;

  KeyException(ErrorKind kind, String code, String message, String param, Duration retryAfter, Long resetsAt) {
    super(kind, message, null, retryAfter != null, param);
    this.code = code;
    this.retryAfter = retryAfter;
    this.resetsAt = resetsAt;
  }

  @Override
  public String errorCode() {
    return code;
  }

  @Override
  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }

  /** When an exceeded budget resets (epoch ms); empty for other refusals or a budget without a period. */
  public Optional<Long> resetsAt() {
    return Optional.ofNullable(resetsAt);
  }
}
