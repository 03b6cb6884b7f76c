package io.pekkollm.provider.gemini;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.ModelInfo;
import io.pekkollm.model.ProviderException;
import io.pekkollm.model.ToolCall;
import io.pekkollm.model.Usage;
import io.pekkollm.provider.ProviderContractTest;
import io.pekkollm.testkit.FixtureHttp;
import io.pekkollm.testkit.Fixtures;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** The provider contract for the Gemini API, from {@code ../shared/fixtures/gemini}. */
class GeminiContractTest extends ProviderContractTest {
  private static final String DIR = "gemini/";
  private static final List<String> STREAMS = List.of("stream-generate-content-text.sse",
      "stream-generate-content-function-call.sse", "stream-generate-content-text-legacy-gemini1.sse");

  @Override
  protected String provider() {
    return "gemini";
  }

  @Override
  protected LlmClient createClient(Upstream upstream) {
    return LlmClient.create(TestConfig.of("pekko-llm.providers.gemini { base-url = \"" + upstream.url("")
        + "\", api-key = \"gm-test-key\" }"));
  }

  @Override
  protected String streamFixture() {
    return DIR + "stream-generate-content-text.sse";
  }

  @Override
  protected String endlessEvent() {
    return "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"tick \"}],\"role\":\"model\"},\"index\":0}]}\r\n\r\n";
  }

  /** Gemini names the model in the URL path, not the body. */
  @Override
  protected String whereTheModelIsNamed(Upstream.Recorded request) {
    return request.path();
  }

