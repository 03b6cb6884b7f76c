package io.pekkollm.provider.cohere;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ContentPart;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.Message;
import io.pekkollm.model.ModelInfo;
import io.pekkollm.model.ProviderException;
import io.pekkollm.model.ResponseFormat;
import io.pekkollm.model.ToolCall;
import io.pekkollm.model.ToolChoice;
import io.pekkollm.model.ToolDefinition;
import io.pekkollm.model.Usage;
import io.pekkollm.provider.ProviderContractTest;
import io.pekkollm.testkit.Fixtures;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** The provider contract for Cohere's v2 chat, fed from {@code ../shared/fixtures/cohere}. */
class CohereContractTest extends ProviderContractTest {
  private static final String KEY = "co-test-key-0123";

  @Override
  protected String provider() {
    return "cohere";
  }

  @Override
  protected LlmClient createClient(Upstream upstream) {
    return LlmClient.create(TestConfig.of("pekko-llm.providers.cohere { base-url = \"" + upstream.url("")
        + "\", api-key = \"" + KEY + "\" }"));
  }

  @Override
  protected String streamFixture() {
    return "cohere/chat-v2-stream-text.sse";
  }

  @Override
  protected String endlessEvent() {
    return "event: content-delta\ndata: {\"type\":\"content-delta\",\"index\":0,\"delta\":{\"message\":"
        + "{\"content\":{\"text\":\"tick \"}}}}\n\n";
  }

  private static Reply sse(String text) {
    return Reply.sse(text.getBytes(StandardCharsets.UTF_8));
  }

  private static String messageEnd(String finishReason) {
    return "event: message-end\ndata: {\"type\":\"message-end\",\"delta\":{\"finish_reason\":\"" + finishReason
        + "\",\"usage\":{\"billed_units\":{\"input_tokens\":3,\"output_tokens\":2}}}}\n\n";
  }

  private static final String ONE_DELTA = "event: content-delta\ndata: {\"type\":\"content-delta\",\"index\":0,"
      + "\"delta\":{\"message\":{\"content\":{\"text\":\"ab\"}}}}\n\n";

