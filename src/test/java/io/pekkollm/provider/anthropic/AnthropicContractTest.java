package io.pekkollm.provider.anthropic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.ModelInfo;
import io.pekkollm.model.ProviderException;
import io.pekkollm.model.ResponseFormat;
import io.pekkollm.model.ToolCall;
import io.pekkollm.model.Usage;
import io.pekkollm.provider.ProviderContractTest;
import io.pekkollm.testkit.FixtureHttp;
import io.pekkollm.testkit.Fixtures;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** The provider contract for Anthropic's Messages API, from {@code ../shared/fixtures/anthropic}. */
class AnthropicContractTest extends ProviderContractTest {
  private static final String DIR = "anthropic/";
  /** Stream fixtures that end with message_stop, each decoded whole and split at every byte. */
  private static final List<String> COMPLETE_STREAMS = List.of("messages-stream-text.sse",
      "messages-stream-text-2025.sse", "messages-stream-tool-use.sse", "messages-stream-after-tool-result.sse");

  @Override
  protected String provider() {
    return "anthropic";
  }

  @Override
  protected LlmClient createClient(Upstream upstream) {
    return LlmClient.create(TestConfig.of("pekko-llm.providers.anthropic { base-url = \"" + upstream.url("")
        + "\", api-key = \"sk-ant-test-key\" }"));
  }

  @Override
  protected String streamFixture() {
    return DIR + "messages-stream-tool-use.sse";
  }

  @Override
  protected String endlessEvent() {
    return "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
        + "\"delta\":{\"type\":\"text_delta\",\"text\":\"tick \"}}\n\n";
  }

