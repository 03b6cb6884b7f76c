package io.pekkollm.model;

/**
 * What went wrong, independent of the provider. Each kind has the HTTP status the gateway answers with when
 * no upstream status is known, and the OpenAI error {@code type} it reports.
 */
public enum ErrorKind {
  AUTHENTICATION(401, "authentication_error"),
  PERMISSION(403, "permission_error"),
  MODEL_NOT_FOUND(404, "not_found_error"),
  /** Something other than a model (a stream, a session) does not exist. */
  NOT_FOUND(404, "not_found_error"),
  /** The request conflicts with the current state (e.g. resuming a completed or running stream). */
  CONFLICT(409, "conflict_error"),
  INVALID_REQUEST(400, "invalid_request_error"),
  REQUEST_TOO_LARGE(413, "invalid_request_error"),
  CONTEXT_LENGTH_EXCEEDED(400, "invalid_request_error"),
  RATE_LIMITED(429, "rate_limit_error"),
  QUOTA_EXCEEDED(429, "insufficient_quota"),
  OVERLOADED(503, "overloaded_error"),
  SERVER_ERROR(502, "server_error"),
  TIMEOUT(504, "timeout_error"),
  NETWORK(502, "network_error"),
  MALFORMED_RESPONSE(502, "malformed_response_error"),
  CONTENT_FILTERED(400, "content_filter_error"),
  MID_STREAM(502, "mid_stream_error"),
  CANCELLED(499, "cancelled"),
  INTERNAL(500, "internal_error");

  private final int httpStatus;
  private final String openAiType;

  ErrorKind(int httpStatus, String openAiType) {
    this.httpStatus = httpStatus;
    this.openAiType = openAiType;
  }

  public int httpStatus() {
    return httpStatus;
  }

  public String openAiType() {
    return openAiType;
  }
}
