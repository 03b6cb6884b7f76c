package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.anthropic.client.AnthropicClient;
import com.anthropic.client.okhttp.AnthropicOkHttpClient;
import com.anthropic.core.JsonValue;
import com.anthropic.core.http.StreamResponse;
import com.anthropic.errors.OverloadedException;
import com.anthropic.errors.RateLimitException;
import com.anthropic.errors.UnauthorizedException;
import com.anthropic.helpers.MessageAccumulator;
import com.anthropic.models.messages.ContentBlock;
import com.anthropic.models.messages.ContentBlockParam;
import com.anthropic.models.messages.Message;
import com.anthropic.models.messages.MessageCountTokensParams;
import com.anthropic.models.messages.MessageCreateParams;
import com.anthropic.models.messages.RawMessageStreamEvent;
import com.anthropic.models.messages.StopReason;
import com.anthropic.models.messages.Tool;
import com.anthropic.models.messages.ToolResultBlockParam;
import com.anthropic.models.messages.ToolUseBlock;
import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import io.pekkollm.api.LlmClient;
import io.pekkollm.testkit.Fixtures;
import io.pekkollm.testkit.Sse;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The official anthropic-java client talks to the gateway's {@code /v1/messages}, which talks to Anthropic, OpenAI
 * and Gemini upstreams (a local upstream replaying their recorded wire fixtures).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewayAnthropicClientTest {
  private static final String KEY = "gw-test-key";

  private Upstream upstream;
  private LlmClient llm;
  private ServerBinding binding;
  private AnthropicClient anthropic;

  @BeforeAll
  void start() throws Exception {
    upstream = new Upstream();
    Config config = TestConfig.of("pekko-llm.providers {\n"
        + "  anthropic { base-url = \"" + upstream.url("") + "\", api-key = \"sk-ant-upstream\" }\n"
        + "  openai { base-url = \"" + upstream.url("/v1") + "\", api-key = \"sk-openai-upstream\" }\n"
        + "  gemini { base-url = \"" + upstream.url("") + "\", api-key = \"gemini-upstream\" }\n"
        + "}\npekko-llm.routing.model-aliases { \"claude-x\" = \"anthropic/claude-x-2099\" }\n"
        + "pekko-llm.gateway { access-log = off, api-key = \"" + KEY + "\" }");
    llm = LlmClient.create(config);
    binding = GatewayServer.start(llm, GatewaySettings.create(config).withPort(0))
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    anthropic = client(KEY);
  }

  private AnthropicClient client(String key) {
    return AnthropicOkHttpClient.builder().baseUrl("http://127.0.0.1:" + binding.localAddress().getPort())
        .apiKey(key).maxRetries(0).build();
  }

  @AfterAll
  void stop() {
    if (anthropic != null) {
      anthropic.close();
    }
    if (binding != null) {
      binding.unbind();
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

  private static MessageCreateParams.Builder params(String model) {
    return MessageCreateParams.builder().model(model).maxTokens(256).addUserMessage("Hello");
  }

  private static Tool weatherTool(String name) {
    return Tool.builder().name(name).description("The weather of a place")
        .inputSchema(Tool.InputSchema.builder()
            .properties(JsonValue.from(Map.of("location", Map.of("type", "string"))))
            .required(List.of("location")).build())
        .build();
  }

  private Message streamed(MessageCreateParams params) {
    MessageAccumulator acc = MessageAccumulator.create();
    try (StreamResponse<RawMessageStreamEvent> stream = anthropic.messages().createStreaming(params)) {
      stream.stream().forEach(acc::accumulate);
    }
    return acc.message();
  }

  private static String text(Message m) {
    StringBuilder sb = new StringBuilder();
    m.content().stream().filter(ContentBlock::isText).forEach(b -> sb.append(b.asText().text()));
    return sb.toString();
  }

  private JsonNode upstreamBody(int i) throws Exception {
    return Json.parse(upstream.requests().get(i).body());
  }

  @Test
  void createsThroughAnAnthropicUpstreamWithABareModelId() throws Exception {
    upstream.enqueue(Reply.fixtureJson(200, "anthropic/messages-nonstream.json"));
    Message m = anthropic.messages().create(params("claude-sonnet-4-5")
        .putAdditionalBodyProperty("top_k", JsonValue.from(40)).build());
    assertEquals("Hello! I'm doing well, thanks for asking. How are you doing today? Is there anything I can help "
        + "you with?", text(m));
    assertEquals(StopReason.END_TURN, m.stopReason().orElseThrow());
    assertEquals(12, m.usage().inputTokens());
    assertEquals(29, m.usage().outputTokens());
    assertEquals("anthropic/claude-sonnet-4-5", m.model().asString());
    assertEquals("/v1/messages", upstream.requests().get(0).path());
    JsonNode sent = upstreamBody(0);
    assertEquals("claude-sonnet-4-5", sent.path("model").asText());
    assertEquals(256, sent.path("max_tokens").asInt());
    assertEquals(40, sent.path("top_k").asInt(), "Anthropic's own top_k reaches an Anthropic upstream");
    assertEquals("Hello", sent.path("messages").get(0).path("content").asText());
    assertEquals("sk-ant-upstream", upstream.requests().get(0).headers().get("x-api-key"),
        "the upstream gets its own key, never the gateway's");
  }

  @Test
  void createsThroughAnOpenAiUpstreamWithABareModelIdAndDropsAnthropicOnlyFields() throws Exception {
    upstream.enqueue(Reply.fixtureJson(200, "openai/chat-nonstream.json"));
    Message m = anthropic.messages().create(params("gpt-4o-mini").system("Be brief.")
        .putAdditionalBodyProperty("top_k", JsonValue.from(5)).build());
    assertTrue(text(m).startsWith("**Holiday Name:** Galaxy Day"), text(m));
    assertEquals(StopReason.END_TURN, m.stopReason().orElseThrow());
    assertEquals("/v1/chat/completions", upstream.requests().get(0).path());
    JsonNode sent = upstreamBody(0);
    assertEquals("gpt-4o-mini", sent.path("model").asText());
    assertEquals("system", sent.path("messages").get(0).path("role").asText());
    assertEquals("Be brief.", sent.path("messages").get(0).path("content").asText());
    assertFalse(sent.has("top_k"), "OpenAI does not take top_k: " + sent);
  }

  @Test
  void aConfiguredAliasNamesTheUpstreamModel() throws Exception {
    upstream.enqueue(Reply.fixtureJson(200, "anthropic/messages-nonstream.json"));
    anthropic.messages().create(params("claude-x").build());
    assertEquals("claude-x-2099", upstreamBody(0).path("model").asText());
  }

  @Test
  void anthropicBetaHeaderReachesAnAnthropicUpstream() throws Exception {
    upstream.enqueue(Reply.fixtureJson(200, "anthropic/messages-nonstream.json"));
    anthropic.messages().create(params("anthropic/claude-sonnet-4-5")
        .putAdditionalHeader("anthropic-beta", "interleaved-thinking-2025-05-14").build());
    Upstream.Recorded r = upstream.requests().get(0);
    assertEquals("interleaved-thinking-2025-05-14", r.headers().get("anthropic-beta"));
    // The SDK's own anthropic-version is passed on (see the next test).
    assertTrue(r.headers().get("anthropic-version").matches("\\d{4}-\\d{2}-\\d{2}"), r.headers().toString());
    assertFalse(upstreamBody(0).has("anthropic_beta"), "the beta list is a header, not a body field");
  }

  @Test
  void theClientsAnthropicVersionReachesAnAnthropicUpstreamAndABadOneIsA400() throws Exception {
    upstream.enqueue(Reply.fixtureJson(200, "anthropic/messages-nonstream.json"));
    anthropic.messages().create(params("anthropic/claude-sonnet-4-5")
        .putAdditionalHeader("anthropic-version", "2024-01-01").build());
    assertEquals("2024-01-01", upstream.requests().get(0).headers().get("anthropic-version"));
    assertFalse(upstreamBody(0).has("anthropic_version"), "the version is a header, not a body field");

    // Not to an OpenAI upstream, whatever the client sends.
    upstream.enqueue(Reply.fixtureJson(200, "openai/chat-nonstream.json"));
    anthropic.messages().create(params("openai/gpt-4o-mini").putAdditionalHeader("anthropic-version", "2024-01-01")
        .build());
    assertEquals(null, upstream.requests().get(1).headers().get("anthropic-version"));
    assertFalse(upstreamBody(1).has("anthropic_version"));

    int before = upstream.requestCount();
    com.anthropic.errors.BadRequestException bad = assertThrows(com.anthropic.errors.BadRequestException.class,
        () -> anthropic.messages().create(params("anthropic/claude-sonnet-4-5")
            .putAdditionalHeader("anthropic-version", "latest\"}").build()));
    assertTrue(bad.getMessage().contains("anthropic-version"), bad.getMessage());
    assertEquals(before, upstream.requestCount(), "refused before any upstream call");
  }

  @Test
  void aRecordedAnthropicToolUseStreamRelaysUnchanged() {
    upstream.enqueue(Reply.fixtureSse("anthropic/messages-stream-tool-use.sse"));
    Message m = streamed(params("anthropic/claude-haiku-4-5").addTool(weatherTool("get_weather")).build());
    ToolUseBlock call = m.content().stream().filter(ContentBlock::isToolUse).findFirst().orElseThrow().asToolUse();
    assertEquals("toolu_018acGYLtfR52q9yDbWaEdQZ", call.id());
    assertEquals("get_weather", call.name());
    assertEquals(Map.of("location", "San Francisco, CA", "units", "f"), call._input().convert(Map.class));
    assertEquals(StopReason.TOOL_USE, m.stopReason().orElseThrow());
    assertEquals(656, m.usage().inputTokens());
    assertEquals(74, m.usage().outputTokens());
  }

  @Test
  void aRecordedAnthropicTextStreamRelaysUnchanged() throws Exception {
    upstream.enqueue(Reply.fixtureSse("anthropic/messages-stream-text.sse"));
    Message m = streamed(params("anthropic/claude-sonnet-4-5").build());
    assertEquals("[12345,67890]", text(m));
    assertEquals(StopReason.END_TURN, m.stopReason().orElseThrow());
    assertEquals(135, m.usage().inputTokens());
    assertEquals(10, m.usage().outputTokens());
    assertTrue(upstreamBody(0).path("stream").asBoolean());
  }

  @Test
  void streamsAnOpenAiUpstreamAsTheSdkAccumulatesIt() {
    upstream.enqueue(Reply.fixtureSse("openai/chat-stream-text-usage-2024.sse"));
    Message m = streamed(params("openai/gpt-4o").build());
    StringBuilder expected = new StringBuilder();
    Sse.parse(Fixtures.text("openai/chat-stream-text-usage-2024.sse")).stream()
        .filter(e -> !e.data().equals("[DONE]")).forEach(e -> expected.append(e.content()));
    assertEquals(expected.toString(), text(m));
    assertEquals(StopReason.END_TURN, m.stopReason().orElseThrow());
    assertTrue(m.usage().inputTokens() > 0 && m.usage().outputTokens() > 0, m.usage().toString());
  }

  @Test
  void streamsAGeminiUpstreamAsTheSdkAccumulatesIt() {
    upstream.enqueue(Reply.fixtureSse("gemini/stream-generate-content-text.sse"));
    Message m = streamed(params("gemini/gemini-2.5-flash").build());
    StringBuilder expected = new StringBuilder();
    for (Sse.Event e : Sse.parse(Fixtures.text("gemini/stream-generate-content-text.sse"))) {
      for (JsonNode part : e.json().at("/candidates/0/content/parts")) {
        if (!part.path("thought").asBoolean(false)) {
          expected.append(part.path("text").asText(""));
        }
      }
    }
    assertEquals(expected.toString(), text(m));
    assertEquals(StopReason.END_TURN, m.stopReason().orElseThrow());
  }

  /** Asks for a tool, answers the call with a tool_result; returns the upstream body of the second request. */
  private JsonNode toolRoundTrip(String model, Reply first, Reply second, String toolName) throws Exception {
    upstream.enqueue(first).enqueue(second);
    MessageCreateParams ask = params(model).addTool(weatherTool(toolName)).build();
    Message answer = anthropic.messages().create(ask);
    assertEquals(StopReason.TOOL_USE, answer.stopReason().orElseThrow());
    ToolUseBlock call = answer.content().stream().filter(ContentBlock::isToolUse).findFirst().orElseThrow()
        .asToolUse();
    assertEquals(toolName, call.name());
    MessageCreateParams follow = ask.toBuilder().addMessage(answer)
        .addUserMessageOfContentBlockParams(List.of(ContentBlockParam.ofToolResult(ToolResultBlockParam.builder()
            .toolUseId(call.id()).content("18 degrees and sunny").build())))
        .build();
    anthropic.messages().create(follow);
    JsonNode sent = upstreamBody(1);
    return Json.object().put("call_id", call.id()).set("body", sent);
  }

  @Test
  void toolRoundTripThroughOpenAiSendsAToolMessage() throws Exception {
    JsonNode r = toolRoundTrip("openai/gpt-4o", Reply.fixtureJson(200, "openai/chat-nonstream-tool-call.json"),
        Reply.fixtureJson(200, "openai/chat-nonstream.json"), "read_file");
    JsonNode msgs = r.path("body").path("messages");
    JsonNode assistant = msgs.get(msgs.size() - 2);
    JsonNode tool = msgs.get(msgs.size() - 1);
    assertEquals("call_KjzAbhiZC6nk81tQzL7pwlpc", r.path("call_id").asText());
    assertEquals("assistant", assistant.path("role").asText());
    assertEquals("read_file", assistant.at("/tool_calls/0/function/name").asText());
    assertEquals(Map.of("path", "README.md"),
        Json.MAPPER.convertValue(Json.parse(assistant.at("/tool_calls/0/function/arguments").asText()), Map.class));
    assertEquals("tool", tool.path("role").asText());
    assertEquals("call_KjzAbhiZC6nk81tQzL7pwlpc", tool.path("tool_call_id").asText());
    assertEquals("18 degrees and sunny", tool.path("content").asText());
  }

  @Test
  void toolRoundTripThroughAnthropicSendsAToolResultBlock() throws Exception {
    JsonNode r = toolRoundTrip("anthropic/claude-sonnet-4-5",
        Reply.fixtureJson(200, "anthropic/messages-nonstream-tool-use.json"),
        Reply.fixtureJson(200, "anthropic/messages-nonstream.json"),
        Json.parse(Fixtures.text("anthropic/messages-nonstream-tool-use.json")).at("/content").findValue("name")
            .asText());
    JsonNode msgs = r.path("body").path("messages");
    JsonNode assistant = msgs.get(msgs.size() - 2);
    JsonNode user = msgs.get(msgs.size() - 1);
    JsonNode use = null;
    for (JsonNode block : assistant.path("content")) {
      use = "tool_use".equals(block.path("type").asText()) ? block : use;
    }
    assertEquals(r.path("call_id").asText(), use.path("id").asText(), assistant.toString());
    assertEquals("user", user.path("role").asText());
    assertEquals("tool_result", user.at("/content/0/type").asText());
    assertEquals(r.path("call_id").asText(), user.at("/content/0/tool_use_id").asText());
    assertEquals("18 degrees and sunny", user.at("/content/0/content").asText());
  }

  @Test
  void toolRoundTripThroughGeminiSendsAFunctionResponse() throws Exception {
    JsonNode r = toolRoundTrip("gemini/gemini-2.5-flash",
        Reply.fixtureJson(200, "gemini/generate-content-function-call.json"),
        Reply.fixtureJson(200, "gemini/generate-content.json"), "weather");
    JsonNode contents = r.path("body").path("contents");
    JsonNode last = contents.get(contents.size() - 1);
    JsonNode response = last.findValue("functionResponse");
    assertEquals("weather", response.path("name").asText(), last.toString());
    assertTrue(response.path("response").toString().contains("18 degrees and sunny"), response.toString());
    assertEquals("San Francisco", contents.get(contents.size() - 2).findValue("functionCall").at("/args/location")
        .asText());
  }

  private static final String PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

  /** A user message with text, a base64 PNG and an image URL, as the SDK builds it. */
  private static MessageCreateParams imageParams(String model) {
    return MessageCreateParams.builder().model(model).maxTokens(100).addUserMessageOfContentBlockParams(List.of(
        ContentBlockParam.ofText(com.anthropic.models.messages.TextBlockParam.builder().text("What is this?").build()),
        ContentBlockParam.ofImage(com.anthropic.models.messages.Base64ImageSource.builder()
            .mediaType(com.anthropic.models.messages.Base64ImageSource.MediaType.IMAGE_PNG).data(PNG).build()),
        ContentBlockParam.ofImage(com.anthropic.models.messages.UrlImageSource.builder()
            .url("https://example.com/photos/cat.jpg").build()))).build();
  }

  @Test
  void imagesFromTheSdkReachAnOpenAiUpstreamAsImageUrlParts() throws Exception {
    upstream.enqueue(Reply.fixtureJson(200, "openai/chat-nonstream.json"));
    anthropic.messages().create(imageParams("openai/gpt-4o"));
    JsonNode parts = upstreamBody(0).at("/messages/0/content");
    assertEquals(3, parts.size(), parts.toString());
    assertEquals("What is this?", parts.get(0).path("text").asText());
    assertEquals("image_url", parts.get(1).path("type").asText());
    assertEquals("data:image/png;base64," + PNG, parts.get(1).at("/image_url/url").asText());
    assertEquals("https://example.com/photos/cat.jpg", parts.get(2).at("/image_url/url").asText());
  }

  @Test
  void imagesFromTheSdkReachAGeminiUpstreamAsInlineDataAndFileData() throws Exception {
    upstream.enqueue(Reply.fixtureJson(200, "gemini/generate-content.json"));
    anthropic.messages().create(imageParams("gemini/gemini-2.5-flash"));
    JsonNode parts = upstreamBody(0).at("/contents/0/parts");
    assertEquals(3, parts.size(), parts.toString());
    assertEquals("What is this?", parts.get(0).path("text").asText());
    assertEquals("image/png", parts.get(1).at("/inlineData/mimeType").asText());
    assertEquals(PNG, parts.get(1).at("/inlineData/data").asText());
    assertEquals("https://example.com/photos/cat.jpg", parts.get(2).at("/fileData/fileUri").asText());
    assertEquals("image/jpeg", parts.get(2).at("/fileData/mimeType").asText());
  }

  @Test
  void anUnknownBareModelIdIsTheSdksNotFoundException() {
    // An id no catalog knows is a 404 in Anthropic's shape that says how to name the model (an ambiguous one:
    // GatewayIngressEdgeTest).
    com.anthropic.errors.NotFoundException e = assertThrows(com.anthropic.errors.NotFoundException.class,
        () -> anthropic.messages().create(params("no-such-model-anywhere").build()));
    assertEquals(404, e.statusCode());
    assertTrue(String.valueOf(e.getMessage()).contains("model-aliases"), e.getMessage());
    assertEquals(0, upstream.requestCount());
  }

  @Test
  void aWrongGatewayKeyIsTheSdksUnauthorizedException() {
    AnthropicClient wrong = client("not-the-key");
    try {
      UnauthorizedException e = assertThrows(UnauthorizedException.class,
          () -> wrong.messages().create(params("anthropic/claude-sonnet-4-5").build()));
      assertEquals(401, e.statusCode());
    } finally {
      wrong.close();
    }
    assertEquals(0, upstream.requestCount());
  }

  @Test
  void aBearerTokenIsAcceptedLikeXApiKey() {
    upstream.enqueue(Reply.fixtureJson(200, "anthropic/messages-nonstream.json"));
    AnthropicClient bearer = AnthropicOkHttpClient.builder()
        .baseUrl("http://127.0.0.1:" + binding.localAddress().getPort()).authToken(KEY).maxRetries(0).build();
    try {
      assertFalse(text(bearer.messages().create(params("anthropic/claude-sonnet-4-5").build())).isEmpty());
    } finally {
      bearer.close();
    }
  }

  @Test
  void anUpstream429IsTheSdksRateLimitExceptionWithRetryAfter() {
    upstream.enqueue(Reply.fixtureJson(429, "anthropic/error-429-rate-limit.json")
        .withHeaders(Map.of("retry-after", "17")));
    RateLimitException e = assertThrows(RateLimitException.class,
        () -> anthropic.messages().create(params("anthropic/claude-sonnet-4-5").build()));
    assertEquals(429, e.statusCode());
    assertEquals(List.of("17"), e.headers().values("retry-after"));
  }

  @Test
  void anUpstream529IsTheSdksOverloadedException() {
    upstream.enqueue(Reply.fixtureJson(529, "anthropic/error-529-overloaded.json"));
    OverloadedException e = assertThrows(OverloadedException.class,
        () -> anthropic.messages().create(params("anthropic/claude-sonnet-4-5").build()));
    assertEquals(529, e.statusCode());
  }

  @Test
  void anOpenAi503IsAnOverloadedExceptionToo() {
    upstream.enqueue(Reply.fixtureJson(503, "openai/error-503-model-overloaded.json"));
    assertThrows(OverloadedException.class, () -> anthropic.messages().create(params("openai/gpt-4o").build()));
  }

  @Test
  void countsTokensForABareModelId() {
    long shortCount = anthropic.messages().countTokens(MessageCountTokensParams.builder().model("claude-sonnet-4-5")
        .addUserMessage("Hello").build()).inputTokens();
    long longCount = anthropic.messages().countTokens(MessageCountTokensParams.builder().model("claude-sonnet-4-5")
        .system("You are a careful assistant who answers in full sentences.")
        .addUserMessage("Hello, how are you doing today? Tell me about the weather in Paris.").build()).inputTokens();
    assertTrue(shortCount > 0, "count " + shortCount);
    assertTrue(longCount > shortCount + 10, shortCount + " vs " + longCount);
    assertEquals(0, upstream.requestCount(), "counted by the gateway, no upstream call");
  }
}