  @Override
  protected List<Case> cases() {
    return list(
        Case.ok("stream text (whitespace padding inside data JSON)", Reply.fixtureSse(DIR + "messages-stream-text.sse"),
            true, r -> {
              assertEquals("[12345,67890]", r.text());
              assertEquals(FinishReason.STOP, r.finishReason());
              assertEquals(Usage.of(135, 10), r.usage());
              assertEquals("msg_013nnniYDrJDocdy5nrMU7cH", r.id());
              assertEquals("claude-sonnet-4-5-20250929", r.providerModel());
              assertEquals("anthropic/test-model", r.model());
              assertEquals(List.of(), r.toolCalls());
              assertNull(r.reasoning());
            }),
        Case.ok("stream text (2025)", Reply.fixtureSse(DIR + "messages-stream-text-2025.sse"), true, r -> {
          assertEquals("Hello! I'm doing well, thank you for asking. How are you doing today? Is there anything I "
              + "can help you with?", r.text());
          assertEquals(FinishReason.STOP, r.finishReason());
          assertEquals(Usage.of(12, 30), r.usage());
          assertEquals("msg_01QC4g3HwBThD4BaNtBckFDJ", r.id());
        }),
        Case.ok("stream tool use: input_json_delta fragments joined, ping ignored",
            Reply.fixtureSse(DIR + "messages-stream-tool-use.sse"), true, r -> {
              assertEquals(List.of(new ToolCall("toolu_018acGYLtfR52q9yDbWaEdQZ", "get_weather",
                  "{\"location\": \"San Francisco, CA\", \"units\": \"f\"}")), r.toolCalls());
              assertEquals("", r.text());
              assertEquals(FinishReason.TOOL_CALLS, r.finishReason());
              assertEquals(Usage.of(656, 74), r.usage());
              assertEquals("claude-haiku-4-5-20251001", r.providerModel());
              assertEquals("msg_01AusY9WEbCaj3N7Tv5J4YjH", r.id());
            }),
        Case.ok("stream after a tool result (non-ASCII text)",
            Reply.fixtureSse(DIR + "messages-stream-after-tool-result.sse"), true, r -> {
              assertEquals("The weather in San Francisco, CA is currently:\n- **Temperature:** 68°F\n"
                  + "- **Condition:** Sunny\n\nIt's a nice sunny day!", r.text());
              assertEquals(FinishReason.STOP, r.finishReason());
              assertEquals(Usage.of(770, 38), r.usage());
              assertEquals(List.of(), r.toolCalls());
            }),
        Case.fails("stream whose last event (message_stop) is never terminated counts as truncated",
            Reply.fixtureSse(DIR + "messages-stream-basic-sdk-fixture.sse"), true, e -> {
              assertEquals(ErrorKind.NETWORK, e.kind());
              assertTrue(e.isRetryable());
            }),
        Case.ok("the same stream with its final blank line",
            Reply.sse(withFinalBlankLine(DIR + "messages-stream-basic-sdk-fixture.sse")), true, r -> {
              assertEquals("Hello there!", r.text());
              assertEquals(FinishReason.STOP, r.finishReason());
              // message_delta reports only output_tokens here: the input count from message_start is kept.
              assertEquals(Usage.of(11, 6), r.usage());
              assertEquals("claude-3-opus-latest", r.providerModel());
            }),
        Case.fails("error event after message_start: api_error, retryable mid-stream",
            Reply.fixtureSse(DIR + "messages-stream-error-midstream.sse"), true,
            kind(ErrorKind.MID_STREAM, 0, true).andThen(e -> {
              assertEquals("api_error", e.errorType());
              assertTrue(e.getMessage().contains("Overloaded"), e.getMessage());
              assertTrue(((ProviderException) e).rawBody().contains("\"api_error\""));
            })),
        Case.fails("overloaded_error event: overloaded, retryable",
            Reply.fixtureSse(DIR + "messages-stream-error-overloaded.sse"), true,
            kind(ErrorKind.OVERLOADED, 0, true).andThen(e -> {
              assertEquals("overloaded_error", e.errorType());
              assertEquals("{\"type\":\"error\",\"error\":{\"details\":null,\"type\":\"overloaded_error\","
                  + "\"message\":\"Overloaded\"}}", ((ProviderException) e).rawBody());
            })),
        Case.ok("whole message", Reply.fixtureJson(200, DIR + "messages-nonstream.json")
            .withHeaders(FixtureHttp.headers(DIR + "messages-nonstream.ratelimit-headers.json")), false, r -> {
              assertEquals("Hello! I'm doing well, thanks for asking. How are you doing today? Is there anything I "
                  + "can help you with?", r.text());
              assertEquals(FinishReason.STOP, r.finishReason());
              assertEquals(Usage.of(12, 29), r.usage());
              assertEquals("msg_01VdEjxAP5ahtHKrrRdNBteQ", r.id());
              assertEquals("claude-sonnet-4-5-20250929", r.providerModel());
            }),
        Case.ok("whole tool use: input object as JSON text", Reply.fixtureJson(200, DIR + "messages-nonstream-tool-use.json"),
            false, r -> {
              assertEquals(List.of(new ToolCall("toolu_01GHndag5wQmbzNihYmV2UBj", "get_weather",
                  "{\"location\":\"San Francisco, CA\",\"units\":\"c\"}")), r.toolCalls());
              assertEquals("", r.text());
              assertEquals(FinishReason.TOOL_CALLS, r.finishReason());
              assertEquals(Usage.of(659, 74), r.usage());
            }),
        Case.fails("400 invalid request, x-should-retry false", errorReply(DIR + "error-400-invalid-request.json",
            DIR + "error-400-invalid-request.headers.json"), false,
            kind(ErrorKind.INVALID_REQUEST, 400, false).andThen(e -> {
              assertEquals("invalid_request_error", e.errorType());
              assertTrue(e.getMessage().contains("unexpected `tool_use_id`"), e.getMessage());
              assertEquals(Fixtures.text(DIR + "error-400-invalid-request.json"), ((ProviderException) e).rawBody());
            })),
        Case.fails("400 prompt too long", Reply.fixtureJson(400, DIR + "error-400-prompt-too-long.json"), true,
            kind(ErrorKind.CONTEXT_LENGTH_EXCEEDED, 400, false).andThen(e ->
                assertEquals("invalid_request_error", e.errorType()))),
        Case.fails("400 prompt too long, from the raw HTTP dump", FixtureHttp.reply(DIR + "error-400-prompt-too-long.http.txt"),
            false, kind(ErrorKind.CONTEXT_LENGTH_EXCEEDED, 400, false).andThen(e ->
                assertEquals(Fixtures.text(DIR + "error-400-prompt-too-long.json"), ((ProviderException) e).rawBody()))),
        Case.fails("401 authentication", Reply.fixtureJson(401, DIR + "error-401-authentication.json"), true,
            kind(ErrorKind.AUTHENTICATION, 401, false).andThen(e -> {
              assertEquals("authentication_error", e.errorType());
              assertTrue(e.getMessage().contains("invalid x-api-key"), e.getMessage());
            })),
        Case.fails("429 rate limit, x-should-retry true", errorReply(DIR + "error-429-rate-limit.json",
            DIR + "error-429-rate-limit.headers.json"), true,
            kind(ErrorKind.RATE_LIMITED, 429, true).andThen(e -> {
              assertEquals("rate_limit_error", e.errorType());
              assertTrue(e.retryAfter().isEmpty(), "the recorded response had no retry-after");
            })),
        Case.fails("429 with retry-after", Reply.fixtureJson(429, DIR + "error-429-rate-limit.json")
            .withHeaders(Map.of("retry-after", "12", "x-should-retry", "true")), false,
            kind(ErrorKind.RATE_LIMITED, 429, true).andThen(e ->
                assertEquals(Duration.ofSeconds(12), e.retryAfter().orElseThrow()))),
        Case.fails("500 api_error", Reply.fixtureJson(500, DIR + "error-500-api-error.json"), false,
            kind(ErrorKind.SERVER_ERROR, 500, true).andThen(e -> assertEquals("api_error", e.errorType()))),
        // Headers as quoted from a real 529 in anthropic-sdk-typescript#616.
        Case.fails("529 overloaded with request-id", Reply.fixtureJson(529, DIR + "error-529-overloaded.json")
            .withHeaders(Map.of("x-should-retry", "true", "request-id", "req_011CTestOverloaded")), true,
            kind(ErrorKind.OVERLOADED, 529, true).andThen(e -> {
              assertEquals("overloaded_error", e.errorType());
              assertEquals("req_011CTestOverloaded", ((ProviderException) e).requestId());
              assertEquals(Fixtures.text(DIR + "error-529-overloaded.json"), ((ProviderException) e).rawBody());
            })),
        Case.fails("529 overloaded, x-should-retry false wins", Reply.fixtureJson(529, DIR + "error-529-overloaded.json")
            .withHeaders(Map.of("x-should-retry", "false")), false, kind(ErrorKind.OVERLOADED, 529, false)),
        Case.fails("malformed stream event", Reply.sse("event: message_start\ndata: {nope\n\n".getBytes()), true, e ->
            assertEquals(ErrorKind.MALFORMED_RESPONSE, e.kind())));
  }

