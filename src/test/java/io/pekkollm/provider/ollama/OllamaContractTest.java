package io.pekkollm.provider.ollama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.ContentPart;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.LlmException;
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
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** The provider contract for Ollama's native /api/chat, fed from {@code ../shared/fixtures/ollama}. */
class OllamaContractTest extends ProviderContractTest {
  static final ContentType NDJSON = ContentTypes.parse("application/x-ndjson");
  private static final String TICK = "{\"model\":\"llama3.2\",\"created_at\":\"2025-01-01T00:00:00Z\","
      + "\"message\":{\"role\":\"assistant\",\"content\":\"tick \"},\"done\":false}\n";

  @Override
  protected String provider() {
    return "ollama";
  }

  @Override
  protected LlmClient createClient(Upstream upstream) {
    return LlmClient.create(TestConfig.of("pekko-llm.providers.ollama.base-url = \"" + upstream.url("") + "\""));
  }

  @Override
  protected String streamFixture() {
    return "ollama/chat-stream.ndjson";
  }

  @Override
  protected Reply streamReply(byte[] body) {
    return Reply.bytes(200, NDJSON, body);
  }

  @Override
  protected String endlessEvent() {
    return TICK;
  }

  @Override
  protected Reply endlessReply() {
    return Reply.endless(NDJSON, TICK.getBytes(StandardCharsets.UTF_8), Duration.ofMillis(20));
  }

  private static Reply ndjson(String fixture) {
    return Reply.bytes(200, NDJSON, Fixtures.bytes(fixture));
  }

  private static Consumer<LlmException> error(ErrorKind kind, int status, boolean retryable, String fixture,
      String message) {
    return kind(kind, status, retryable).andThen(e -> {
      assertEquals(Fixtures.text(fixture), ((ProviderException) e).rawBody(), "raw body kept as sent");
      assertTrue(e.getMessage().contains(message), e.getMessage());
    });
  }

