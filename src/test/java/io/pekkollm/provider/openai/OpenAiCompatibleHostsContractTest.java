package io.pekkollm.provider.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.ToolCall;
import io.pekkollm.model.Usage;
import io.pekkollm.testkit.Upstream.Reply;
import java.util.List;
import org.junit.jupiter.api.Nested;

/** The contract for each OpenAI-compatible host with its own fixtures and quirks. */
class OpenAiCompatibleHostsContractTest {

  @Nested
  class Groq extends OpenAiCompatibleContractTest {
    @Override
    protected String provider() {
      return "groq";
    }

    @Override
    protected String streamFixture() {
      return "groq/chat-stream-text.sse";
    }

    @Override
    protected List<Case> cases() {
      return list(
          Case.ok("stream text, usage in x_groq", Reply.fixtureSse("groq/chat-stream-text.sse"), true, r -> {
            assertEquals(3189, r.text().length());
            assertTrue(r.text().startsWith("Introducing \"Luminaria\""));
            assertEquals(FinishReason.STOP, r.finishReason());
            assertEquals(Usage.of(45, 662), r.usage());
          }),
          Case.ok("stream tool call", Reply.fixtureSse("groq/chat-stream-tool-call.sse"), true, r -> {
            assertEquals(List.of(new ToolCall("tk85n1k4m", "weather", "{}")), r.toolCalls());
            assertEquals(Usage.of(210, 15), r.usage());
          }),
          Case.ok("whole tool call", Reply.fixtureJson(200, "groq/chat-nonstream-tool-call.json"), false, r ->
              assertEquals(List.of(new ToolCall("ax9fskhev", "weather", "{}")), r.toolCalls())),
          Case.ok("whole text", Reply.fixtureJson(200, "groq/chat-nonstream.json"), false, r -> {
            assertEquals(2953, r.text().length());
            assertEquals(Usage.of(45, 607), r.usage());
          }),
          Case.fails("429 rate limit", Reply.fixtureJson(429, "groq/error-429-rate-limit.json"), true,
              kind(ErrorKind.RATE_LIMITED, 429, true)));
    }
  }

  @Nested
  class DeepSeek extends OpenAiCompatibleContractTest {
    @Override
    protected String provider() {
      return "deepseek";
    }

    @Override
    protected String streamFixture() {
      return "deepseek/chat-stream-reasoner.sse";
    }

    @Override
    protected List<Case> cases() {
      return list(
          Case.ok("reasoner stream: reasoning_content apart from the answer",
              Reply.fixtureSse("deepseek/chat-stream-reasoner.sse"), true, r -> {
                assertEquals("The word \"strawberry\" contains three \"r\"s.", r.text());
                assertTrue(r.reasoning() != null && r.reasoning().length() > 100, "reasoning kept separately");
                assertEquals(new Usage(18, 219, 0, 0, 205), r.usage());
              }),
          Case.ok("keep-alive comments are ignored", Reply.fixtureSse("deepseek/chat-stream-keepalive-excerpt.sse"),
              true, r -> {
                assertEquals("## **", r.text());
                assertEquals(FinishReason.LENGTH, r.finishReason());
                assertEquals(Usage.of(13, 400), r.usage());
              }),
          Case.ok("long text stream", Reply.fixtureSse("deepseek/chat-stream-text.sse"), true, r -> {
            assertEquals(1855, r.text().length());
            assertEquals(FinishReason.LENGTH, r.finishReason());
          }),
          Case.ok("whole reasoner", Reply.fixtureJson(200, "deepseek/chat-nonstream-reasoner.json"), false, r -> {
            assertEquals(107, r.text().length());
            assertTrue(r.reasoning() != null && !r.reasoning().isEmpty());
          }),
          Case.ok("whole tool call", Reply.fixtureJson(200, "deepseek/chat-nonstream-tool-call.json"), false, r ->
              assertEquals(List.of(new ToolCall("call_00_9V0vrf86Pc9aelHCJMZqnJBo", "weather",
                  "{\"location\": \"San Francisco\"}")), r.toolCalls())),
          Case.fails("400 context length", Reply.fixtureJson(400, "deepseek/error-400-context-length.json"), false,
              kind(ErrorKind.CONTEXT_LENGTH_EXCEEDED, 400, false)));
    }
  }

  @Nested
  class Mistral extends OpenAiCompatibleContractTest {
    @Override
    protected String provider() {
      return "mistral";
    }

    @Override
    protected String streamFixture() {
      return "mistral/chat-stream-text.sse";
    }