  private static Reply errorReply(String body, String headers) {
    return Reply.fixtureJson(FixtureHttp.status(headers), body).withHeaders(FixtureHttp.headers(headers));
  }

  private static byte[] withFinalBlankLine(String fixture) {
    return (Fixtures.text(fixture) + "\n\n").getBytes(StandardCharsets.UTF_8);
  }

  // ---------------------------------------------------------------- beyond the fixture table

  @Test
  void postsToV1MessagesWithKeyVersionAndMandatoryMaxTokens() {
    upstream.enqueue(Reply.fixtureSse(DIR + "messages-stream-text.sse"));
    call(request(), true);
    Upstream.Recorded sent = upstream.requests().get(0);
    assertEquals("/v1/messages", sent.path());
    assertEquals("sk-ant-test-key", sent.headers().get("x-api-key"));
    assertEquals("2023-06-01", sent.headers().get("anthropic-version"));
    assertNull(sent.headers().get("authorization"), "Anthropic takes the key in x-api-key only");
    assertEquals("{\"model\":\"test-model\",\"max_tokens\":4096,\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}],"
        + "\"stream\":true}", sent.body());
  }

  @Test
  void sendsTheTranslatedRequestExactly() {
    upstream.enqueue(Reply.fixtureJson(200, DIR + "messages-nonstream.json"));
    ChatRequest req = ChatRequest.builder(model())
        .system("Be brief.")
        .user("What is the weather in Paris?")
        .addMessage(io.pekkollm.model.Message.assistant(null,
            List.of(new ToolCall("toolu_1", "get_weather", "{\"city\":\"Paris\"}"))))
        .addMessage(io.pekkollm.model.Message.tool("toolu_1", "18C and sunny"))
        .assistant("It is ")
        .maxTokens(100)
        .temperature(0.5)
        .stop(List.of("END"))
        .build();
    call(req, false);
    assertEquals("{\"model\":\"test-model\",\"max_tokens\":100,\"system\":\"Be brief.\",\"messages\":["
        + "{\"role\":\"user\",\"content\":\"What is the weather in Paris?\"},"
        + "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\","
        + "\"input\":{\"city\":\"Paris\"}}]},"
        + "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\",\"content\":\"18C and sunny\"}]},"
        + "{\"role\":\"assistant\",\"content\":\"It is\"}],"
        + "\"temperature\":0.5,\"stop_sequences\":[\"END\"]}", upstream.requests().get(0).body());
  }