  @Override
  protected List<Case> cases() {
    return list(
        Case.ok("stream text: counts only on the done line", ndjson("ollama/chat-stream.ndjson"), true, r -> {
          assertEquals("The", r.text());
          assertEquals(FinishReason.STOP, r.finishReason(), "no done_reason means a normal stop");
          assertEquals(Usage.of(26, 282), r.usage());
          assertEquals("llama3.2", r.providerModel());
          assertEquals("ollama/test-model", r.model());
          assertNull(r.id());
          assertNull(r.reasoning());
          assertEquals(List.of(), r.toolCalls());
        }),
        Case.ok("stream tool call: object arguments become JSON text with a generated id",
            ndjson("ollama/chat-stream-tool-call.ndjson"), true, r -> {
              assertEquals(1, r.toolCalls().size());
              ToolCall call = r.toolCalls().get(0);
              assertEquals("get_weather", call.name());
              assertEquals("{\"city\":\"Tokyo\"}", call.arguments());
              assertTrue(call.id().matches("call_[0-9a-f]{24}"), call.id());
              assertEquals(FinishReason.TOOL_CALLS, r.finishReason(), "done_reason stop after tool calls");
              assertEquals(Usage.of(169, 15), r.usage());
              assertEquals("", r.text());
            }),
        Case.ok("whole text", Reply.fixtureJson(200, "ollama/chat-nonstream.json"), false, r -> {
          assertEquals("Hello! How are you today?", r.text());
          assertEquals(FinishReason.STOP, r.finishReason());
          assertEquals(Usage.of(26, 298), r.usage());
          assertEquals("llama3.2", r.providerModel());
        }),
        Case.ok("whole tool call", Reply.fixtureJson(200, "ollama/chat-nonstream-tool-call.json"), false, r -> {
          assertEquals(1, r.toolCalls().size());
          assertEquals("get_weather", r.toolCalls().get(0).name());
          assertEquals("{\"city\":\"Tokyo\"}", r.toolCalls().get(0).arguments());
          assertTrue(r.toolCalls().get(0).id().startsWith("call_"));
          assertEquals(FinishReason.TOOL_CALLS, r.finishReason());
          assertEquals(Usage.of(169, 18), r.usage());
          assertEquals("", r.text());
        }),
        Case.ok("done_reason length", Reply.bytes(200, NDJSON, ("{\"model\":\"m\",\"message\":{\"content\":\"ab\"},"
            + "\"done\":false}\n{\"model\":\"m\",\"message\":{\"content\":\"\"},\"done\":true,\"done_reason\":\"length\","
            + "\"prompt_eval_count\":3,\"eval_count\":2}\n").getBytes(StandardCharsets.UTF_8)), true, r -> {
              assertEquals("ab", r.text());
              assertEquals(FinishReason.LENGTH, r.finishReason());
              assertEquals(Usage.of(3, 2), r.usage());
            }),
        Case.ok("thinking is reasoning", Reply.bytes(200, NDJSON, ("{\"model\":\"m\",\"message\":{\"content\":\"\","
            + "\"thinking\":\"hmm\"},\"done\":false}\n{\"model\":\"m\",\"message\":{\"content\":\"42\"},\"done\":true,"
            + "\"done_reason\":\"stop\"}\n").getBytes(StandardCharsets.UTF_8)), true, r -> {
              assertEquals("hmm", r.reasoning());
              assertEquals("42", r.text());
              assertNull(r.usage(), "no counts, no usage");
            }),
        Case.fails("mid-stream error line on HTTP 200 (documented /api/generate transcript)",
            ndjson("ollama/stream-midstream-error-generate.ndjson"), true, e -> {
              assertEquals(ErrorKind.MID_STREAM, e.kind());
              assertTrue(e.isRetryable());
              assertEquals(0, ((ProviderException) e).status());
              assertEquals("{\"error\":\"an error was encountered while running the model\"}",
                  ((ProviderException) e).rawBody());
              assertTrue(e.getMessage().contains("an error was encountered while running the model"), e.getMessage());
            }),
        Case.fails("an error line as the first line of a chat stream", Reply.bytes(200, NDJSON,
            Fixtures.bytes("ollama/error-404-model-not-found.json")), true, e -> {
              assertEquals(ErrorKind.MID_STREAM, e.kind(), "no HTTP status to go by");
              assertTrue(e.getMessage().contains("not found, try pulling it first"), e.getMessage());
            }),
        Case.fails("an error object on HTTP 200 instead of an answer", Reply.json(200,
            "{\"error\":\"the model failed to generate a response\"}"), false, e -> {
              assertEquals(ErrorKind.SERVER_ERROR, e.kind());
              assertTrue(e.isRetryable());
            }),
        Case.fails("400 context length", Reply.fixtureJson(400, "ollama/error-400-context-length.json"), false,
            error(ErrorKind.CONTEXT_LENGTH_EXCEEDED, 400, false, "ollama/error-400-context-length.json",
                "longer than the context length")),
        Case.fails("401 unauthorized", Reply.fixtureJson(401, "ollama/error-401-unauthorized.json"), true,
            error(ErrorKind.AUTHENTICATION, 401, false, "ollama/error-401-unauthorized.json", "unauthorized")),
        Case.fails("404 model not found", Reply.fixtureJson(404, "ollama/error-404-model-not-found.json"), true,
            error(ErrorKind.MODEL_NOT_FOUND, 404, false, "ollama/error-404-model-not-found.json",
                "model \"llama3.2\" not found")),
        Case.fails("429 rate limit", Reply.fixtureJson(429, "ollama/error-429-rate-limit.json"), true,
            error(ErrorKind.RATE_LIMITED, 429, true, "ollama/error-429-rate-limit.json", "rate limit exceeded")),
        Case.fails("500 generic", Reply.fixtureJson(500, "ollama/error-500-generic.json"), false,
            error(ErrorKind.SERVER_ERROR, 500, true, "ollama/error-500-generic.json",
                "the model failed to generate a response")),
        Case.fails("a stream that ends without its done line is truncated", Reply.bytes(200, NDJSON,
            Fixtures.text("ollama/chat-stream.ndjson").lines().findFirst().orElseThrow()
                .concat("\n").getBytes(StandardCharsets.UTF_8)), true, e -> {
              assertEquals(ErrorKind.NETWORK, e.kind());
              assertTrue(e.isRetryable());
            }),
        Case.fails("a line that is not JSON", Reply.bytes(200, NDJSON, "{not json\n".getBytes(StandardCharsets.UTF_8)),
            true, e -> assertEquals(ErrorKind.MALFORMED_RESPONSE, e.kind())));
  }

