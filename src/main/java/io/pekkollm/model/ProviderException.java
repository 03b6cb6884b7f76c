package io.pekkollm.model;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * An error a provider reported, or that happened while talking to it. Keeps everything the provider said:
 * HTTP status (0 when there was no response), response headers (lower-case names), request id, the
 * provider's error type and code, and the raw body (key-shaped text in the message and body is masked by
 * {@code io.pekkollm.util.Redactor}). Whether it is retryable is decided once, by
 * {@code io.pekkollm.provider.ErrorClassifier}.
 */
public class ProviderException extends LlmException {
  private static final long serialVersionUID = 1L;

  private final String provider;
  private final int status;
  private final transient Map<String, String> headers;
  private final String requestId;
  private final ProviderErrorType providerErrorType;
  private final String providerErrorCode;
  private final String rawBody;
  private final Duration retryAfter;

  public ProviderException(ErrorKind kind, String message, String provider, int status, Map<String, String> headers,
      String requestId, ProviderErrorType providerErrorType, String providerErrorCode, String rawBody,
      Duration retryAfter, boolean retryable, Throwable cause) {
    // Upstream text may carry credentials (an echoed key, a URL with ?key=): masked here, where every provider
    // error is made, before it is shown, stored or logged.
    super(kind, io.pekkollm.util.Redactor.DEFAULT.redact(message), cause, retryable, null);
    this.provider = provider;
    this.status = status;
    this.headers = headers == null ? Map.of() : Map.copyOf(headers);
    this.requestId = requestId;
    this.providerErrorType = providerErrorType;
    this.providerErrorCode = providerErrorCode;
    this.rawBody = io.pekkollm.util.Redactor.DEFAULT.redact(rawBody);
    this.retryAfter = retryAfter;
  }

  public String provider() { return provider; }
  /** The upstream HTTP status, or 0 when no response was received (network error, timeout). */
  public int status() { return status; }
  public Map<String, String> headers() { return headers; }
  public String requestId() { return requestId; }
  public ProviderErrorType providerErrorType() { return providerErrorType; }
  public String providerErrorCode() { return providerErrorCode; }
  /** The upstream body as received, with key-shaped text masked ({@code io.pekkollm.util.Redactor}); may be empty. */
  public String rawBody() { return rawBody; }

  @Override
  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }

  /** The upstream status when there is one, so 401 stays 401 and 429 stays 429. */
  @Override
  public int httpStatus() {
    return status >= 400 && status <= 599 ? status : super.httpStatus();
  }

  @Override
  public String errorType() {
    return providerErrorType != null ? providerErrorType.value() : super.errorType();
  }

  @Override
  public String errorCode() {
    return providerErrorCode;
  }
}