  @Override
  protected List<Case> cases() {
    return list(
        Case.ok("stream text: CRLF events, no [DONE], cumulative usage with thoughts",
            Reply.fixtureSse(DIR + "stream-generate-content-text.sse")
                .withHeaders(FixtureHttp.headers(DIR + "stream-generate-content.headers.json")), true, r -> {
              assertEquals("There are **3** \"r\"s in strawberry.\n\nst**r**awbe**rr**y", r.text());
              assertEquals(FinishReason.STOP, r.finishReason());
              assertEquals(new Usage(9, 23 + 185, 0, 0, 185), r.usage());
              assertEquals("bH6LaZW8Fp_3nsEPqtaSwQ4", r.id());
              assertEquals("gemini-3-pro-preview", r.providerModel());
              assertEquals("gemini/test-model", r.model());
              assertEquals(List.of(), r.toolCalls());
              assertNull(r.reasoning(), "thought signatures are not reasoning text");
            }),
        Case.ok("stream function call: whole call, object args as JSON text, generated id",
            Reply.fixtureSse(DIR + "stream-generate-content-function-call.sse"), true, r -> {
              assertEquals(List.of(new ToolCall("call_b36LacjwM668nsEP2tbsgQQ_0~" + signature(DIR + "stream-generate-content-function-call.sse"), "weather",
                  "{\"location\":\"San Francisco\"}")), r.toolCalls());
              assertEquals("", r.text());
              assertEquals(FinishReason.TOOL_CALLS, r.finishReason());
              assertEquals(new Usage(29, 15 + 45, 0, 0, 45), r.usage());
            }),
        Case.ok("stream text, Gemini 1.0 (finishReason on every event, no usage)",
            Reply.fixtureSse(DIR + "stream-generate-content-text-legacy-gemini1.sse"), true, r -> {
              assertEquals(3285, r.text().length());
              assertTrue(r.text().startsWith("**Cats:**\n\n- **Physical Characteristics:**\n  - Size: Cats co"));
              assertTrue(r.text().endsWith("detecting any potential health issues early on."));
              assertEquals(FinishReason.STOP, r.finishReason());
              assertNull(r.usage());
              assertNull(r.id());
            }),
        Case.ok("whole text", Reply.fixtureJson(200, DIR + "generate-content.json"), false, r -> {
          assertEquals("There are **3** r's in strawberry.\n\nHere is the breakdown: st**r**awbe**rr**y.", r.text());
          assertEquals(FinishReason.STOP, r.finishReason());
          assertEquals(new Usage(9, 28 + 244, 0, 0, 244), r.usage());
          assertEquals("Un6LacrVMcjUxs0PmJfWoQc", r.id());
          assertEquals("gemini-3-pro-preview", r.providerModel());
        }),
        Case.ok("whole function call", Reply.fixtureJson(200, DIR + "generate-content-function-call.json"), false, r -> {
          assertEquals(List.of(new ToolCall("call_m36LaZGyCLz1xs0PtNSB-QU_0~" + signature(DIR + "generate-content-function-call.json"), "weather",
              "{\"location\":\"San Francisco\"}")), r.toolCalls());
          assertEquals(FinishReason.TOOL_CALLS, r.finishReason());
          assertEquals(new Usage(29, 15 + 893, 0, 0, 893), r.usage());
          assertEquals("", r.text());
        }),
        Case.ok("whole text, Gemini 1.0 (no finishReason, no usage)",
            Reply.fixtureJson(200, DIR + "generate-content-legacy-gemini1.json"), false, r -> {
              assertEquals("Helena", r.text());
              assertNull(r.finishReason());
              assertNull(r.usage());
            }),
        Case.fails("400 API_KEY_INVALID is an authentication error", Reply.fixtureJson(400, DIR + "error-400-api-key-invalid.json"),
            false, kind(ErrorKind.AUTHENTICATION, 400, false).andThen(e -> {
              assertEquals("INVALID_ARGUMENT", e.errorType());
              assertEquals("API_KEY_INVALID", e.errorCode());
              assertEquals(Fixtures.text(DIR + "error-400-api-key-invalid.json"), ((ProviderException) e).rawBody());
            })),
        Case.fails("400 input token limit", Reply.fixtureJson(400, DIR + "error-400-input-token-limit.json"), true,
            kind(ErrorKind.CONTEXT_LENGTH_EXCEEDED, 400, false).andThen(e ->
                assertEquals("INVALID_ARGUMENT", e.errorType()))),
        Case.fails("400 invalid argument (image)", Reply.fixtureJson(400, DIR + "error-400-invalid-argument-image.json"),
            false, kind(ErrorKind.INVALID_REQUEST, 400, false).andThen(e -> {
              assertEquals("INVALID_ARGUMENT", e.errorType());
              assertEquals("400", e.errorCode());
            })),
        Case.fails("404 on a stream, JSON body labelled text/event-stream",
            Reply.sse(Fixtures.bytes(DIR + "error-404-model-not-found-on-stream.json"))
                .withStatus(FixtureHttp.status(DIR + "error-404-model-not-found-on-stream.headers.json"))
                .withHeaders(FixtureHttp.headers(DIR + "error-404-model-not-found-on-stream.headers.json")), true,
            kind(ErrorKind.MODEL_NOT_FOUND, 404, false).andThen(e -> {
              assertEquals("NOT_FOUND", e.errorType());
              assertTrue(e.getMessage().contains("is not found for API version v1beta"), e.getMessage());
              assertEquals(Fixtures.text(DIR + "error-404-model-not-found-on-stream.json"),
                  ((ProviderException) e).rawBody());
            })),
        Case.fails("429 RESOURCE_EXHAUSTED with RetryInfo.retryDelay", Reply.fixtureJson(429, DIR + "error-429-resource-exhausted.json"),
            true, kind(ErrorKind.RATE_LIMITED, 429, true).andThen(e -> {
              assertEquals(Duration.ofMillis(34_400), e.retryAfter().orElseThrow());
              assertEquals("RESOURCE_EXHAUSTED", e.errorType());
            })),
        Case.fails("429: a retry-after header wins over the body's hint",
            Reply.fixtureJson(429, DIR + "error-429-resource-exhausted.json").withHeaders(Map.of("retry-after", "5")),
            false, kind(ErrorKind.RATE_LIMITED, 429, true).andThen(e ->
                assertEquals(Duration.ofSeconds(5), e.retryAfter().orElseThrow()))),
        Case.fails("503 UNAVAILABLE is overloaded", Reply.fixtureJson(503, DIR + "error-503-unavailable.json"), true,
            kind(ErrorKind.OVERLOADED, 503, true).andThen(e -> assertEquals("UNAVAILABLE", e.errorType()))),
        // Error objects inside a 200 stream, as Google's APIs send them after the stream started.
        Case.fails("error event mid-stream: UNAVAILABLE", Reply.sse(("data: {\"candidates\":[{\"content\":{\"parts\":"
            + "[{\"text\":\"Once upon\"}],\"role\":\"model\"},\"index\":0}]}\r\n\r\n"
            + "data: {\"error\": {\"code\": 503, \"message\": \"The model is overloaded.\", \"status\": \"UNAVAILABLE\"}}\r\n\r\n")
            .getBytes(StandardCharsets.UTF_8)), true, kind(ErrorKind.OVERLOADED, 0, true).andThen(e ->
                assertTrue(e.getMessage().contains("The model is overloaded."), e.getMessage()))),
        Case.fails("error event mid-stream: RESOURCE_EXHAUSTED keeps its retry delay",
            Reply.sse(("data: " + Fixtures.text(DIR + "error-429-resource-exhausted.json").replace("\n", "") + "\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8)), true, kind(ErrorKind.RATE_LIMITED, 0, true).andThen(e ->
                assertEquals(Duration.ofMillis(34_400), e.retryAfter().orElseThrow()))),
        Case.fails("malformed stream event", Reply.sse("data: {nope\r\n\r\n".getBytes(StandardCharsets.UTF_8)), true, e ->
            assertEquals(ErrorKind.MALFORMED_RESPONSE, e.kind())));
  }

  /** The thoughtSignature next to the first functionCall in a fixture (the generated call id carries it). */
  static String signature(String fixture) {
    String text = Fixtures.text(fixture);
    int call = text.indexOf("\"functionCall\"");
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"thoughtSignature\":\\s*\"([^\"]+)\"")
        .matcher(text);
    if (call < 0 || !m.find(call)) {
      throw new AssertionError("no thoughtSignature after a functionCall in " + fixture);
    }
    return m.group(1);
  }