  @TestFactory
  Stream<DynamicTest> everyStreamFixtureSplitAtEveryByteGivesTheSameChunks() {
    return Stream.of("ollama/chat-stream.ndjson", "ollama/chat-stream-tool-call.ndjson")
        .map(f -> DynamicTest.dynamicTest(f, () -> assertSameChunksSplitAtEveryByte(f, Fixtures.bytes(f))));
  }

  @Test
  void chunksBeforeAMidStreamErrorReachTheCallerThenTheStreamFails() throws Exception {
    String body = TICK + TICK + "{\"error\":\"an error was encountered while running the model\"}\n";
    upstream.enqueue(Reply.bytes(200, NDJSON, body.getBytes(StandardCharsets.UTF_8)));
    List<ChatChunk> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
    var done = client.stream(request()).runWith(Sink.foreach(seen::add), client.system()).toCompletableFuture();
    var e = assertThrows(java.util.concurrent.ExecutionException.class, () -> done.get(10, TimeUnit.SECONDS));
    assertEquals(ErrorKind.MID_STREAM, ((LlmException) e.getCause()).kind());
    assertEquals(List.of("tick ", "tick "), seen.stream().map(ChatChunk::textDelta).toList());
  }

  // ---------------------------------------------------------------- the request Ollama receives

  @Test
  void sendsAFullRequestInOllamasShape() throws Exception {
    upstream.enqueue(ndjson("ollama/chat-stream.ndjson"));
    JsonNode params = Json.parse("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}");
    ChatRequest req = ChatRequest.builder("ollama/llama3.2")
        .system("Be brief.")
        .addMessage(Message.user(List.of(ContentPart.text("What is here?"), ContentPart.text("And the weather?"),
            ContentPart.imageBase64("image/png", "iVBORw0KGgo="))))
        .addMessage(Message.assistant(null, List.of(new ToolCall("call_1", "get_weather", "{\"city\":\"Tokyo\"}"))))
        .addMessage(Message.tool("call_1", "sunny"))
        .temperature(0.2).topP(0.9).maxTokens(100).stop(List.of("END")).seed(7L)
        .tools(List.of(ToolDefinition.of("get_weather", "Weather by city", params),
            ToolDefinition.of("no_params", null, null)))
        .responseFormat(ResponseFormat.JSON_OBJECT)
        .extraBody(Map.of("keep_alive", Json.MAPPER.valueToTree("10m"), "think", Json.MAPPER.valueToTree(true),
            "options", Json.parse("{\"num_ctx\":8192,\"temperature\":1.5}"),
            "reasoning_effort", Json.MAPPER.valueToTree("high")))
        .build();
    call(req, true);
    Upstream.Recorded sent = upstream.requests().get(0);
    assertEquals("POST", sent.method());
    assertEquals("/api/chat", sent.path());
    assertEquals(null, sent.headers().get("authorization"), "no key configured, none sent");
    assertEquals(Json.parse("""
        {"model":"llama3.2",
         "messages":[
           {"role":"system","content":"Be brief."},
           {"role":"user","content":"What is here?\\nAnd the weather?","images":["iVBORw0KGgo="]},
           {"role":"assistant","content":"","tool_calls":[{"function":{"name":"get_weather","arguments":{"city":"Tokyo"}}}]},
           {"role":"tool","content":"sunny","tool_name":"get_weather"}],
         "tools":[
           {"type":"function","function":{"name":"get_weather","description":"Weather by city",
             "parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},
           {"type":"function","function":{"name":"no_params","parameters":{"type":"object","properties":{}}}}],
         "format":"json",
         "options":{"num_ctx":8192,"temperature":0.2,"top_p":0.9,"num_predict":100,"stop":["END"],"seed":7},
         "keep_alive":"10m","think":true,"stream":true}
        """), Json.parse(sent.body()));
  }