    @Override
    protected List<Case> cases() {
      return list(
          Case.ok("stream text, usage on the finish chunk", Reply.fixtureSse("mistral/chat-stream-text.sse"), true,
              r -> {
                assertEquals("Hello, world! This is a test response.", r.text());
                assertEquals(Usage.of(13, 8), r.usage());
              }),
          Case.ok("complete tool call without index", Reply.fixtureSse("mistral/chat-stream-tool-call.sse"), true,
              r -> {
                assertEquals(List.of(new ToolCall("gSIMJiOkT", "weather", "{\"location\": \"San Francisco\"}")),
                    r.toolCalls());
                assertEquals(FinishReason.TOOL_CALLS, r.finishReason());
              }),
          Case.ok("whole text", Reply.fixtureJson(200, "mistral/chat-nonstream.json"), false, r ->
              assertEquals(1925, r.text().codePointCount(0, r.text().length()))),
          Case.fails("401 {message}", Reply.fixtureJson(401, "mistral/error-401-unauthorized.json"), false,
              kind(ErrorKind.AUTHENTICATION, 401, false).andThen(e ->
                  assertTrue(e.getMessage().contains("Unauthorized")))),
          Case.fails("401 {detail}", Reply.fixtureJson(401, "mistral/error-401-unauthorized-alt.json"), false,
              kind(ErrorKind.AUTHENTICATION, 401, false).andThen(e ->
                  assertTrue(e.getMessage().contains("Unauthorized")))),
          Case.fails("429 typed", Reply.fixtureJson(429, "mistral/error-429-rate-limited.json"), false,
              kind(ErrorKind.RATE_LIMITED, 429, true).andThen(e -> assertEquals("1300", e.errorCode()))),
          Case.fails("429 legacy", Reply.fixtureJson(429, "mistral/error-429-legacy.json"), false,
              kind(ErrorKind.RATE_LIMITED, 429, true)),
          Case.fails("capacity exceeded on 503", Reply.fixtureJson(503, "mistral/error-capacity-exceeded.json"), false,
              kind(ErrorKind.OVERLOADED, 503, true)));
    }
  }

  @Nested
  class Xai extends OpenAiCompatibleContractTest {
    @Override
    protected String provider() {
      return "xai";
    }

    @Override
    protected String streamFixture() {
      return "xai/chat-stream-text.sse";
    }

    @Override
    protected List<Case> cases() {
      return list(
          Case.ok("stream with reasoning and cached tokens", Reply.fixtureSse("xai/chat-stream-text.sse"), true, r -> {
            assertEquals("Hello", r.text());
            assertEquals(new Usage(12, 1, 11, 0, 290), r.usage());
            assertTrue(r.reasoning().startsWith("First"));
          }),
          Case.ok("whole tool call", Reply.fixtureJson(200, "xai/chat-nonstream-tool-call.json"), false, r ->
              assertEquals(List.of(new ToolCall("call_93562515", "weather", "{\"location\":\"San Francisco\"}")),
                  r.toolCalls())),
          Case.ok("whole text", Reply.fixtureJson(200, "xai/chat-nonstream.json"), false, r ->
              assertEquals("Hello", r.text())),
          Case.fails("400 invalid key in {code, error}", Reply.fixtureJson(400, "xai/error-400-invalid-api-key.json"),
              false, kind(ErrorKind.AUTHENTICATION, 400, false)));
    }
  }

  @Nested
  class OpenRouter extends OpenAiCompatibleContractTest {
    @Override
    protected String provider() {
      return "openrouter";
    }

    @Override
    protected String streamFixture() {
      return "openrouter/chat-stream-with-comments.sse";
    }

    @Override
    protected List<Case> cases() {
      return list(
          Case.ok("PROCESSING comments, usage after the finish chunk",
              Reply.fixtureSse("openrouter/chat-stream-with-comments.sse"), true, r -> {
                assertEquals("Hello", r.text());
                assertEquals(FinishReason.STOP, r.finishReason());
                assertEquals(Usage.of(10, 2), r.usage());
              }),
          Case.fails("mid-stream error chunk", Reply.sse(("data: {\"id\":\"gen-1\",\"object\":\"chat.completion.chunk\","
                  + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n"
                  + "data: {\"id\":\"gen-1\",\"object\":\"chat.completion.chunk\",\"error\":"
                  + new String(io.pekkollm.testkit.Fixtures.bytes("openrouter/error-502-midstream-provider-unavailable.json"))
                      .strip()
                  + ",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},\"finish_reason\":\"error\"}]}\n\n")
                  .getBytes()), true, e -> {
                    assertEquals(ErrorKind.OVERLOADED, e.kind());
                    assertTrue(e.isRetryable());
                    assertTrue(e.getMessage().contains("Network connection lost."));
                  }),
          Case.fails("400 provider returned error", Reply.fixtureJson(400,
              "openrouter/error-400-provider-returned-error.json"), false, kind(ErrorKind.INVALID_REQUEST, 400, false)),
          Case.fails("429 numeric code", Reply.fixtureJson(429, "openrouter/error-429-rate-limit.json"), false,
              kind(ErrorKind.RATE_LIMITED, 429, true)));
    }
  }
}