  // ---------------------------------------------------------------- beyond the fixture table

  @Test
  void streamsFromStreamGenerateContentWithAltSseAndTheKeyInAHeader() {
    upstream.enqueue(Reply.fixtureSse(streamFixture()));
    call(request(), true);
    Upstream.Recorded sent = upstream.requests().get(0);
    assertEquals("/v1beta/models/test-model:streamGenerateContent", sent.path());
    assertEquals("alt=sse", sent.query());
    assertEquals("gm-test-key", sent.headers().get("x-goog-api-key"));
    assertEquals("{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Hello\"}]}]}", sent.body());
  }

  @Test
  void wholeAnswersComeFromGenerateContent() {
    upstream.enqueue(Reply.fixtureJson(200, DIR + "generate-content.json"));
    call(ChatRequest.builder("gemini/models/gemini-2.0-flash").user("Hi").build(), false);
    Upstream.Recorded sent = upstream.requests().get(0);
    assertEquals("/v1beta/models/gemini-2.0-flash:generateContent", sent.path());
    assertEquals("", sent.query());
  }

  @Test
  void finishReasonsMapToTheCommonSet() {
    Map<String, FinishReason> expected = new LinkedHashMap<>();
    expected.put("MAX_TOKENS", FinishReason.LENGTH);
    for (String safety : List.of("SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII")) {
      expected.put(safety, FinishReason.CONTENT_FILTER);
    }
    expected.put("MALFORMED_FUNCTION_CALL", FinishReason.of("malformed_function_call"));
    expected.forEach((reason, finish) -> {
      String sse = Fixtures.text(streamFixture()).replace("\"finishReason\":\"STOP\"", "\"finishReason\":\"" + reason + "\"");
      upstream.enqueue(Reply.sse(sse.getBytes(StandardCharsets.UTF_8)));
      assertEquals(finish, call(request(), true).finishReason(), reason);
    });
  }

  @Test
  void aBlockedPromptEndsTheAnswerAsContentFiltered() {
    String blocked = "{\"promptFeedback\":{\"blockReason\":\"SAFETY\"},\"usageMetadata\":{\"promptTokenCount\":7,"
        + "\"totalTokenCount\":7},\"modelVersion\":\"gemini-2.0-flash\"}";
    upstream.enqueue(Reply.sse(("data: " + blocked + "\r\n\r\n").getBytes(StandardCharsets.UTF_8)));
    ChatResponse streamed = call(request(), true);
    assertEquals(FinishReason.CONTENT_FILTER, streamed.finishReason());
    assertEquals("", streamed.text());
    assertEquals(Usage.of(7, 0), streamed.usage());
    upstream.enqueue(Reply.json(200, blocked));
    assertEquals(FinishReason.CONTENT_FILTER, call(request(), false).finishReason());
  }