  @Override
  protected List<Case> cases() {
    return list(
        Case.ok("stream text", Reply.fixtureSse("cohere/chat-v2-stream-text.sse"), true, r -> {
          assertEquals("The capital of France is Paris.", r.text());
          assertEquals(FinishReason.STOP, r.finishReason(), "COMPLETE");
          assertEquals(new Usage(507, 10, 448, 0, 0), r.usage(), "usage.tokens, cached_tokens part of input");
          assertEquals("321d178c-2c12-44d3-ae42-2f5510f6b1cc", r.id());
          assertNull(r.reasoning());
          assertEquals(List.of(), r.toolCalls());
        }),
        Case.ok("stream tool calls: fragments joined, tool plan as reasoning",
            Reply.fixtureSse("cohere/chat-v2-stream-tool-call.sse"), true, r -> {
              assertEquals(List.of(
                  new ToolCall("weather_e8p4pn45zt0t", "weather", "{\"location\": \"San Francisco\"}"),
                  new ToolCall("cityAttractions_pyxssbwnq9fq", "cityAttractions", "{\"city\": \"San Francisco\"}")),
                  r.toolCalls());
              assertEquals("I will use the weather tool to find the weather in San Francisco and the cityAttractions "
                  + "tool to find attractions in San Francisco.", r.reasoning());
              assertEquals(FinishReason.TOOL_CALLS, r.finishReason());
              assertEquals(new Usage(1549, 95, 1504, 0, 0), r.usage());
              assertEquals("", r.text());
              assertEquals("2941521a-b87a-45f6-9b0d-235fd66c3025", r.id());
            }),
        Case.ok("whole text", Reply.fixtureJson(200, "cohere/chat-v2-nonstream.json"), false, r -> {
          assertEquals("The capital of France is Paris.", r.text());
          assertEquals(FinishReason.STOP, r.finishReason());
          assertEquals(new Usage(507, 10, 448, 0, 0), r.usage());
          assertEquals("e7592632-1e3d-424f-b129-bd5f9f980f7b", r.id());
        }),
        Case.ok("whole tool calls", Reply.fixtureJson(200, "cohere/chat-v2-nonstream-tool-call.json"), false, r -> {
          assertEquals(List.of(
              new ToolCall("weather_dqgshstja6p9", "weather", "{\"location\":\"San Francisco\"}"),
              new ToolCall("cityAttractions_dcxfx4myvx68", "cityAttractions", "{\"city\":\"San Francisco\"}")),
              r.toolCalls());
          assertTrue(r.reasoning().startsWith("I will use the weather tool"), r.reasoning());
          assertEquals(FinishReason.TOOL_CALLS, r.finishReason());
          assertEquals(new Usage(1549, 103, 992, 0, 0), r.usage());
          assertEquals("", r.text());
        }),
        Case.ok("MAX_TOKENS is length; billed units when tokens are absent",
            sse(ONE_DELTA + messageEnd("MAX_TOKENS")), true, r -> {
              assertEquals("ab", r.text());
              assertEquals(FinishReason.LENGTH, r.finishReason());
              assertEquals(Usage.of(3, 2), r.usage());
            }),
        Case.ok("ERROR finish reason", sse(ONE_DELTA + messageEnd("ERROR")), true, r ->
            assertEquals(FinishReason.ERROR, r.finishReason())),
        Case.ok("an unknown finish reason is kept", sse(ONE_DELTA + messageEnd("SOMETHING_NEW")), true, r ->
            assertEquals("something_new", r.finishReason().value())),
        Case.fails("401 invalid token", Reply.fixtureJson(401, "cohere/error-401-invalid-token.json"), true,
            kind(ErrorKind.AUTHENTICATION, 401, false).andThen(e -> {
              assertEquals("{\"message\":\"invalid api token\"}", ((ProviderException) e).rawBody());
              assertTrue(e.getMessage().contains("invalid api token"), e.getMessage());
            })),
        // Shape assumed from Cohere's documented {"message": ...} error bodies; no 429/5xx capture exists.
        Case.fails("429 rate limit", Reply.json(429, "{\"message\":\"You are using a Trial key, which is limited "
            + "to 10 API calls / minute.\"}").withHeaders(Map.of("retry-after", "6")), false,
            kind(ErrorKind.RATE_LIMITED, 429, true).andThen(e ->
                assertEquals(java.time.Duration.ofSeconds(6), e.retryAfter().orElseThrow()))),
        Case.fails("500 server error", Reply.json(500, "{\"message\":\"internal server error\"}"), true,
            kind(ErrorKind.SERVER_ERROR, 500, true)),
        Case.fails("mid-stream error event", sse(ONE_DELTA
            + "event: error\ndata: {\"type\":\"error\",\"message\":\"stream interrupted\"}\n\n"), true, e -> {
              assertEquals(ErrorKind.MID_STREAM, e.kind());
              assertTrue(e.isRetryable());
              assertTrue(e.getMessage().contains("stream interrupted"), e.getMessage());
            }),
        Case.fails("a stream without message-end is truncated", sse(ONE_DELTA), true, e -> {
          assertEquals(ErrorKind.NETWORK, e.kind());
          assertTrue(e.isRetryable());
        }),
        Case.fails("an event that is not JSON", sse("event: content-delta\ndata: {oops\n\n"), true, e ->
            assertEquals(ErrorKind.MALFORMED_RESPONSE, e.kind())));
  }

  @TestFactory
  Stream<DynamicTest> everyStreamFixtureSplitAtEveryByteGivesTheSameChunks() {
    return Stream.of("cohere/chat-v2-stream-text.sse", "cohere/chat-v2-stream-tool-call.sse")
        .map(f -> DynamicTest.dynamicTest(f, () -> assertSameChunksSplitAtEveryByte(f, Fixtures.bytes(f))));
  }