  @Test
  void cacheReadAndWriteTokensCountInsideTheInput() {
    // The 2025 fixture with non-zero cache counts, as message_start and message_delta report them.
    String sse = Fixtures.text(DIR + "messages-stream-text-2025.sse")
        .replace("\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0",
            "\"cache_creation_input_tokens\":100,\"cache_read_input_tokens\":2000");
    upstream.enqueue(Reply.sse(sse.getBytes(StandardCharsets.UTF_8)));
    ChatResponse r = call(request(), true);
    assertEquals(new Usage(12 + 100 + 2000, 30, 2000, 100, 0), r.usage());
  }

  @Test
  void cacheTokensOfAWholeMessage() {
    String json = Fixtures.text(DIR + "messages-nonstream.json")
        .replace("\"cache_creation_input_tokens\": 0", "\"cache_creation_input_tokens\": 7")
        .replace("\"cache_read_input_tokens\": 0", "\"cache_read_input_tokens\": 900");
    upstream.enqueue(Reply.json(200, json));
    assertEquals(new Usage(12 + 7 + 900, 29, 900, 7, 0), call(request(), false).usage());
  }

  @Test
  void stopReasonsMapToTheCommonSet() {
    Map<String, FinishReason> expected = Map.of("end_turn", FinishReason.STOP, "stop_sequence", FinishReason.STOP,
        "max_tokens", FinishReason.LENGTH, "tool_use", FinishReason.TOOL_CALLS, "refusal", FinishReason.CONTENT_FILTER,
        "pause_turn", FinishReason.of("pause_turn"));
    expected.forEach((stopReason, finish) -> {
      String sse = Fixtures.text(DIR + "messages-stream-text-2025.sse")
          .replace("\"stop_reason\":\"end_turn\"", "\"stop_reason\":\"" + stopReason + "\"");
      upstream.enqueue(Reply.sse(sse.getBytes(StandardCharsets.UTF_8)));
      assertEquals(finish, call(request(), true).finishReason(), stopReason);
    });
  }