  @Test
  void cachedContentTokensAreReported() {
    String sse = Fixtures.text(streamFixture()).replace("\"thoughtsTokenCount\":185",
        "\"cachedContentTokenCount\":4,\"thoughtsTokenCount\":185");
    upstream.enqueue(Reply.sse(sse.getBytes(StandardCharsets.UTF_8)));
    assertEquals(new Usage(9, 208, 4, 0, 185), call(request(), true).usage());
  }

  @Test
  void thoughtPartsAreReasoning() {
    String sse = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Count the r's.\",\"thought\":true}],"
        + "\"role\":\"model\"},\"index\":0}],\"responseId\":\"r1\"}\r\n\r\n"
        + "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Three.\"}],\"role\":\"model\"},"
        + "\"finishReason\":\"STOP\",\"index\":0}],\"responseId\":\"r1\"}\r\n\r\n";
    upstream.enqueue(Reply.sse(sse.getBytes(StandardCharsets.UTF_8)));
    ChatResponse r = call(request(), true);
    assertEquals("Three.", r.text());
    assertEquals("Count the r's.", r.reasoning());
  }

  @Test
  void aStreamEndingBeforeAnyFinishReasonIsTruncated() {
    // The first two events of the text fixture: a clean end of the connection, but no finishReason.
    String text = Fixtures.text(streamFixture());
    String firstTwo = text.substring(0, text.lastIndexOf("data: "));
    upstream.enqueue(Reply.sse(firstTwo.getBytes(StandardCharsets.UTF_8)));
    try {
      call(request(), true);
      throw new AssertionError("expected a truncation error");
    } catch (LlmException e) {
      assertEquals(ErrorKind.NETWORK, e.kind());
      assertTrue(e.isRetryable());
      assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }
  }

  @Test
  void aJsonArrayAnswerIsReadAsTheStreamItStandsFor() {
    String text = Fixtures.text(streamFixture());
    StringBuilder array = new StringBuilder("[");
    for (String line : text.split("\r\n")) {
      if (line.startsWith("data: ")) {
        array.append(array.length() > 1 ? "," : "").append(line.substring(6));
      }
    }
    upstream.enqueue(Reply.json(200, array.append("]").toString()));
    ChatResponse r = call(request(), false);
    assertEquals("There are **3** \"r\"s in strawberry.\n\nst**r**awbe**rr**y", r.text());
    assertEquals(FinishReason.STOP, r.finishReason());
  }

  @Test
  void listsModelsThatGenerateContentAcrossPages() throws Exception {
    upstream.enqueue(Reply.fixtureJson(200, DIR + "models-list-excerpt.json"));
    // The excerpt ends with a nextPageToken; this second page (shape of the same API) ends the listing.
    upstream.enqueue(Reply.json(200, "{\"models\":[{\"name\":\"models/text-embedding-004\",\"supportedGenerationMethods\":"
        + "[\"embedContent\"]},{\"name\":\"models/gemini-2.5-flash\",\"supportedGenerationMethods\":"
        + "[\"generateContent\",\"countTokens\"]}]}"));
    List<ModelInfo> models = client.listModels("gemini").toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(List.of("gemini/gemini-2.0-flash", "gemini/gemini-2.0-flash-001", "gemini/gemini-2.0-flash-lite-001",
        "gemini/gemini-2.0-flash-lite", "gemini/gemini-2.5-flash"), models.stream().map(ModelInfo::id).toList());
    assertEquals(new ModelInfo("gemini/gemini-2.0-flash", "gemini", 0, "google"), models.get(0));
    List<Upstream.Recorded> sent = upstream.requests();
    assertEquals("/v1beta/models", sent.get(0).path());
    assertEquals("pageSize=1000", sent.get(0).query());
    assertEquals("gm-test-key", sent.get(0).headers().get("x-goog-api-key"));
    assertEquals("pageSize=1000&pageToken=CiRtb2RlbHMvZ2VtaW5pLTIuMC1mbGFzaC10aGlua2luZy0wMDE%3D", sent.get(1).query());
  }

  @TestFactory
  Stream<DynamicTest> everyStreamFixtureSplitAtEveryByteGivesTheSameChunks() {
    return STREAMS.stream().map(f -> DynamicTest.dynamicTest(f, () -> {
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
