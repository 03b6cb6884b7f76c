package io.pekkollm.provider.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.ProviderException;
import io.pekkollm.model.ToolCall;
import io.pekkollm.model.Usage;
import io.pekkollm.testkit.Upstream.Reply;
import java.time.Duration;
import java.util.List;
import java.util.Map;

class OpenAiContractTest extends OpenAiCompatibleContractTest {

  @Override
  protected String provider() {
    return "openai";
  }

  @Override
  protected String streamFixture() {
    return "openai/chat-stream-text-usage-2024.sse";
  }

  @Override
  protected List<Case> cases() {
    return list(
        Case.ok("stream text with usage", Reply.fixtureSse("openai/chat-stream-text-usage-2024.sse"), true, r -> {
          assertEquals(159, r.text().length());
          assertTrue(r.text().startsWith("I'm unable to provide real-time weather "), r.text());
          assertTrue(r.text().endsWith("weather website or a weather app."), r.text());
          assertEquals(FinishReason.STOP, r.finishReason());
          assertEquals(new Usage(14, 30, 0, 0, 0), r.usage());
          assertEquals("gpt-4o-2024-08-06", r.providerModel());
          assertEquals("openai/test-model", r.model());
          assertEquals("chatcmpl-ABfw031mOJeYCSHe4yI2ZjOA6kMJL", r.id());
        }),
        Case.ok("stream tool call", Reply.fixtureSse("openai/chat-stream-tool-call.sse"), true, r -> {
          assertEquals(List.of(new ToolCall("call_HjeqP7YeRkoNj0de9e3U4X4B", "read_file", "{\"path\":\"README.md\"}")),
              r.toolCalls());
          assertEquals(FinishReason.TOOL_CALLS, r.finishReason());
          assertEquals("", r.text());
          assertEquals(new Usage(60, 15, 0, 0, 0), r.usage());
        }),
        Case.ok("stream tool call (2024)", Reply.fixtureSse("openai/chat-stream-tool-call-2024.sse"), true, r -> {
          assertEquals(List.of(new ToolCall("call_4XzlGBLtUe9dy3GVNV4jhq7h", "get_weather",
              "{\"city\":\"New York City\"}")), r.toolCalls());
          assertEquals(new Usage(44, 16, 0, 0, 0), r.usage());
        }),
        Case.ok("whole response", Reply.fixtureJson(200, "openai/chat-nonstream.json"), false, r -> {
          assertEquals(1842, r.text().length());
          assertTrue(r.text().startsWith("**Holiday Name:** Galaxy Day"));
          assertEquals(FinishReason.STOP, r.finishReason());
          assertEquals(16, r.usage().inputTokens());
          assertEquals(363, r.usage().outputTokens());
          assertNull(r.reasoning());
        }),
        Case.ok("whole tool call", Reply.fixtureJson(200, "openai/chat-nonstream-tool-call.json"), false, r -> {
          assertEquals(List.of(new ToolCall("call_KjzAbhiZC6nk81tQzL7pwlpc", "read_file", "{\"path\":\"README.md\"}")),
              r.toolCalls());
          assertEquals(FinishReason.TOOL_CALLS, r.finishReason());
          assertEquals(new Usage(60, 15, 0, 0, 0), r.usage());
        }),
        Case.fails("mid-stream error event", Reply.fixtureSse("openai/chat-stream-midstream-error.sse"), true, e -> {
          assertEquals(ErrorKind.MID_STREAM, e.kind());
          assertTrue(e.isRetryable());
          assertEquals("server_error", e.errorType());
          assertTrue(e.getMessage().contains("The server had an error"), e.getMessage());
        }),
        Case.fails("400 context length", Reply.fixtureJson(400, "openai/error-400-context-length-exceeded.json"), false,
            kind(ErrorKind.CONTEXT_LENGTH_EXCEEDED, 400, false).andThen(e -> {
              assertEquals("context_length_exceeded", e.errorCode());
              assertEquals("invalid_request_error", e.errorType());
            })),
        Case.fails("401 invalid key", Reply.fixtureJson(401, "openai/error-401-invalid-api-key.json"), true,
            kind(ErrorKind.AUTHENTICATION, 401, false)),
        Case.fails("429 tokens rate limit with retry-after",
            Reply.fixtureJson(429, "openai/error-429-rate-limit-tokens.json")
                .withHeaders(Map.of("retry-after-ms", "3890", "x-request-id", "req_123")), false,
            kind(ErrorKind.RATE_LIMITED, 429, true).andThen(e -> {
              assertEquals(Duration.ofMillis(3890), e.retryAfter().orElseThrow());
              assertEquals("req_123", ((ProviderException) e).requestId());
              assertEquals("rate_limit_exceeded", e.errorCode());
            })),
        Case.fails("429 insufficient quota is not retryable",
            Reply.fixtureJson(429, "openai/error-429-insufficient-quota.json"), true,
            kind(ErrorKind.QUOTA_EXCEEDED, 429, false)),
        Case.fails("500 server error", Reply.fixtureJson(500, "openai/error-500-server-error.json"), false,
            kind(ErrorKind.SERVER_ERROR, 500, true)),
        Case.fails("503 overloaded, x-should-retry false wins",
            Reply.fixtureJson(503, "openai/error-503-model-overloaded.json")
                .withHeaders(Map.of("x-should-retry", "false")), true,
            kind(ErrorKind.OVERLOADED, 503, false)),
        Case.fails("error body that is not JSON", Reply.json(502, "<html>Bad gateway</html>"), false, e -> {
          assertEquals(ErrorKind.SERVER_ERROR, e.kind());
          assertEquals("<html>Bad gateway</html>", ((ProviderException) e).rawBody());
        }),
        Case.fails("malformed stream event", Reply.sse("data: {not json\n\n".getBytes()), true, e ->
            assertEquals(ErrorKind.MALFORMED_RESPONSE, e.kind())));
  }
}
