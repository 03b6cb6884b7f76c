package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.RateLimitException;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.FunctionDefinition;
import com.openai.models.FunctionParameters;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionFunctionTool;
import com.openai.models.chat.completions.ChatCompletionMessageFunctionToolCall;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.CompletionUsage;
import com.typesafe.config.Config;
import io.pekkollm.api.LlmClient;
import io.pekkollm.testkit.EventStreams;
import io.pekkollm.testkit.Fixtures;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * OpenAI-format requests through the gateway to the Ollama, Cohere and Bedrock providers (served from their
 * fixtures by a local upstream), checked with the official openai-java client, streamed and not.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OllamaCohereBedrockGatewayTest {
  private Upstream upstream;
  private LlmClient llm;
  private OpenAIClient openai;

  @BeforeAll
  void start() throws Exception {
    upstream = new Upstream();
    Config config = TestConfig.of("pekko-llm.providers {\n"
        + "  ollama.base-url = \"" + upstream.url("") + "\"\n"
        + "  cohere { base-url = \"" + upstream.url("") + "\", api-key = \"co-key\" }\n"
        + "  bedrock { base-url = \"" + upstream.url("") + "\", api-key = \"secret\", access-key-id = \"AKID\","
        + " region = us-west-2 }\n"
        + "}\npekko-llm.gateway.access-log = off");
    llm = LlmClient.create(config);
    ServerBinding binding = GatewayServer.start(llm, GatewaySettings.create(config).withPort(0))
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    openai = OpenAIOkHttpClient.builder()
        .baseUrl("http://127.0.0.1:" + binding.localAddress().getPort() + "/v1")
        .apiKey("x")
        .maxRetries(0)
        .build();
  }

  @AfterAll
  void stop() {
    if (openai != null) {
      openai.close();
    }
    if (llm != null) {
      llm.close();
    }
    upstream.close();
  }

  @BeforeEach
  void reset() {
    upstream.reset();
  }

  private static ChatCompletionCreateParams.Builder params(String model) {
    return ChatCompletionCreateParams.builder().model(model).addUserMessage("Hello");
  }

  private static ChatCompletionFunctionTool weatherTool() {
    return ChatCompletionFunctionTool.builder().function(FunctionDefinition.builder().name("get_weather")
        .parameters(FunctionParameters.builder()
            .putAdditionalProperty("type", JsonValue.from("object"))
            .putAdditionalProperty("properties", JsonValue.from(Map.of("city", Map.of("type", "string"))))
            .build())
        .build()).build();
  }

  private ChatCompletion streamed(ChatCompletionCreateParams params) {
    ChatCompletionAccumulator acc = ChatCompletionAccumulator.create();
    try (StreamResponse<ChatCompletionChunk> stream = openai.chat().completions().createStreaming(params)) {
      stream.stream().forEach(acc::accumulate);
    }
    return acc.chatCompletion();
  }

  private JsonNode lastUpstreamBody() throws Exception {
    List<Upstream.Recorded> reqs = upstream.requests();
    return Json.parse(reqs.get(reqs.size() - 1).body());
  }

  @Test
  void ollamaAnswersAnOpenAiRequest() throws Exception {
    upstream.enqueue(Reply.fixtureJson(200, "ollama/chat-nonstream.json"));
    ChatCompletion c = openai.chat().completions().create(params("ollama/llama3.2").build());
    assertEquals("Hello! How are you today?", c.choices().get(0).message().content().orElseThrow());
    assertEquals(ChatCompletion.Choice.FinishReason.STOP, c.choices().get(0).finishReason());
    CompletionUsage u = c.usage().orElseThrow();
    assertEquals(26, u.promptTokens());
    assertEquals(298, u.completionTokens());
    assertEquals("ollama/llama3.2", c.model());
    assertEquals("/api/chat", upstream.requests().get(0).path());
    JsonNode sent = lastUpstreamBody();
    assertEquals("llama3.2", sent.path("model").asText());
    assertEquals(false, sent.path("stream").asBoolean(true));
    assertEquals("Hello", sent.path("messages").get(0).path("content").asText());
  }

  @Test
  void ollamaStreamsToAnOpenAiClientWithUsage() throws Exception {
    upstream.enqueue(Reply.bytes(200, ContentTypes.parse("application/x-ndjson"),
        Fixtures.bytes("ollama/chat-stream.ndjson")));
    ChatCompletion c = streamed(params("ollama/llama3.2")
        .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build());
    assertEquals("The", c.choices().get(0).message().content().orElseThrow());
    assertEquals(ChatCompletion.Choice.FinishReason.STOP, c.choices().get(0).finishReason());
    assertEquals(26, c.usage().orElseThrow().promptTokens());
    assertEquals(282, c.usage().orElseThrow().completionTokens());
    assertEquals(true, lastUpstreamBody().path("stream").asBoolean(false));
  }

  @Test
  void ollamaToolCallsComeBackInOpenAiShape() throws Exception {
    upstream.enqueue(Reply.fixtureJson(200, "ollama/chat-nonstream-tool-call.json"));
    ChatCompletion c = openai.chat().completions().create(params("ollama/llama3.2").addTool(weatherTool()).build());
    ChatCompletionMessageFunctionToolCall call = c.choices().get(0).message().toolCalls().orElseThrow().get(0)
        .asFunction();
    assertEquals("get_weather", call.function().name());
    assertEquals("{\"city\":\"Tokyo\"}", call.function().arguments());
    assertTrue(call.id().startsWith("call_"), call.id());
    assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, c.choices().get(0).finishReason());
    assertEquals("get_weather", lastUpstreamBody().path("tools").get(0).path("function").path("name").asText());
  }

  @Test
  void bedrockStreamsToolCallFragmentsToAnOpenAiClient() throws Exception {
    upstream.enqueue(Reply.bytes(200, ContentTypes.parse("application/vnd.amazon.eventstream"),
        EventStreams.fromNdjsonFixture("bedrock/converse-stream-events-tool-use.ndjson")));
    ChatCompletion c = streamed(params("bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0").addTool(weatherTool())
        .build());
    ChatCompletion.Choice choice = c.choices().get(0);
    assertEquals("Let me generate that JSON for you.", choice.message().content().orElseThrow());
    ChatCompletionMessageFunctionToolCall call = choice.message().toolCalls().orElseThrow().get(0).asFunction();
    assertEquals("json-tool-id", call.id());
    assertEquals("json", call.function().name());
    assertEquals("{\"value\":\"test\"}", call.function().arguments());
    assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, choice.finishReason());
    Upstream.Recorded sent = upstream.requests().get(0);
    assertEquals("/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream",
        sent.headers().get("raw-request-uri"));
    assertTrue(sent.headers().get("authorization").startsWith("AWS4-HMAC-SHA256 Credential=AKID/"));
  }

  @Test
  void bedrockAnswersAnOpenAiRequest() throws Exception {
    upstream.enqueue(Reply.fixtureJson(200, "bedrock/converse-nonstream.json"));
    ChatCompletion c = openai.chat().completions().create(params("bedrock/amazon.nova-lite-v1:0").build());
    assertTrue(c.choices().get(0).message().content().orElseThrow().startsWith("Let me count the \"r\"s"));
    assertEquals(22, c.usage().orElseThrow().promptTokens());
    assertEquals(57, c.usage().orElseThrow().completionTokens());
    assertEquals("/model/amazon.nova-lite-v1%3A0/converse", upstream.requests().get(0).headers().get("raw-request-uri"));
  }

  @Test
  void bedrockThrottlingReachesTheOpenAiClientAs429() {
    upstream.enqueue(Reply.json(429, "{\"message\":\"Too many requests, please wait before trying again.\"}")
        .withHeaders(Map.of("x-amzn-ErrorType", "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/")));
    RateLimitException e = assertThrows(RateLimitException.class, () ->
        openai.chat().completions().create(params("bedrock/amazon.nova-lite-v1:0").build()));
    assertEquals(429, e.statusCode());
    assertTrue(String.valueOf(e.getMessage()).contains("Too many requests"), e.getMessage());
  }

  @Test
  void cohereStreamsToAnOpenAiClient() throws Exception {
    upstream.enqueue(Reply.fixtureSse("cohere/chat-v2-stream-text.sse"));
    ChatCompletion c = streamed(params("cohere/command-a-03-2025")
        .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build());
    assertEquals("The capital of France is Paris.", c.choices().get(0).message().content().orElseThrow());
    assertEquals(ChatCompletion.Choice.FinishReason.STOP, c.choices().get(0).finishReason());
    assertEquals(507, c.usage().orElseThrow().promptTokens());
    assertEquals(448, c.usage().orElseThrow().promptTokensDetails().orElseThrow().cachedTokens().orElseThrow());
    assertEquals("/v2/chat", upstream.requests().get(0).path());
    assertEquals("command-a-03-2025", lastUpstreamBody().path("model").asText());
  }
}