  @Test
  void jsonSchemaGoesInFormatAndToolChoiceNoneSendsNoTools() throws Exception {
    upstream.enqueue(Reply.fixtureJson(200, "ollama/chat-nonstream.json"));
    JsonNode schema = Json.parse("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}}}");
    call(ChatRequest.builder("ollama/llama3.2").user("hi")
        .tools(List.of(ToolDefinition.of("t", null, null))).toolChoice(ToolChoice.NONE)
        .responseFormat(ResponseFormat.jsonSchema("answer", schema, true)).build(), false);
    JsonNode body = Json.parse(upstream.requests().get(0).body());
    assertEquals(Json.parse("""
        {"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"format":{"type":"object",
         "properties":{"a":{"type":"integer"}}},"stream":false}
        """), body);
  }

  @Test
  void aNamedToolChoiceSendsOnlyThatTool() throws Exception {
    upstream.enqueue(Reply.fixtureJson(200, "ollama/chat-nonstream.json"));
    call(ChatRequest.builder("ollama/llama3.2").user("hi")
        .tools(List.of(ToolDefinition.of("a", null, null), ToolDefinition.of("b", null, null)))
        .toolChoice(ToolChoice.function("b")).build(), false);
    JsonNode tools = Json.parse(upstream.requests().get(0).body()).get("tools");
    assertEquals(1, tools.size());
    assertEquals("b", tools.get(0).path("function").path("name").asText());
  }

  @Test
  void imageLinksAreRefusedBeforeAnythingIsSent() {
    ChatRequest req = ChatRequest.builder("ollama/llama3.2")
        .addMessage(Message.user(List.of(ContentPart.imageUrl("https://example.com/cat.png")))).build();
    LlmException e = assertThrows(LlmException.class, () -> call(req, false));
    assertEquals(ErrorKind.INVALID_REQUEST, e.kind());
    assertTrue(e.getMessage().contains("base64"), e.getMessage());
    assertEquals(0, upstream.requests().size());
  }

  @Test
  void listsTheInstalledModelsFromApiTags() throws Exception {
    upstream.enqueue(Reply.fixtureJson(200, "ollama/tags.json"));
    List<ModelInfo> models = client.listModels("ollama").toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(List.of("ollama/deepseek-r1:latest", "ollama/llama3.2:latest"),
        models.stream().map(ModelInfo::id).toList());
    assertEquals(java.time.OffsetDateTime.parse("2025-05-04T17:37:44.706015396-07:00").toEpochSecond(),
        models.get(1).created());
    assertEquals("GET", upstream.requests().get(0).method());
    assertEquals("/api/tags", upstream.requests().get(0).path());
  }

  @Test
  void aModelListErrorIsClassified() {
    upstream.enqueue(Reply.fixtureJson(500, "ollama/error-500-generic.json"));
    var e = assertThrows(java.util.concurrent.ExecutionException.class, () ->
        client.listModels("ollama").toCompletableFuture().get(10, TimeUnit.SECONDS));
    assertEquals(ErrorKind.SERVER_ERROR, ((LlmException) e.getCause()).kind());
  }

  @Test
  void oneResponseGivesTheSameToolCallIdsEveryTime() {
    ChatResponse a = call(request(), false, Reply.fixtureJson(200, "ollama/chat-nonstream-tool-call.json"));
    ChatResponse b = call(request(), false, Reply.fixtureJson(200, "ollama/chat-nonstream-tool-call.json"));
    assertEquals(a.toolCalls(), b.toolCalls());
  }

  private ChatResponse call(ChatRequest request, boolean streaming, Reply reply) {
    upstream.enqueue(reply);
    return call(request, streaming);
  }
}
