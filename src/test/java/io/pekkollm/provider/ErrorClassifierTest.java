package io.pekkollm.provider;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.ProviderException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ErrorClassifierTest {
  private static final Instant NOW = Instant.parse("2026-11-21T12:00:00Z");

  static Stream<Arguments> statuses() {
    return Stream.of(
        Arguments.of(400, "{\"error\":{\"message\":\"bad\",\"type\":\"invalid_request_error\"}}", ErrorKind.INVALID_REQUEST, false),
        Arguments.of(400, "{\"error\":{\"message\":\"This model's maximum context length is 8192 tokens\"}}", ErrorKind.CONTEXT_LENGTH_EXCEEDED, false),
        Arguments.of(401, "{\"error\":{\"message\":\"no\"}}", ErrorKind.AUTHENTICATION, false),
        Arguments.of(403, "{\"error\":{\"message\":\"no\"}}", ErrorKind.PERMISSION, false),
        Arguments.of(404, "{\"error\":{\"message\":\"The model `x` does not exist\"}}", ErrorKind.MODEL_NOT_FOUND, false),
        Arguments.of(408, "", ErrorKind.TIMEOUT, true),
        Arguments.of(409, "", ErrorKind.INVALID_REQUEST, true),
        Arguments.of(413, "", ErrorKind.REQUEST_TOO_LARGE, false),
        Arguments.of(422, "{\"detail\":[{\"msg\":\"field required\"}]}", ErrorKind.INVALID_REQUEST, false),
        Arguments.of(429, "{\"error\":{\"message\":\"slow down\"}}", ErrorKind.RATE_LIMITED, true),
        Arguments.of(429, "{\"error\":{\"code\":\"insufficient_quota\"}}", ErrorKind.QUOTA_EXCEEDED, false),
        Arguments.of(500, "oops", ErrorKind.SERVER_ERROR, true),
        Arguments.of(502, "", ErrorKind.SERVER_ERROR, true),
        Arguments.of(503, "", ErrorKind.OVERLOADED, true),
        Arguments.of(504, "", ErrorKind.TIMEOUT, true),
        Arguments.of(529, "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}", ErrorKind.OVERLOADED, true),
        Arguments.of(400, "{\"error\":{\"code\":\"content_filter\",\"message\":\"filtered\"}}", ErrorKind.CONTENT_FILTERED, false));
  }

  @ParameterizedTest(name = "{0} {2}")
  @MethodSource("statuses")
  void statusAndBodyDecideKindAndRetryability(int status, String body, ErrorKind kind, boolean retryable) {
    ProviderException e = ErrorClassifier.fromHttp("p", status, Map.of(), body, ErrorClassifier.parseCommonBody(body), NOW);
    assertEquals(kind, e.kind(), e.getMessage());
    assertEquals(retryable, e.isRetryable());
    assertEquals(body, e.rawBody());
    assertEquals(status, e.status());
  }

  @Test
  void xShouldRetryHeaderWinsBothWays() {
    assertEquals(true, ErrorClassifier.fromHttp("p", 400, Map.of("x-should-retry", "true"), "", null, NOW).isRetryable());
    assertEquals(false, ErrorClassifier.fromHttp("p", 500, Map.of("x-should-retry", "false"), "", null, NOW).isRetryable());
  }

  @Test
  void retryAfterInAllItsForms() {
    assertEquals(Duration.ofMillis(1500), ErrorClassifier.retryAfter(Map.of("retry-after-ms", "1500"), NOW));
    assertEquals(Duration.ofSeconds(7), ErrorClassifier.retryAfter(Map.of("retry-after", "7"), NOW));
    assertEquals(Duration.ofMillis(2500), ErrorClassifier.retryAfter(Map.of("retry-after", "2.5"), NOW));
    assertEquals(Duration.ofSeconds(30),
        ErrorClassifier.retryAfter(Map.of("retry-after", "Sat, 21 Nov 2026 12:00:30 GMT"), NOW));
    assertEquals(Duration.ZERO, ErrorClassifier.retryAfter(Map.of("retry-after", "Sat, 21 Nov 2026 11:00:00 GMT"), NOW));
    // retry-after-ms is more precise and wins; junk is ignored, never an exception.
    assertEquals(Duration.ofMillis(250), ErrorClassifier.retryAfter(Map.of("retry-after-ms", "250", "retry-after", "9"), NOW));
    assertNull(ErrorClassifier.retryAfter(Map.of("retry-after", "soon"), NOW));
    assertNull(ErrorClassifier.retryAfter(Map.of("retry-after", "-3"), NOW));
    assertNull(ErrorClassifier.retryAfter(Map.of(), NOW));
  }

  @Test
  void requestIdIsKept() {
    assertEquals("req_9", ErrorClassifier.fromHttp("p", 500, Map.of("x-request-id", "req_9"), "", null, NOW).requestId());
    assertEquals("r2", ErrorClassifier.fromHttp("p", 500, Map.of("request-id", "r2"), "", null, NOW).requestId());
  }

  @Test
  void bodyShapesOfTheOpenAiFamily() {
    assertEquals(new ErrorClassifier.ErrorDetails("m", "t", "c", "p"),
        ErrorClassifier.parseCommonBody("{\"error\":{\"message\":\"m\",\"type\":\"t\",\"code\":\"c\",\"param\":\"p\"}}"));
    assertEquals("Incorrect API key", ErrorClassifier.parseCommonBody("{\"code\":\"x\",\"error\":\"Incorrect API key\"}").message());
    assertEquals("Unauthorized", ErrorClassifier.parseCommonBody("{\"detail\":\"Unauthorized\"}").message());
    assertEquals("429", ErrorClassifier.parseCommonBody("{\"error\":{\"code\":429,\"message\":\"x\"}}").code());
    assertEquals("<html>", ErrorClassifier.parseCommonBody("<html>\n<body>").message());
    assertEquals(ErrorClassifier.ErrorDetails.NONE, ErrorClassifier.parseCommonBody(""));
  }

  @Test
  void transportErrorsAreRetryable() {
    ProviderException refused = ErrorClassifier.transport("p", new java.net.ConnectException("Connection refused"));
    assertEquals(ErrorKind.NETWORK, refused.kind());
    assertEquals(true, refused.isRetryable());
    assertEquals(0, refused.status());
    ProviderException timeout = ErrorClassifier.transport("p", new java.util.concurrent.TimeoutException("slow"));
    assertEquals(ErrorKind.TIMEOUT, timeout.kind());
  }
}