  @Test
  void sendsAFullRequestInCohereV2Shape() throws Exception {
    upstream.enqueue(Reply.fixtureSse("cohere/chat-v2-stream-text.sse"));
    JsonNode params = Json.parse("{\"type\":\"object\",\"properties\":{\"location\":{\"type\":\"string\"}}}");
    ChatRequest req = ChatRequest.builder("cohere/command-a-03-2025")
        .system("Be brief.")
        .user("Weather?")
        .addMessage(Message.assistant(null, List.of(new ToolCall("weather_1", "weather", "{\"location\":\"SF\"}"))))
        .addMessage(Message.tool("weather_1", "sunny"))
        .addMessage(Message.user(List.of(ContentPart.text("And this?"), ContentPart.imageBase64("image/png", "AAAA"),
            ContentPart.imageUrl("https://example.com/a.jpg"))))
        .temperature(0.3).topP(0.8).maxTokens(50).stop(List.of("END")).seed(11L).frequencyPenalty(0.1)
        .tools(List.of(ToolDefinition.of("weather", "Weather by city", params)))
        .toolChoice(ToolChoice.REQUIRED)
        .responseFormat(ResponseFormat.JSON_OBJECT)
        .extraBody(Map.of("safety_mode", Json.MAPPER.valueToTree("STRICT"),
            "logit_bias", Json.parse("{\"1\":2}")))
        .build();
    call(req, true);
    Upstream.Recorded sent = upstream.requests().get(0);
    assertEquals("POST", sent.method());
    assertEquals("/v2/chat", sent.path());
    assertEquals("Bearer " + KEY, sent.headers().get("authorization"));
    assertEquals(Json.parse("""
        {"model":"command-a-03-2025","safety_mode":"STRICT",
         "messages":[
           {"role":"system","content":"Be brief."},
           {"role":"user","content":"Weather?"},
           {"role":"assistant","tool_calls":[{"id":"weather_1","type":"function",
             "function":{"name":"weather","arguments":"{\\"location\\":\\"SF\\"}"}}]},
           {"role":"tool","tool_call_id":"weather_1","content":"sunny"},
           {"role":"user","content":[{"type":"text","text":"And this?"},
             {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}},
             {"type":"image_url","image_url":{"url":"https://example.com/a.jpg"}}]}],
         "tools":[{"type":"function","function":{"name":"weather","description":"Weather by city",
           "parameters":{"type":"object","properties":{"location":{"type":"string"}}}}}],
         "tool_choice":"REQUIRED",
         "response_format":{"type":"json_object"},
         "temperature":0.3,"p":0.8,"max_tokens":50,"stop_sequences":["END"],"seed":11,"frequency_penalty":0.1,
         "stream":true}
        """), Json.parse(sent.body()));
  }

  @Test
  void aNamedToolIsTheOnlyToolAndRequiredAndSchemasTravelInResponseFormat() throws Exception {
    upstream.enqueue(Reply.fixtureJson(200, "cohere/chat-v2-nonstream.json"));
    JsonNode schema = Json.parse("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}}}");
    call(ChatRequest.builder("cohere/command-r").user("hi")
        .tools(List.of(ToolDefinition.of("a", null, null), ToolDefinition.of("b", null, null)))
        .toolChoice(ToolChoice.function("b"))
        .responseFormat(ResponseFormat.jsonSchema("answer", schema, null)).build(), false);
    JsonNode body = Json.parse(upstream.requests().get(0).body());
    assertEquals(Json.parse("""
        {"model":"command-r","messages":[{"role":"user","content":"hi"}],
         "tools":[{"type":"function","function":{"name":"b"}}],"tool_choice":"REQUIRED",
         "response_format":{"type":"json_object","json_schema":{"type":"object","properties":{"a":{"type":"integer"}}}},
         "stream":false}
        """), body);
  }

  @Test
  void listsChatModelsFromV1Models() throws Exception {
    // Shape from Cohere's API reference (ListModelsResponse); no capture exists in the fixtures.
    upstream.enqueue(Reply.json(200, "{\"models\":[{\"name\":\"command-a-03-2025\",\"endpoints\":[\"chat\"],"
        + "\"context_length\":256000},{\"name\":\"command-r7b-12-2024\",\"endpoints\":[\"chat\"]}],"
        + "\"next_page_token\":null}"));
    List<ModelInfo> models = client.listModels("cohere").toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(List.of("cohere/command-a-03-2025", "cohere/command-r7b-12-2024"),
        models.stream().map(ModelInfo::id).toList());
    Upstream.Recorded sent = upstream.requests().get(0);
    assertEquals("/v1/models", sent.path());
    assertEquals("/v1/models?endpoint=chat&page_size=1000", sent.headers().get("raw-request-uri"));
    assertEquals("Bearer " + KEY, sent.headers().get("authorization"));
  }
}
