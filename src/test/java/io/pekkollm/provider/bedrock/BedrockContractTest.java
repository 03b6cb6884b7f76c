package io.pekkollm.provider.bedrock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
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
import io.pekkollm.testkit.EventStreams;
import io.pekkollm.testkit.Fixtures;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The provider contract for Bedrock ConverseStream / Converse. Stream bodies are binary event-stream messages:
 * the synthesized capture, and messages built with the AWS SDK's encoder from the ndjson event fixtures.
 */
class BedrockContractTest extends ProviderContractTest {
  static final ContentType EVENT_STREAM = ContentTypes.parse("application/vnd.amazon.eventstream");
  private static final String ACCESS_KEY = "AKIDEXAMPLE";
  private static final String SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  private static final String TOKEN = "IQoJb3JpZ2luX2VjEXAMPLETOKEN";
  private static final String REGION = "eu-west-3";
  private static final String TEXT = "bedrock/converse-stream-events-text.ndjson";
  private static final String REASONING = "bedrock/converse-stream-events-reasoning.ndjson";
  private static final String TOOL_USE = "bedrock/converse-stream-events-tool-use.ndjson";
  private static final String SYNTHESIZED = "bedrock/converse-stream-SYNTHESIZED.bin";
  private static final String TEXT_ANSWER = "Let me count the \"r\"s in \"strawberry\":\n\ns-t-**r**-a-w-b-e-**r**-**r**-y"
      + "\n\nThere are **3** r's in \"strawberry.\"";

  @Override
  protected String provider() {
    return "bedrock";
  }

  @Override
  protected LlmClient createClient(Upstream upstream) {
    return LlmClient.create(TestConfig.of("pekko-llm.providers.bedrock { base-url = \"" + upstream.url("")
        + "\", control-base-url = \"" + upstream.url("/control") + "\", api-key = \"" + SECRET
        + "\", access-key-id = \"" + ACCESS_KEY + "\", session-token = \"" + TOKEN + "\", region = " + REGION
        + " }"));
  }

  @Override
  protected String streamFixture() {
    return TEXT;
  }

  @Override
  protected byte[] streamBytes() {
    return EventStreams.fromNdjsonFixture(TEXT);
  }

  @Override
  protected Reply streamReply(byte[] body) {
    return Reply.bytes(200, EVENT_STREAM, body);
  }

  @Override
  protected String endlessEvent() {
    return "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"tick \"}}";
  }

  @Override
  protected Reply endlessReply() {
    return Reply.endless(EVENT_STREAM, EventStreams.event("contentBlockDelta", endlessEvent()),
        Duration.ofMillis(20));
  }

  @Override
  protected String whereTheModelIsNamed(Upstream.Recorded request) {
    return request.path();
  }

  private static Reply events(String ndjsonFixture) {
    return Reply.bytes(200, EVENT_STREAM, EventStreams.fromNdjsonFixture(ndjsonFixture));
  }

  private static Reply eventsThen(String ndjsonFixture, int keepLines, byte[] last) {
    List<byte[]> parts = new java.util.ArrayList<>();
    Fixtures.text(ndjsonFixture).lines().limit(keepLines).forEach(l -> parts.add(EventStreams.fromNdjsonLine(l)));
    if (last != null) {
      parts.add(last);
    }
    return Reply.bytes(200, EVENT_STREAM, EventStreams.concat(parts));
  }

  private static Reply awsError(int status, String errorType, String message) {
    return Reply.json(status, "{\"message\":\"" + message + "\"}").withHeaders(Map.of("x-amzn-ErrorType",
        errorType + ":http://internal.amazon.com/coral/com.amazon.bedrock/", "x-amzn-RequestId",
        "6ff5a0c6-4b1c-4d2e-9d35-1d3a9a1f0c2b"));
  }

  private static Consumer<LlmException> aws(ErrorKind kind, int status, boolean retryable, String type) {
    return kind(kind, status, retryable).andThen(e -> {
      ProviderException pe = (ProviderException) e;
      assertEquals(type, pe.providerErrorType().value());
      assertEquals("6ff5a0c6-4b1c-4d2e-9d35-1d3a9a1f0c2b", pe.requestId());
      assertTrue(pe.rawBody().startsWith("{\"message\":"), pe.rawBody());
    });
  }