  @Test
  void thinkingDeltasBecomeReasoningApartFromTheText() {
    // Event shapes of extended thinking as Anthropic documents them (thinking_delta, signature_delta).
    String sse = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_t\",\"type\":\"message\","
        + "\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"usage\":{\"input_tokens\":20,\"output_tokens\":1}}}\n\n"
        + "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n"
        + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"Two plus \"}}\n\n"
        + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"two is four.\"}}\n\n"
        + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"EqQBCgIYAhIM\"}}\n\n"
        + "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
        + "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
        + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"4\"}}\n\n"
        + "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
        + "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":40}}\n\n"
        + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    upstream.enqueue(Reply.sse(sse.getBytes(StandardCharsets.UTF_8)));
    ChatResponse r = call(request(), true);
    assertEquals("4", r.text());
    assertEquals("Two plus two is four.", r.reasoning());
    assertEquals(Usage.of(20, 40), r.usage());
  }

  @Test
  void aToolWithoutInputFragmentsGetsEmptyObjectArgumentsAndToolsAreIndexedByCallNotBlock() {
    // A text block (index 0) then two tool blocks (1, 2); the first streams no input at all.
    String sse = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_x\",\"model\":\"m\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n"
        + "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
        + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Checking.\"}}\n\n"
        + "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
        + "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_a\",\"name\":\"now\",\"input\":{}}}\n\n"
        + "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n"
        + "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":2,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_b\",\"name\":\"add\",\"input\":{}}}\n\n"
        + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"a\\\": 1\"}}\n\n"
        + "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"}\"}}\n\n"
        + "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":2}\n\n"
        + "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":30}}\n\n"
        + "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    upstream.enqueue(Reply.sse(sse.getBytes(StandardCharsets.UTF_8)));
    List<ChatChunk> chunks = chunks(request());
    assertEquals(List.of(0, 1), chunks.stream().flatMap(c -> c.toolCalls().stream()).map(d -> d.index()).distinct().toList());
    upstream.enqueue(Reply.sse(sse.getBytes(StandardCharsets.UTF_8)));
    ChatResponse r = call(request(), true);
    assertEquals("Checking.", r.text());
    assertEquals(List.of(new ToolCall("toolu_a", "now", "{}"), new ToolCall("toolu_b", "add", "{\"a\": 1}")),
        r.toolCalls());
    assertEquals(FinishReason.TOOL_CALLS, r.finishReason());
  }

  @Test
  void jsonSchemaIsAForcedToolWhoseInputBecomesTheAnswerText() throws Exception {
    JsonNode schema = Json.parse("{\"type\":\"object\",\"properties\":{\"location\":{\"type\":\"string\"},"
        + "\"units\":{\"type\":\"string\"}},\"required\":[\"location\"]}");
    ChatRequest req = ChatRequest.builder(model()).user("Weather as JSON")
        .responseFormat(ResponseFormat.jsonSchema("get_weather", schema, true)).build();
    // The recorded tool_use answers stand in for the forced tool's answer: same wire shape.
    upstream.enqueue(Reply.fixtureSse(DIR + "messages-stream-tool-use.sse"));
    ChatResponse streamed = call(req, true);
    assertEquals("{\"location\": \"San Francisco, CA\", \"units\": \"f\"}", streamed.text());
    assertEquals(List.of(), streamed.toolCalls());
    assertEquals(FinishReason.STOP, streamed.finishReason());
    JsonNode sent = Json.parse(upstream.requests().get(0).body());
    assertEquals(Json.parse("[{\"name\":\"get_weather\",\"description\":\"Respond with a JSON value matching the schema "
        + "'get_weather'.\",\"input_schema\":" + Json.write(schema) + "}]"), sent.get("tools"));
    assertEquals(Json.parse("{\"type\":\"tool\",\"name\":\"get_weather\"}"), sent.get("tool_choice"));

    upstream.reset();
    upstream.enqueue(Reply.fixtureJson(200, DIR + "messages-nonstream-tool-use.json"));
    ChatResponse whole = call(req, false);
    assertEquals("{\"location\":\"San Francisco, CA\",\"units\":\"c\"}", whole.text());
    assertEquals(List.of(), whole.toolCalls());
    assertEquals(FinishReason.STOP, whole.finishReason());
  }

  @Test
  void jsonModeWithToolsIsRefusedBeforeAnythingIsSent() {
    ChatRequest req = ChatRequest.builder(model()).user("x").responseFormat(ResponseFormat.JSON_OBJECT)
        .tools(List.of(io.pekkollm.model.ToolDefinition.of("f", null, null))).build();
    try {
      call(req, false);
      fail("expected INVALID_REQUEST");
    } catch (LlmException e) {
      assertEquals(ErrorKind.INVALID_REQUEST, e.kind());
      assertEquals("response_format", e.param());
    }
    assertEquals(0, upstream.requests().size());
  }

  @Test
  void listsModelsFromV1Models() throws Exception {
    upstream.enqueue(Reply.fixtureJson(200, DIR + "models-list.json"));
    List<ModelInfo> models = client.listModels("anthropic").toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(List.of(new ModelInfo("anthropic/claude-sonnet-4-5-20250929", "anthropic", 1759104000L, "anthropic"),
        new ModelInfo("anthropic/claude-haiku-4-5-20251001", "anthropic", 1759276800L, "anthropic")), models);
    Upstream.Recorded sent = upstream.requests().get(0);
    assertEquals("GET", sent.method());
    assertEquals("/v1/models", sent.path());
    assertEquals("limit=1000", sent.query());
    assertEquals("sk-ant-test-key", sent.headers().get("x-api-key"));
  }

  @Test
  void listingModelsFollowsPages() throws Exception {
    upstream.enqueue(Reply.json(200, "{\"data\":[{\"type\":\"model\",\"id\":\"claude-a\",\"created_at\":\"2025-01-01T00:00:00Z\"}],"
        + "\"has_more\":true,\"first_id\":\"claude-a\",\"last_id\":\"claude-a\"}"));
    upstream.enqueue(Reply.fixtureJson(200, DIR + "models-list.json"));
    List<ModelInfo> models = client.listModels("anthropic").toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(List.of("anthropic/claude-a", "anthropic/claude-sonnet-4-5-20250929", "anthropic/claude-haiku-4-5-20251001"),
        models.stream().map(ModelInfo::id).toList());
    assertEquals("limit=1000&after_id=claude-a", upstream.requests().get(1).query());
  }

  @Test
  void aFailedModelListingKeepsTheClassifiedError() {
    upstream.enqueue(Reply.fixtureJson(401, DIR + "error-401-authentication.json"));
    try {
      client.listModels("anthropic").toCompletableFuture().get(10, TimeUnit.SECONDS);
      fail("expected the 401");
    } catch (Exception e) {
      Throwable cause = e.getCause();
      assertTrue(cause instanceof ProviderException, String.valueOf(cause));
      assertEquals(ErrorKind.AUTHENTICATION, ((ProviderException) cause).kind());
    }
  }

  @TestFactory
  Stream<DynamicTest> everyCompleteStreamFixtureSplitAtEveryByteGivesTheSameChunks() {
    return COMPLETE_STREAMS.stream().map(f -> DynamicTest.dynamicTest(f, () -> {
      upstream.reset();
      upstream.enqueue(Reply.fixtureSse(DIR + f));
      List<ChatChunk> whole = chunks(request());
      upstream.enqueue(Reply.sse(Fixtures.bytes(DIR + f)).inPieces(1, Duration.ZERO));
      List<ChatChunk> split = chunks(request());
      assertTrue(!whole.isEmpty());
      assertEquals(whole, split);
    }));
  }

  private List<ChatChunk> chunks(ChatRequest request) {
    try {
      return client.stream(request).runWith(Sink.seq(), client.system()).toCompletableFuture().get(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
