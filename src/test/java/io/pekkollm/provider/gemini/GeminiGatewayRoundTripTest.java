package io.pekkollm.provider.gemini;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.RateLimitException;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionAssistantMessageParam;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import io.pekkollm.api.LlmClient;
import io.pekkollm.http.GatewayServer;
import io.pekkollm.http.GatewaySettings;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * OpenAI-format requests through the gateway to Gemini (served by the recorded fixtures) and back, read with
 * the official openai-java client.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GeminiGatewayRoundTripTest {
  private static final String MODEL = "gemini/gemini-1.5-flash";
  private Upstream upstream;
  private LlmClient client;
  private ServerBinding binding;
  private OpenAIClient openai;

  @BeforeAll
  void start() throws Exception {
    upstream = new Upstream();
    var config = TestConfig.of("pekko-llm.providers.gemini { base-url = \"" + upstream.url("")
        + "\", api-key = \"gm-test\" }\npekko-llm.gateway.access-log = off");
    client = LlmClient.create(config);
    binding = GatewayServer.start(client, GatewaySettings.create(config).withPort(0))
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    openai = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + binding.localAddress().getPort() + "/v1")
        .apiKey("x").maxRetries(0).build();
  }

  @AfterAll
  void stop() {
    if (openai != null) {
      openai.close();
    }
    if (client != null) {
      client.close();
    }
    upstream.close();
  }

  @BeforeEach
  void reset() {
    upstream.reset();
  }

  private static ChatCompletionFunctionTool weatherTool() {
    return ChatCompletionFunctionTool.builder().function(FunctionDefinition.builder().name("weather")
        .description("Weather by place")
        .parameters(FunctionParameters.builder()
            .putAdditionalProperty("type", JsonValue.from("object"))
            .putAdditionalProperty("properties", JsonValue.from(Map.of("location", Map.of("type", "string"))))
            .putAdditionalProperty("additionalProperties", JsonValue.from(false))
            .build())
        .build()).build();
  }

  private JsonNode sentBody() throws Exception {
    return Json.parse(upstream.requests().get(0).body());
  }

  @Test
  void plainCompletion() throws Exception {
    upstream.enqueue(Reply.fixtureJson(200, "gemini/generate-content.json"));
    ChatCompletion c = openai.chat().completions().create(ChatCompletionCreateParams.builder().model(MODEL)
        .addSystemMessage("Count carefully.").addUserMessage("How many r's are in strawberry?").build());
    assertEquals("There are **3** r's in strawberry.\n\nHere is the breakdown: st**r**awbe**rr**y.",
        c.choices().get(0).message().content().orElseThrow());
    assertEquals("stop", c.choices().get(0).finishReason().asString());
    assertEquals(9, c.usage().orElseThrow().promptTokens());
    assertEquals(272, c.usage().orElseThrow().completionTokens());
    assertEquals(244L, c.usage().orElseThrow().completionTokensDetails().orElseThrow().reasoningTokens().orElseThrow());
    assertEquals("/v1beta/models/gemini-1.5-flash:generateContent", upstream.requests().get(0).path());
    assertEquals(Json.parse("{\"system_instruction\":{\"parts\":[{\"text\":\"Count carefully.\"}]},"
        + "\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"How many r's are in strawberry?\"}]}]}"), sentBody());
  }

  @Test
  void streamedCompletion() throws Exception {
    upstream.enqueue(Reply.fixtureSse("gemini/stream-generate-content-text.sse"));
    StringBuilder text = new StringBuilder();
    String finish = null;
    try (StreamResponse<ChatCompletionChunk> s = openai.chat().completions().createStreaming(
        ChatCompletionCreateParams.builder().model(MODEL).addUserMessage("How many r's?").maxCompletionTokens(100).build())) {
      for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) s.stream()::iterator) {
        for (ChatCompletionChunk.Choice choice : chunk.choices()) {
          choice.delta().content().ifPresent(text::append);
          if (choice.finishReason().isPresent()) {
            finish = choice.finishReason().get().asString();
          }
        }
      }
    }
    assertEquals("There are **3** \"r\"s in strawberry.\n\nst**r**awbe**rr**y", text.toString());
    assertEquals("stop", finish);
    assertEquals("alt=sse", upstream.requests().get(0).query());
    assertEquals(100, sentBody().path("generationConfig").path("maxOutputTokens").asInt());
  }

  @Test
  void toolCallCompletion() throws Exception {
    upstream.enqueue(Reply.fixtureJson(200, "gemini/generate-content-function-call.json"));
    ChatCompletion c = openai.chat().completions().create(ChatCompletionCreateParams.builder().model(MODEL)
        .addUserMessage("Weather in San Francisco?").addTool(weatherTool()).build());
    ChatCompletionMessageFunctionToolCall call = c.choices().get(0).message().toolCalls().orElseThrow().get(0).asFunction();
    assertEquals("call_m36LaZGyCLz1xs0PtNSB-QU_0~"
        + GeminiContractTest.signature("gemini/generate-content-function-call.json"), call.id());
    assertEquals("weather", call.function().name());
    assertEquals("{\"location\":\"San Francisco\"}", call.function().arguments());
    assertEquals("tool_calls", c.choices().get(0).finishReason().asString());
    // additionalProperties is outside Gemini's Schema subset and is not sent.
    assertEquals(Json.parse("[{\"functionDeclarations\":[{\"name\":\"weather\",\"description\":\"Weather by place\","
        + "\"parameters\":{\"type\":\"object\",\"properties\":{\"location\":{\"type\":\"string\"}}}}]}]"),
        sentBody().get("tools"));
  }

  @Test
  void streamedToolCall() throws Exception {
    upstream.enqueue(Reply.fixtureSse("gemini/stream-generate-content-function-call.sse"));
    Map<Long, String[]> calls = new TreeMap<>();
    String finish = null;
    try (StreamResponse<ChatCompletionChunk> s = openai.chat().completions().createStreaming(
        ChatCompletionCreateParams.builder().model(MODEL).addUserMessage("Weather?").addTool(weatherTool()).build())) {
      for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) s.stream()::iterator) {
        for (ChatCompletionChunk.Choice choice : chunk.choices()) {
          for (ChatCompletionChunk.Choice.Delta.ToolCall tc : choice.delta().toolCalls().orElse(List.of())) {
            String[] acc = calls.computeIfAbsent(tc.index(), i -> new String[] {null, null, ""});
            tc.id().ifPresent(id -> acc[0] = id);
            tc.function().flatMap(f -> f.name()).ifPresent(n -> acc[1] = n);
            tc.function().flatMap(f -> f.arguments()).ifPresent(a -> acc[2] += a);
          }
          if (choice.finishReason().isPresent()) {
            finish = choice.finishReason().get().asString();
          }
        }
      }
    }
    assertEquals(1, calls.size());
    assertEquals("call_b36LacjwM668nsEP2tbsgQQ_0~"
        + GeminiContractTest.signature("gemini/stream-generate-content-function-call.sse"), calls.get(0L)[0]);
    assertEquals("weather", calls.get(0L)[1]);
    assertEquals("{\"location\":\"San Francisco\"}", calls.get(0L)[2]);
    assertEquals("tool_calls", finish);
  }

  @Test
  void toolResultsGoBackAsFunctionResponsesNamedAfterTheirCallWithTheCallsThoughtSignature() throws Exception {
    upstream.enqueue(Reply.fixtureJson(200, "gemini/generate-content.json"));
    String id = "call_b36LacjwM668nsEP2tbsgQQ_0~EqUCCqICAb4+9vsh";
    ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model(MODEL)
        .addUserMessage("Weather in San Francisco?")
        .addTool(weatherTool())
        .addMessage(ChatCompletionAssistantMessageParam.builder().addToolCall(ChatCompletionMessageFunctionToolCall
            .builder().id(id).function(ChatCompletionMessageFunctionToolCall.Function
                .builder().name("weather").arguments("{\"location\":\"San Francisco\"}").build()).build()).build())
        .addMessage(ChatCompletionToolMessageParam.builder().toolCallId(id)
            .content("18C, fog").build())
        .build();
    openai.chat().completions().create(params);
    assertEquals(Json.parse("[{\"role\":\"user\",\"parts\":[{\"text\":\"Weather in San Francisco?\"}]},"
        + "{\"role\":\"model\",\"parts\":[{\"functionCall\":{\"name\":\"weather\",\"args\":{\"location\":\"San Francisco\"}},"
        + "\"thoughtSignature\":\"EqUCCqICAb4+9vsh\"}]},"
        + "{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":\"weather\",\"response\":{\"output\":\"18C, fog\"}}}]}]"),
        sentBody().get("contents"));
  }

  @Test
  void quotaExhaustionReachesTheClientAs429WithRetryAfter() {
    upstream.enqueue(Reply.fixtureJson(429, "gemini/error-429-resource-exhausted.json"));
    RateLimitException e = assertThrows(RateLimitException.class, () -> openai.chat().completions()
        .create(ChatCompletionCreateParams.builder().model(MODEL).addUserMessage("Hi").build()));
    assertEquals(429, e.statusCode());
    // 34.4 s from RetryInfo, rounded up to whole seconds for Retry-After.
    assertEquals(List.of("35"), e.headers().values("Retry-After"));
    assertTrue(String.valueOf(e.body()).contains("RESOURCE_EXHAUSTED"), String.valueOf(e.body()));
  }
}