  private static Consumer<LlmException> midStream(ErrorKind kind, boolean retryable, String type, String message) {
    return e -> {
      ProviderException pe = (ProviderException) e;
      assertEquals(kind, e.kind(), e.getMessage());
      assertEquals(retryable, e.isRetryable(), "retryable");
      assertEquals(0, pe.status());
      assertEquals(type, pe.providerErrorType().value());
      assertEquals("{\"message\":\"" + message + "\"}", pe.rawBody());
      assertTrue(e.getMessage().contains(message), e.getMessage());
    };
  }

  @Override
  protected List<Case> cases() {
    return list(
        Case.ok("stream text", events(TEXT), true, r -> {
          assertEquals(TEXT_ANSWER, r.text());
          assertEquals(FinishReason.STOP, r.finishReason(), "end_turn");
          assertEquals(Usage.of(22, 55), r.usage());
          assertNull(r.reasoning());
          assertEquals(List.of(), r.toolCalls());
          assertEquals("bedrock/test-model", r.model());
        }),
        Case.ok("stream reasoning then text", events(REASONING), true, r -> {
          assertEquals("Let me count the r's in \"strawberry\":\n\ns-t-r-a-w-b-e-r-r-y\n\nr appears at positions 3, 8, "
              + "and 9.\n\nSo there are 3 r's.", r.reasoning());
          assertEquals("There are **3** r's in \"strawberry\":\n\n1. st**r**awbe**r****r**y", r.text());
          assertEquals(FinishReason.STOP, r.finishReason());
          assertEquals(Usage.of(51, 94), r.usage());
        }),
        Case.ok("stream tool use: input fragments joined, no metadata", events(TOOL_USE), true, r -> {
          assertEquals("Let me generate that JSON for you.", r.text());
          assertEquals(List.of(new ToolCall("json-tool-id", "json", "{\"value\":\"test\"}")), r.toolCalls());
          assertEquals(FinishReason.TOOL_CALLS, r.finishReason());
          assertNull(r.usage(), "this transcript has no metadata event");
        }),
        Case.ok("whole text", Reply.fixtureJson(200, "bedrock/converse-nonstream.json"), false, r -> {
          assertEquals("Let me count the \"r\"s in \"strawberry\":\n\ns-t-**r**-a-w-b-e-**r**-**r**-y\n\nThere are "
              + "**3** \"r\"s in \"strawberry.\"", r.text());
          assertEquals(FinishReason.STOP, r.finishReason());
          assertEquals(Usage.of(22, 57), r.usage());
        }),
        Case.ok("whole reasoning", Reply.fixtureJson(200, "bedrock/converse-nonstream-reasoning.json"), false, r -> {
          assertEquals("Let me count the r's in \"strawberry\":\n\ns-t-r-a-w-b-e-r-r-y\n\nThere are 3 r's.",
              r.reasoning());
          assertEquals("There are **3** r's in \"strawberry\":\n\n1. st**r**awbe**r****r**y", r.text());
          assertEquals(Usage.of(51, 78), r.usage());
        }),
        Case.ok("whole tool use: the input object as JSON text",
            Reply.fixtureJson(200, "bedrock/converse-nonstream-tool-use.json"), false, r -> {
              assertEquals(List.of(new ToolCall("json-tool-id", "json", "{\"elements\":[{\"location\":\"San Francisco\","
                  + "\"temperature\":-5,\"condition\":\"snowy\"},{\"location\":\"London\",\"temperature\":0,"
                  + "\"condition\":\"snowy\"}]}")), r.toolCalls());
              assertEquals(FinishReason.TOOL_CALLS, r.finishReason());
              assertEquals(Usage.of(15, 42), r.usage());
              assertEquals("", r.text());
            }),
        Case.ok("max_tokens is length; cache reads and writes count as input",
            Reply.bytes(200, EVENT_STREAM, EventStreams.concat(List.of(
                EventStreams.event("contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"ab\"}}"),
                EventStreams.event("messageStop", "{\"stopReason\":\"max_tokens\"}"),
                EventStreams.event("metadata", "{\"usage\":{\"inputTokens\":10,\"outputTokens\":2,"
                    + "\"cacheReadInputTokens\":100,\"cacheWriteInputTokens\":5,\"totalTokens\":117}}")))), true, r -> {
                      assertEquals("ab", r.text());
                      assertEquals(FinishReason.LENGTH, r.finishReason());
                      assertEquals(new Usage(115, 2, 100, 5, 0), r.usage());
                    }),
        Case.ok("guardrail_intervened is content_filter", Reply.bytes(200, EVENT_STREAM, EventStreams.event(
            "messageStop", "{\"stopReason\":\"guardrail_intervened\"}")), true, r ->
            assertEquals(FinishReason.CONTENT_FILTER, r.finishReason())),
        Case.fails("synthesized capture: text, then a throttlingException frame",
            Reply.bytes(200, EVENT_STREAM, Fixtures.bytes(SYNTHESIZED)), true,
            midStream(ErrorKind.RATE_LIMITED, true, "throttlingException",
                "Too many requests, please wait before trying again.")),
        Case.fails("daily token quota throttling is a rate limit, not a context-length error",
            eventsThen(TEXT, 4, EventStreams.exception("throttlingException",
                "Too many tokens per day, please wait before trying again.")), true,
            midStream(ErrorKind.RATE_LIMITED, true, "throttlingException",
                "Too many tokens per day, please wait before trying again.")),
        Case.fails("modelStreamErrorException mid-stream", eventsThen(TEXT, 5, EventStreams.exception(
            "modelStreamErrorException", "Model produced an invalid sequence as part of ToolUse.")), true,
            midStream(ErrorKind.MID_STREAM, true, "modelStreamErrorException",
                "Model produced an invalid sequence as part of ToolUse.")),
        Case.fails("validationException for a long input", eventsThen(TEXT, 1, EventStreams.exception(
            "validationException", "Input is too long for requested model.")), true,
            midStream(ErrorKind.CONTEXT_LENGTH_EXCEEDED, false, "validationException",
                "Input is too long for requested model.")),
        Case.fails("serviceUnavailableException mid-stream", eventsThen(TEXT, 2, EventStreams.exception(
            "serviceUnavailableException", "Service unavailable. Try again later.")), true,
            midStream(ErrorKind.OVERLOADED, true, "serviceUnavailableException",
                "Service unavailable. Try again later.")),
        Case.fails("internalServerException mid-stream", eventsThen(TEXT, 2, EventStreams.exception(
            "internalServerException", "The server encountered an error.")), true,
            midStream(ErrorKind.MID_STREAM, true, "internalServerException", "The server encountered an error.")),
        Case.fails("a corrupted prelude CRC is a malformed response", Reply.bytes(200, EVENT_STREAM,
            corrupt(Fixtures.bytes(SYNTHESIZED), 9)), true, e -> {
              assertEquals(ErrorKind.MALFORMED_RESPONSE, e.kind());
              assertFalse(e.isRetryable());
              assertTrue(e.getMessage().contains("prelude checksum"), e.getMessage());
            }),
        Case.fails("a corrupted message CRC is a malformed response", Reply.bytes(200, EVENT_STREAM,
            corrupt(EventStreams.fromNdjsonFixture(TEXT), firstMessageLength(EventStreams.fromNdjsonFixture(TEXT)) - 2)),
            true, e -> {
              assertEquals(ErrorKind.MALFORMED_RESPONSE, e.kind());
              assertFalse(e.isRetryable());
              assertTrue(e.getMessage().contains("Message checksum"), e.getMessage());
            }),
        Case.fails("a stream without messageStop is truncated", eventsThen(TEXT, 6, null), true, e -> {
          assertEquals(ErrorKind.NETWORK, e.kind());
          assertTrue(e.isRetryable());
        }),
        Case.fails("429 ThrottlingException", awsError(429, "ThrottlingException",
            "Too many requests, please wait before trying again."), true,
            aws(ErrorKind.RATE_LIMITED, 429, true, "ThrottlingException")),
        Case.fails("400 ValidationException, input too long", awsError(400, "ValidationException",
            "Input is too long for requested model."), false,
            aws(ErrorKind.CONTEXT_LENGTH_EXCEEDED, 400, false, "ValidationException")),
        Case.fails("400 ValidationException", awsError(400, "ValidationException",
            "The provided model identifier is invalid."), true,
            aws(ErrorKind.INVALID_REQUEST, 400, false, "ValidationException")),
        Case.fails("403 AccessDeniedException", awsError(403, "AccessDeniedException",
            "You don't have access to the model with the specified model ID."), true,
            aws(ErrorKind.PERMISSION, 403, false, "AccessDeniedException")),
        Case.fails("403 UnrecognizedClientException is a bad key", awsError(403, "UnrecognizedClientException",
            "The security token included in the request is invalid."), false,
            aws(ErrorKind.AUTHENTICATION, 403, false, "UnrecognizedClientException")),
        Case.fails("404 ResourceNotFoundException", awsError(404, "ResourceNotFoundException",
            "Model not found."), false, aws(ErrorKind.MODEL_NOT_FOUND, 404, false, "ResourceNotFoundException")),
        Case.fails("408 ModelTimeoutException", awsError(408, "ModelTimeoutException",
            "Model has timed out in processing the request."), false,
            aws(ErrorKind.TIMEOUT, 408, true, "ModelTimeoutException")),
        Case.fails("424 ModelErrorException", awsError(424, "ModelErrorException",
            "The model produced an error."), false, aws(ErrorKind.SERVER_ERROR, 424, true, "ModelErrorException")),
        Case.fails("500 InternalServerException", awsError(500, "InternalServerException",
            "Internal server error."), true, aws(ErrorKind.SERVER_ERROR, 500, true, "InternalServerException")),
        Case.fails("503 ServiceUnavailableException", awsError(503, "ServiceUnavailableException",
            "Service unavailable."), true, aws(ErrorKind.OVERLOADED, 503, true, "ServiceUnavailableException")),
        Case.fails("an error named only by __type in the body", Reply.json(429,
            "{\"__type\":\"com.amazon.coral.availability#ThrottlingException\",\"Message\":\"Rate exceeded\"}"),
            false, kind(ErrorKind.RATE_LIMITED, 429, true).andThen(e -> {
              assertEquals("ThrottlingException", ((ProviderException) e).providerErrorType().value());
              assertTrue(e.getMessage().contains("Rate exceeded"), e.getMessage());
            })));
  }

