package io.pekkollm.provider.anthropic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.OpenAIServiceException;
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
 * OpenAI-format requests through the gateway to Anthropic (served by the recorded fixtures) and back, read
 * with the official openai-java client: what an OpenAI application sees when it points at pekko-llm.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AnthropicGatewayRoundTripTest {
  private static final String MODEL = "anthropic/claude-3-5-haiku-20241022";
  private Upstream upstream;
  private LlmClient client;
  private ServerBinding binding;
  private OpenAIClient openai;

  @BeforeAll
  void start() throws Exception {
    upstream = new Upstream();
    var config = TestConfig.of("pekko-llm.providers.anthropic { base-url = \"" + upstream.url("")
        + "\", api-key = \"sk-ant-test\" }\npekko-llm.gateway.access-log = off");
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
    return ChatCompletionFunctionTool.builder().function(FunctionDefinition.builder().name("get_weather")
        .description("Current weather")
        .parameters(FunctionParameters.builder()
            .putAdditionalProperty("type", JsonValue.from("object"))
            .putAdditionalProperty("properties", JsonValue.from(Map.of("location", Map.of("type", "string"))))
            .build())
        .build()).build();
  }

  private JsonNode sentBody() throws Exception {
    return Json.parse(upstream.requests().get(0).body());
  }

  @Test
  void plainCompletion() throws Exception {
    upstream.enqueue(Reply.fixtureJson(200, "anthropic/messages-nonstream.json"));
    ChatCompletion c = openai.chat().completions().create(ChatCompletionCreateParams.builder().model(MODEL)
        .addSystemMessage("Be friendly.").addUserMessage("Hello, how are you?").build());
    assertEquals("Hello! I'm doing well, thanks for asking. How are you doing today? Is there anything I can help "
        + "you with?", c.choices().get(0).message().content().orElseThrow());
    assertEquals("stop", c.choices().get(0).finishReason().asString());
    assertEquals(12, c.usage().orElseThrow().promptTokens());
    assertEquals(29, c.usage().orElseThrow().completionTokens());
    assertEquals(MODEL, c.model());
    JsonNode sent = sentBody();
    assertEquals("claude-3-5-haiku-20241022", sent.get("model").asText());
    assertEquals("Be friendly.", sent.get("system").asText());
    assertEquals(4096, sent.get("max_tokens").asInt());
    assertEquals("/v1/messages", upstream.requests().get(0).path());
  }

  @Test
  void streamedCompletion() throws Exception {
    upstream.enqueue(Reply.fixtureSse("anthropic/messages-stream-text-2025.sse"));
    StringBuilder text = new StringBuilder();
    String finish = null;
    try (StreamResponse<ChatCompletionChunk> s = openai.chat().completions().createStreaming(
        ChatCompletionCreateParams.builder().model(MODEL).addUserMessage("Hello").maxCompletionTokens(200).build())) {
      for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) s.stream()::iterator) {
        for (ChatCompletionChunk.Choice choice : chunk.choices()) {
          choice.delta().content().ifPresent(text::append);
          if (choice.finishReason().isPresent()) {
            finish = choice.finishReason().get().asString();
          }
        }
      }
    }
    assertEquals("Hello! I'm doing well, thank you for asking. How are you doing today? Is there anything I can help "
        + "you with?", text.toString());
    assertEquals("stop", finish);
    JsonNode sent = sentBody();
    assertTrue(sent.get("stream").asBoolean());
    assertEquals(200, sent.get("max_tokens").asInt());
  }

  @Test
  void toolCallCompletion() throws Exception {
    upstream.enqueue(Reply.fixtureJson(200, "anthropic/messages-nonstream-tool-use.json"));
    ChatCompletion c = openai.chat().completions().create(ChatCompletionCreateParams.builder().model(MODEL)
        .addUserMessage("Weather in San Francisco?").addTool(weatherTool()).build());
    ChatCompletionMessageFunctionToolCall call = c.choices().get(0).message().toolCalls().orElseThrow().get(0).asFunction();
    assertEquals("toolu_01GHndag5wQmbzNihYmV2UBj", call.id());
    assertEquals("get_weather", call.function().name());
    assertEquals("{\"location\":\"San Francisco, CA\",\"units\":\"c\"}", call.function().arguments());
    assertEquals("tool_calls", c.choices().get(0).finishReason().asString());
    assertEquals(Json.parse("[{\"name\":\"get_weather\",\"description\":\"Current weather\",\"input_schema\":"
        + "{\"type\":\"object\",\"properties\":{\"location\":{\"type\":\"string\"}}}}]"), sentBody().get("tools"));
  }

  @Test
  void streamedToolCallArrivesAsOpenAiToolCallDeltas() throws Exception {
    upstream.enqueue(Reply.fixtureSse("anthropic/messages-stream-tool-use.sse"));
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
    String[] call = calls.get(0L);
    assertEquals("toolu_018acGYLtfR52q9yDbWaEdQZ", call[0]);
    assertEquals("get_weather", call[1]);
    assertEquals("{\"location\": \"San Francisco, CA\", \"units\": \"f\"}", call[2]);
    assertEquals("tool_calls", finish);
  }

  @Test
  void toolResultsGoBackAsToolResultBlocks() throws Exception {
    upstream.enqueue(Reply.fixtureSse("anthropic/messages-stream-after-tool-result.sse"));
    StringBuilder text = new StringBuilder();
    ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model(MODEL)
        .addUserMessage("Weather in San Francisco?")
        .addTool(weatherTool())
        .addMessage(ChatCompletionAssistantMessageParam.builder().addToolCall(ChatCompletionMessageFunctionToolCall
            .builder().id("toolu_018acGYLtfR52q9yDbWaEdQZ").function(ChatCompletionMessageFunctionToolCall.Function
                .builder().name("get_weather").arguments("{\"location\": \"San Francisco, CA\", \"units\": \"f\"}")
                .build()).build()).build())
        .addMessage(ChatCompletionToolMessageParam.builder().toolCallId("toolu_018acGYLtfR52q9yDbWaEdQZ")
            .content("68F, sunny").build())
        .build();
    try (StreamResponse<ChatCompletionChunk> s = openai.chat().completions().createStreaming(params)) {
      s.stream().forEach(chunk -> chunk.choices().forEach(ch -> ch.delta().content().ifPresent(text::append)));
    }
    assertTrue(text.toString().startsWith("The weather in San Francisco, CA is currently:"), text.toString());
    assertTrue(text.toString().contains("68°F"), text.toString());
    assertEquals(Json.parse("[{\"role\":\"user\",\"content\":\"Weather in San Francisco?\"},"
        + "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_018acGYLtfR52q9yDbWaEdQZ\","
        + "\"name\":\"get_weather\",\"input\":{\"location\":\"San Francisco, CA\",\"units\":\"f\"}}]},"
        + "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_018acGYLtfR52q9yDbWaEdQZ\","
        + "\"content\":\"68F, sunny\"}]}]"), sentBody().get("messages"));
  }

  @Test
  void anOverloadedUpstreamKeepsItsStatusAndErrorType() {
    upstream.enqueue(Reply.fixtureJson(529, "anthropic/error-529-overloaded.json"));
    OpenAIServiceException e = assertThrows(OpenAIServiceException.class, () -> openai.chat().completions()
        .create(ChatCompletionCreateParams.builder().model(MODEL).addUserMessage("Hi").build()));
    assertEquals(529, e.statusCode());
    assertTrue(String.valueOf(e.body()).contains("overloaded_error"), String.valueOf(e.body()));
  }
}
