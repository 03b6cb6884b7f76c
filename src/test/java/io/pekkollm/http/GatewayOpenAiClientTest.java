package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.errors.RateLimitException;
import com.openai.errors.UnauthorizedException;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import io.pekkollm.testkit.Fixtures;
import io.pekkollm.testkit.Upstream.Reply;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The official openai-java client talks to the gateway, which talks to the mock and to a local upstream. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewayOpenAiClientTest {
  private GatewayFixture gw;
  private OpenAIClient openai;

  @BeforeAll
  void start() {
    gw = new GatewayFixture("");
    openai = OpenAIOkHttpClient.builder().baseUrl(gw.baseUrl()).apiKey("unused").maxRetries(0).build();
  }

  @AfterAll
  void stop() {
    openai.close();
    gw.close();
  }

  @BeforeEach
  void reset() {
    gw.upstream.reset();
  }

  private static ChatCompletionCreateParams params(String model, String text) {
    return ChatCompletionCreateParams.builder().model(model).addUserMessage(text).build();
  }

  @Test
  void mockEchoAnswersTheLastUserMessage() {
    ChatCompletion c = openai.chat().completions().create(params("mock/echo", "Hello from the official client"));
    assertEquals("Hello from the official client", c.choices().get(0).message().content().orElseThrow());
    assertEquals(ChatCompletion.Choice.FinishReason.STOP, c.choices().get(0).finishReason());
    assertEquals("mock/echo", c.model());
    assertTrue(c.usage().orElseThrow().totalTokens() > 0);
  }

  @Test
  void mockEchoStreamsWithUsage() {
    ChatCompletionCreateParams p = params("mock/echo", "one two three four").toBuilder()
        .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
    ChatCompletionAccumulator acc = ChatCompletionAccumulator.create();
    int chunks = 0;
    try (StreamResponse<ChatCompletionChunk> s = openai.chat().completions().createStreaming(p)) {
      for (ChatCompletionChunk c : (Iterable<ChatCompletionChunk>) s.stream()::iterator) {
        acc.accumulate(c);
        chunks++;
      }
    }
    ChatCompletion c = acc.chatCompletion();
    assertEquals("one two three four", c.choices().get(0).message().content().orElseThrow());
    assertTrue(chunks >= 5, "word chunks + finish + usage, got " + chunks);
    assertTrue(c.usage().isPresent(), "usage chunk requested with include_usage");
  }

  @Test
  void upstreamResponsePassesThroughFieldByField() {
    gw.upstream.enqueue(Reply.fixtureJson(200, "openai/chat-nonstream-tool-call.json"));
    ChatCompletion c = openai.chat().completions().create(params("openai/gpt-4.1", "read the readme"));
    ChatCompletionMessageToolCall call = c.choices().get(0).message().toolCalls().orElseThrow().get(0);
    assertEquals("call_KjzAbhiZC6nk81tQzL7pwlpc", call.asFunction().id());
    assertEquals("read_file", call.asFunction().function().name());
    assertEquals("{\"path\":\"README.md\"}", call.asFunction().function().arguments());
    assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, c.choices().get(0).finishReason());
    assertEquals(60, c.usage().orElseThrow().promptTokens());
    // The upstream got the provider's own model id and our translated body.
    String sent = gw.upstream.requests().get(0).body();
    assertTrue(sent.contains("\"model\":\"gpt-4.1\""), sent);
    assertEquals("Bearer sk-test-key-openai", gw.upstream.requests().get(0).headers().get("authorization"));
  }

  @Test
  void upstreamStreamPassesThrough() {
    gw.upstream.enqueue(Reply.fixtureSse("openai/chat-stream-tool-call-2024.sse"));
    ChatCompletionAccumulator acc = ChatCompletionAccumulator.create();
    ChatCompletionCreateParams p = params("openai/gpt-4o", "weather?").toBuilder()
        .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
    try (StreamResponse<ChatCompletionChunk> s = openai.chat().completions().createStreaming(p)) {
      s.stream().forEach(acc::accumulate);
    }
    ChatCompletion c = acc.chatCompletion();
    ChatCompletionMessageToolCall call = c.choices().get(0).message().toolCalls().orElseThrow().get(0);
    assertEquals("get_weather", call.asFunction().function().name());
    assertEquals("{\"city\":\"New York City\"}", call.asFunction().function().arguments());
    assertEquals(44, c.usage().orElseThrow().promptTokens());
    assertTrue(gw.upstream.requests().get(0).body().contains("\"include_usage\":true"));
  }

  @Test
  void upstreamTextStreamArrivesWhole() {
    gw.upstream.enqueue(Reply.fixtureSse("openai/chat-stream-text-usage-2024.sse"));
    ChatCompletionAccumulator acc = ChatCompletionAccumulator.create();
    try (StreamResponse<ChatCompletionChunk> s = openai.chat().completions()
        .createStreaming(params("openai/gpt-4o", "weather?"))) {
      s.stream().forEach(acc::accumulate);
    }
    String text = acc.chatCompletion().choices().get(0).message().content().orElseThrow();
    assertEquals(159, text.length());
    assertTrue(text.startsWith("I'm unable to provide real-time weather"));
  }

  @Test
  void upstreamErrorsKeepTheirStatusAndRetryAfter() {
    gw.upstream.enqueue(Reply.json(429, Fixtures.text("openai/error-429-rate-limit-tokens.json"))
        .withHeaders(Map.of("retry-after", "7")));
    RateLimitException e = assertThrows(RateLimitException.class,
        () -> openai.chat().completions().create(params("openai/gpt-4o", "hi")));
    assertEquals(429, e.statusCode());
    assertEquals(List.of("7"), e.headers().values("Retry-After"));

    gw.upstream.enqueue(Reply.fixtureJson(401, "openai/error-401-invalid-api-key.json"));
    assertThrows(UnauthorizedException.class, () -> openai.chat().completions().create(params("openai/gpt-4o", "hi")));

    gw.upstream.enqueue(Reply.fixtureJson(400, "openai/error-400-context-length-exceeded.json"));
    BadRequestException bad = assertThrows(BadRequestException.class,
        () -> openai.chat().completions().createStreaming(params("openai/gpt-4o", "hi")).stream().count());
    assertTrue(bad.getMessage().contains("context_length_exceeded") || bad.code().orElse("").equals("context_length_exceeded"),
        bad.getMessage());
  }

  @Test
  void unknownProviderIs404() {
    NotFoundException e = assertThrows(NotFoundException.class,
        () -> openai.chat().completions().create(params("nosuch/model", "hi")));
    assertTrue(e.getMessage().contains("unknown provider 'nosuch'"), e.getMessage());
  }

  @Test
  void midStreamErrorReachesTheClientAsAnError() {
    gw.upstream.enqueue(Reply.fixtureSse("openai/chat-stream-midstream-error.sse"));
    StringBuilder seen = new StringBuilder();
    RuntimeException e = assertThrows(RuntimeException.class, () -> {
      try (StreamResponse<ChatCompletionChunk> s = openai.chat().completions()
          .createStreaming(params("openai/gpt-4o", "hi"))) {
        s.stream().forEach(c -> c.choices().forEach(ch -> ch.delta().content().ifPresent(seen::append)));
      }
    });
    assertEquals("The question \"", seen.toString(), "the chunks before the error arrived");
    assertTrue(String.valueOf(e.getMessage()).contains("The server had an error"), String.valueOf(e.getMessage()));
  }
}