  private static byte[] corrupt(byte[] bytes, int at) {
    byte[] copy = bytes.clone();
    copy[at] ^= 0x01;
    return copy;
  }

  private static int firstMessageLength(byte[] bytes) {
    return java.nio.ByteBuffer.wrap(bytes, 0, 4).getInt();
  }

  @TestFactory
  Stream<DynamicTest> everyStreamFixtureSplitAtEveryByteGivesTheSameChunks() {
    return Stream.of(TEXT, REASONING, TOOL_USE).map(f -> DynamicTest.dynamicTest(f, () ->
        assertSameChunksSplitAtEveryByte(f, EventStreams.fromNdjsonFixture(f))));
  }

  @Test
  void theSynthesizedCaptureSplitAtEveryByteGivesTheSameChunksThenTheSameError() throws Exception {
    byte[] bytes = Fixtures.bytes(SYNTHESIZED);
    List<Object> whole = chunksThenError(Reply.bytes(200, EVENT_STREAM, bytes));
    List<Object> split = chunksThenError(Reply.bytes(200, EVENT_STREAM, bytes).inPieces(1, Duration.ZERO));
    assertEquals(whole, split);
    assertEquals(15, whole.size(), "12 text deltas, the finish reason, the usage, then the error: " + whole);
    assertEquals(TEXT_ANSWER, whole.stream().filter(o -> o instanceof ChatChunk c && c.textDelta() != null)
        .map(o -> ((ChatChunk) o).textDelta()).reduce("", String::concat));
    assertEquals("RATE_LIMITED", whole.get(whole.size() - 1));
  }

  private List<Object> chunksThenError(Reply reply) throws Exception {
    upstream.enqueue(reply);
    List<Object> seen = new CopyOnWriteArrayList<>();
    var done = client.stream(request()).runWith(Sink.foreach(seen::add), client.system()).toCompletableFuture();
    ExecutionException e = assertThrows(ExecutionException.class, () -> done.get(20, TimeUnit.SECONDS));
    seen.add(((LlmException) e.getCause()).kind().name());
    return seen;
  }

  // ---------------------------------------------------------------- the request Bedrock receives

  @Test
  void signsTheRequestWithSigV4AndSendsTheModelIdEncoded() throws Exception {
    upstream.enqueue(events(TEXT));
    call(ChatRequest.builder("bedrock/anthropic.claude-3-haiku-20240307-v1:0").user("Hello").build(), true);
    Upstream.Recorded sent = upstream.requests().get(0);
    assertEquals("POST", sent.method());
    assertEquals("/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream",
        sent.headers().get("raw-request-uri"), "the colon is percent-encoded on the wire, as the AWS SDKs send it");
    Map<String, String> h = sent.headers();
    String date = h.get("x-amz-date");
    assertTrue(date.matches("\\d{8}T\\d{6}Z"), date);
    Instant signedAt = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmssX").parse(date, Instant::from);
    assertTrue(Duration.between(signedAt, Instant.now()).abs().toMinutes() < 5, "signed just now: " + date);
    assertEquals(TOKEN, h.get("x-amz-security-token"));
    byte[] body = sent.body().getBytes(StandardCharsets.UTF_8);
    assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body)),
        h.get("x-amz-content-sha256"));
    String auth = h.get("authorization");
    assertTrue(auth.matches("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/" + date.substring(0, 8) + "/" + REGION
        + "/bedrock/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;"
        + "x-amz-security-token, Signature=[0-9a-f]{64}"), auth);
    assertFalse(auth.contains(SECRET), "the secret never travels");
    // What arrived is exactly what was signed: re-signing the received request at its own date gives the
    // same signature (host with port, raw path, content type and body bytes all as sent).
    SigV4Signer again = new SigV4Signer(ACCESS_KEY, SECRET, TOKEN, REGION, "bedrock",
        Clock.fixed(signedAt, ZoneOffset.UTC));
    assertEquals("application/json", h.get("content-type"));
    Map<String, String> expected = again.sign("POST", URI.create(upstream.url(h.get("raw-request-uri"))),
        Map.of("Content-Type", h.get("content-type")), body);
    assertEquals(expected.get("Authorization"), auth);
  }

  @Test
  void sendsAFullConverseRequest() throws Exception {
    upstream.enqueue(Reply.fixtureJson(200, "bedrock/converse-nonstream.json"));
    JsonNode params = Json.parse("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}");
    ChatRequest req = ChatRequest.builder("bedrock/amazon.nova-lite-v1:0")
        .system("Be brief.")
        .user("Hi")
        .user("What is the weather in Paris?")
        .addMessage(Message.assistant("Let me check.", List.of(
            new ToolCall("tooluse_1", "get_weather", "{\"city\":\"Paris\"}"),
            new ToolCall("tooluse_2", "get_weather", ""))))
        .addMessage(Message.tool("tooluse_1", "sunny"))
        .addMessage(Message.tool("tooluse_2", "rainy"))
        .addMessage(Message.user(List.of(ContentPart.text("And here?"), ContentPart.imageBase64("image/jpeg", "/9j/"),
            ContentPart.imageUrl("s3://bucket/photos/a.webp"))))
        .system("Answer in French.")
        .maxTokens(256).temperature(0.5).topP(0.9).stop(List.of("END")).seed(3L)
        .tools(List.of(ToolDefinition.of("get_weather", "Weather by city", params), ToolDefinition.of("noop", null,
            null)))
        .toolChoice(ToolChoice.function("get_weather"))
        .extraBody(Map.of("additionalModelRequestFields", Json.parse("{\"top_k\":50}"),
            "reasoning_effort", Json.MAPPER.valueToTree("high")))
        .build();
    call(req, false);
    Upstream.Recorded sent = upstream.requests().get(0);
    assertEquals("/model/amazon.nova-lite-v1%3A0/converse", sent.headers().get("raw-request-uri"));
    assertEquals(Json.parse("""
        {"additionalModelRequestFields":{"top_k":50},
         "system":[{"text":"Be brief."},{"text":"Answer in French."}],
         "messages":[
           {"role":"user","content":[{"text":"Hi"},{"text":"What is the weather in Paris?"}]},
           {"role":"assistant","content":[{"text":"Let me check."},
             {"toolUse":{"toolUseId":"tooluse_1","name":"get_weather","input":{"city":"Paris"}}},
             {"toolUse":{"toolUseId":"tooluse_2","name":"get_weather","input":{}}}]},
           {"role":"user","content":[
             {"toolResult":{"toolUseId":"tooluse_1","content":[{"text":"sunny"}]}},
             {"toolResult":{"toolUseId":"tooluse_2","content":[{"text":"rainy"}]}},
             {"text":"And here?"},
             {"image":{"format":"jpeg","source":{"bytes":"/9j/"}}},
             {"image":{"format":"webp","source":{"s3Location":{"uri":"s3://bucket/photos/a.webp"}}}}]}],
         "inferenceConfig":{"maxTokens":256,"temperature":0.5,"topP":0.9,"stopSequences":["END"]},
         "toolConfig":{"tools":[
             {"toolSpec":{"name":"get_weather","description":"Weather by city",
               "inputSchema":{"json":{"type":"object","properties":{"city":{"type":"string"}}}}}},
             {"toolSpec":{"name":"noop","inputSchema":{"json":{"type":"object","properties":{}}}}}],
           "toolChoice":{"tool":{"name":"get_weather"}}}}
        """), Json.parse(sent.body()));
  }

  @Test
  void jsonSchemaUsesStructuredOutputAndJsonModeAsksInTheSystemPrompt() throws Exception {
    JsonNode schema = Json.parse("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}},"
        + "\"required\":[\"a\"],\"additionalProperties\":false}");
    upstream.enqueue(Reply.fixtureJson(200, "bedrock/converse-nonstream.json"));
    call(ChatRequest.builder("bedrock/m").user("hi").responseFormat(ResponseFormat.jsonSchema("answer", schema, true))
        .build(), false);
    JsonNode body = Json.parse(upstream.requests().get(0).body());
    JsonNode js = body.path("outputConfig").path("textFormat");
    assertEquals("json_schema", js.path("type").asText());
    assertEquals("answer", js.path("structure").path("jsonSchema").path("name").asText());
    assertEquals(schema, Json.parse(js.path("structure").path("jsonSchema").path("schema").asText()),
        "the schema travels as JSON text");

    upstream.reset();
    upstream.enqueue(Reply.fixtureJson(200, "bedrock/converse-nonstream.json"));
    call(ChatRequest.builder("bedrock/m").user("hi").responseFormat(ResponseFormat.JSON_OBJECT).build(), false);
    body = Json.parse(upstream.requests().get(0).body());
    assertEquals(Json.parse("[{\"text\":\"" + BedrockMapper.JSON_OBJECT_INSTRUCTION + "\"}]"), body.get("system"));
    assertFalse(body.has("outputConfig"));
  }

  @Test
  void toolChoiceMapsToAutoAnyOrLeavesTheToolsOut() throws Exception {
    List<ToolDefinition> tools = List.of(ToolDefinition.of("t", null, null));
    assertEquals(Json.parse("{\"auto\":{}}"), sentToolConfig(ChatRequest.builder("bedrock/m").user("hi").tools(tools)
        .toolChoice(ToolChoice.AUTO).build()).get("toolChoice"));
    assertEquals(Json.parse("{\"any\":{}}"), sentToolConfig(ChatRequest.builder("bedrock/m").user("hi").tools(tools)
        .toolChoice(ToolChoice.REQUIRED).build()).get("toolChoice"));
    assertNull(sentToolConfig(ChatRequest.builder("bedrock/m").user("hi").tools(tools).toolChoice(ToolChoice.NONE)
        .build()), "none: no tools offered");
    JsonNode withHistory = sentToolConfig(ChatRequest.builder("bedrock/m").user("hi")
        .addMessage(Message.assistant(null, List.of(new ToolCall("c1", "t", "{}"))))
        .addMessage(Message.tool("c1", "done"))
        .tools(tools).toolChoice(ToolChoice.NONE).build());
    assertEquals(1, withHistory.get("tools").size(), "Bedrock needs the tools when the history has tool blocks");
    assertFalse(withHistory.has("toolChoice"));
  }

  private JsonNode sentToolConfig(ChatRequest request) throws Exception {
    upstream.reset();
    upstream.enqueue(Reply.fixtureJson(200, "bedrock/converse-nonstream.json"));
    call(request, false);
    return Json.parse(upstream.requests().get(0).body()).get("toolConfig");
  }

  @Test
  void webImageLinksAreRefusedBeforeAnythingIsSent() {
    ChatRequest req = ChatRequest.builder("bedrock/m")
        .addMessage(Message.user(List.of(ContentPart.imageUrl("https://example.com/cat.png")))).build();
    LlmException e = assertThrows(LlmException.class, () -> call(req, true));
    assertEquals(ErrorKind.INVALID_REQUEST, e.kind());
    assertEquals(0, upstream.requests().size());
  }

  @Test
  void listsFoundationModelsFromTheSignedControlPlane() throws Exception {
    // Shape from the Bedrock API reference (ListFoundationModels); no capture exists in the fixtures.
    upstream.enqueue(Reply.json(200, """
        {"modelSummaries":[
          {"modelArn":"arn:aws:bedrock:eu-west-3::foundation-model/anthropic.claude-3-haiku-20240307-v1:0",
           "modelId":"anthropic.claude-3-haiku-20240307-v1:0","modelName":"Claude 3 Haiku","providerName":"Anthropic",
           "inputModalities":["TEXT","IMAGE"],"outputModalities":["TEXT"],"responseStreamingSupported":true},
          {"modelId":"amazon.titan-embed-image-v1","providerName":"Amazon","outputModalities":["EMBEDDING"]},
          {"modelId":"mistral.mistral-large-2402-v1:0","providerName":"Mistral AI","outputModalities":["TEXT"]}]}
        """));
    List<ModelInfo> models = client.listModels("bedrock").toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(List.of("bedrock/anthropic.claude-3-haiku-20240307-v1:0", "bedrock/mistral.mistral-large-2402-v1:0"),
        models.stream().map(ModelInfo::id).toList());
    assertEquals("Anthropic", models.get(0).ownedBy());
    Upstream.Recorded sent = upstream.requests().get(0);
    assertEquals("GET", sent.method());
    assertEquals("/control/foundation-models?byOutputModality=TEXT", sent.headers().get("raw-request-uri"));
    assertTrue(sent.headers().get("authorization").matches("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/\\d{8}/" + REGION
        + "/bedrock/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, "
        + "Signature=[0-9a-f]{64}"), sent.headers().get("authorization"));
  }

  @Test
  void withoutCredentialsACallFailsAsAuthenticationBeforeAnythingIsSent() {
    try (LlmClient noCreds = LlmClient.create(TestConfig.of("pekko-llm.providers.bedrock { enabled = on, "
        + "base-url = \"" + upstream.url("") + "\", api-key = \"\", access-key-id = \"\" }"))) {
      var e = assertThrows(ExecutionException.class, () -> noCreds.chat(ChatRequest.builder("bedrock/m").user("hi")
          .build()).toCompletableFuture().get(10, TimeUnit.SECONDS));
      LlmException le = (LlmException) e.getCause();
      assertEquals(ErrorKind.AUTHENTICATION, le.kind());
      assertTrue(le.getMessage().contains("AWS_ACCESS_KEY_ID"), le.getMessage());
      assertEquals(0, upstream.requests().size());
    }
  }
}
