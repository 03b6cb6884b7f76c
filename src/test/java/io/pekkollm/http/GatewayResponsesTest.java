package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.helpers.ResponseAccumulator;
import com.openai.models.responses.FunctionTool;
import com.openai.models.responses.Response;
import com.openai.models.responses.ResponseCreateParams;
import com.openai.models.responses.ResponseFunctionToolCall;
import com.openai.models.responses.ResponseInputItem;
import com.openai.models.responses.ResponseOutputItem;
import com.openai.models.responses.ResponseStatus;
import com.openai.models.responses.ResponseStreamEvent;
import io.pekkollm.testkit.Fixtures;
import io.pekkollm.testkit.Sse;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * {@code /v1/responses} with the official openai-java client's Responses API: create, stream, function calling,
 * stored responses continued by {@code previous_response_id} (also across a gateway restart on the same H2
 * directory), retrieve and delete, and bad input in OpenAI's error shape.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewayResponsesTest {
  private Path dataDir;
  private GatewayFixture gw;
  private OpenAIClient openai;

  @BeforeAll
  void start() throws Exception {
    dataDir = Files.createTempDirectory("pekko-llm-responses-test");
    gw = gateway(dataDir);
    openai = client(gw);
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

  private static GatewayFixture gateway(Path dir) {
    return new GatewayFixture("pekko-llm.recovery.data-dir = \"" + dir.toString().replace("\\", "/") + "\"\n");
  }

  private static OpenAIClient client(GatewayFixture g) {
    return OpenAIOkHttpClient.builder().baseUrl(g.baseUrl()).apiKey("unused").maxRetries(0).build();
  }

  private static String text(Response r) {
    StringBuilder sb = new StringBuilder();
    for (ResponseOutputItem item : r.output()) {
      item.message().ifPresent(m -> m.content().forEach(c -> c.outputText().ifPresent(t -> sb.append(t.text()))));
    }
    return sb.toString();
  }

  private static List<ResponseFunctionToolCall> calls(Response r) {
    List<ResponseFunctionToolCall> out = new ArrayList<>();
    r.output().forEach(item -> item.functionCall().ifPresent(out::add));
    return out;
  }

  private static FunctionTool readFile() {
    return FunctionTool.builder().name("read_file").description("reads a file")
        .parameters(FunctionTool.Parameters.builder()
            .putAdditionalProperty("type", JsonValue.from("object"))
            .putAdditionalProperty("properties", JsonValue.from(java.util.Map.of("path", java.util.Map.of("type",
                "string"))))
            .build())
        .strict(false).build();
  }

  private JsonNode upstreamBody(GatewayFixture g, int i) throws Exception {
    return Json.parse(g.upstream.requests().get(i).body());
  }

  /** The text of a recorded Chat Completions stream: its content deltas joined. */
  private static String streamedText(String fixture) throws Exception {
    StringBuilder sb = new StringBuilder();
    for (Sse.Event e : Sse.parse(Fixtures.text(fixture))) {
      if (!e.data().startsWith("{")) {
        continue;
      }
      JsonNode choices = Json.parse(e.data()).path("choices");
      if (choices.size() > 0 && choices.get(0).path("delta").path("content").isTextual()) {
        sb.append(choices.get(0).path("delta").path("content").asText());
      }
    }
    return sb.toString();
  }

  @Test
  void createAnswersAndIsStoredRetrievedAndDeleted() {
    Response r = openai.responses().create(ResponseCreateParams.builder().model("mock/echo")
        .instructions("Be brief.").input("Hello from the Responses API").build());
    assertEquals("Hello from the Responses API", text(r));
    assertEquals(ResponseStatus.COMPLETED, r.status().orElseThrow());
    assertTrue(r.id().startsWith("resp_"));
    assertEquals("mock/echo", r.model().asString());
    assertTrue(r.usage().orElseThrow().outputTokens() > 0);
    assertEquals("Be brief.", r.instructions().orElseThrow().asString());
    Response again = openai.responses().retrieve(r.id());
    assertEquals(r.id(), again.id());
    assertEquals(text(r), text(again));
    openai.responses().delete(r.id());
    assertThrows(NotFoundException.class, () -> openai.responses().retrieve(r.id()));
    assertThrows(NotFoundException.class, () -> openai.responses().delete(r.id()));
  }

  @Test
  void notStoredResponsesCannotBeRetrieved() {
    Response r = openai.responses().create(ResponseCreateParams.builder().model("mock/echo").input("ephemeral")
        .store(false).build());
    assertEquals("ephemeral", text(r));
    assertThrows(NotFoundException.class, () -> openai.responses().retrieve(r.id()));
  }

  @Test
  void streamGivesTheResponsesEventsAndTheSdkAccumulatesTheUpstreamText() throws Exception {
    String fixture = "openai/chat-stream-text-usage-2024.sse";
    gw.upstream.enqueue(Reply.fixtureSse(fixture));
    ResponseAccumulator acc = ResponseAccumulator.create();
    List<ResponseStreamEvent> events = new ArrayList<>();
    try (StreamResponse<ResponseStreamEvent> stream = openai.responses().createStreaming(ResponseCreateParams.builder()
        .model("openai/gpt-4o-mini").input("Tell me").build())) {
      stream.stream().forEach(e -> {
        events.add(e);
        acc.accumulate(e);
      });
    }
    Response r = acc.response();
    String expected = streamedText(fixture);
    assertFalse(expected.isEmpty());
    assertEquals(expected, text(r));
    assertTrue(events.get(0).isCreated());
    assertTrue(events.get(1).isInProgress());
    assertTrue(events.get(events.size() - 1).isCompleted());
    assertTrue(events.stream().anyMatch(ResponseStreamEvent::isOutputTextDelta));
    assertTrue(events.stream().anyMatch(ResponseStreamEvent::isContentPartAdded));
    assertTrue(events.stream().anyMatch(ResponseStreamEvent::isOutputTextDone));
    assertTrue(events.stream().anyMatch(ResponseStreamEvent::isOutputItemDone));
    Response completed = events.get(events.size() - 1).asCompleted().response();
    assertEquals(expected, text(completed));
    assertTrue(completed.usage().orElseThrow().inputTokens() > 0);
    // The streamed response was stored: it can be read back by id.
    assertEquals(expected, text(openai.responses().retrieve(completed.id())));
    assertEquals(true, upstreamBody(gw, 0).path("stream").asBoolean());
  }

  @Test
  void everyStreamedEventHasItsTypeAndTheNextSequenceNumber() throws Exception {
    HttpResponse<String> resp = gw.post("/v1/responses", "{\"model\":\"mock/echo\",\"input\":\"one two three\","
        + "\"stream\":true}");
    assertEquals(200, resp.statusCode());
    assertTrue(resp.headers().firstValue("X-Recovery-Id").isPresent());
    List<Sse.Event> events = Sse.parse(resp.body());
    List<String> types = new ArrayList<>();
    for (int i = 0; i < events.size(); i++) {
      JsonNode data = Json.parse(events.get(i).data());
      assertEquals(i, data.path("sequence_number").asInt(), events.get(i).data());
      assertEquals(events.get(i).type(), data.path("type").asText());
      types.add(data.path("type").asText());
    }
    assertEquals(List.of("response.created", "response.in_progress", "response.output_item.added",
        "response.content_part.added"), types.subList(0, 4));
    assertEquals(List.of("response.output_text.done", "response.content_part.done", "response.output_item.done",
        "response.completed"), types.subList(types.size() - 4, types.size()));
    assertTrue(types.subList(4, types.size() - 4).stream().allMatch("response.output_text.delta"::equals));
  }

  @Test
  void aMidStreamFailureEndsWithErrorAndResponseFailed() throws Exception {
    gw.upstream.enqueue(Reply.fixtureSse("openai/chat-stream-midstream-error.sse"));
    HttpResponse<String> resp = gw.post("/v1/responses", "{\"model\":\"openai/gpt-4.1\",\"input\":\"hi\","
        + "\"stream\":true}");
    assertEquals(200, resp.statusCode());
    List<Sse.Event> events = Sse.parse(resp.body());
    assertTrue(events.stream().anyMatch(e -> e.type().equals("response.output_text.delta")));
    assertEquals("error", events.get(events.size() - 2).type());
    assertTrue(Json.parse(events.get(events.size() - 2).data()).path("message").asText().contains("server had an error"));
    Sse.Event last = events.get(events.size() - 1);
    assertEquals("response.failed", last.type());
    JsonNode failed = Json.parse(last.data()).path("response");
    assertEquals("failed", failed.path("status").asText());
    assertFalse(failed.path("error").path("message").asText().isEmpty());
    assertTrue(events.stream().noneMatch(e -> e.type().equals("response.completed")));
    // A failed stream is not stored.
    assertEquals(404, gw.get("/v1/responses/" + failed.path("id").asText()).statusCode());
  }

  @Test
  void functionCallingRoundTripReachesTheUpstreamAsToolMessages() throws Exception {
    gw.upstream.enqueue(Reply.fixtureJson(200, "openai/chat-nonstream-tool-call.json"));
    Response first = openai.responses().create(ResponseCreateParams.builder().model("openai/gpt-4.1")
        .input("Read the README").addTool(readFile()).build());
    List<ResponseFunctionToolCall> calls = calls(first);
    assertEquals(1, calls.size());
    assertEquals("read_file", calls.get(0).name());
    assertEquals("call_KjzAbhiZC6nk81tQzL7pwlpc", calls.get(0).callId());
    assertEquals("{\"path\":\"README.md\"}", calls.get(0).arguments());
    JsonNode sentTools = upstreamBody(gw, 0).path("tools");
    assertEquals("read_file", sentTools.get(0).path("function").path("name").asText());

    gw.upstream.enqueue(Reply.fixtureJson(200, "openai/chat-nonstream.json"));
    Response second = openai.responses().create(ResponseCreateParams.builder().model("openai/gpt-4.1")
        .previousResponseId(first.id()).addTool(readFile())
        .inputOfResponse(List.of(ResponseInputItem.ofFunctionCallOutput(ResponseInputItem.FunctionCallOutput.builder()
            .callId(calls.get(0).callId()).output("# pekko-llm").build())))
        .build());
    assertTrue(text(second).startsWith("**Holiday Name:**"));
    JsonNode messages = upstreamBody(gw, 1).path("messages");
    assertEquals(3, messages.size(), messages.toString());
    assertEquals("user", messages.get(0).path("role").asText());
    assertEquals("Read the README", messages.get(0).path("content").asText());
    assertEquals("assistant", messages.get(1).path("role").asText());
    assertEquals("call_KjzAbhiZC6nk81tQzL7pwlpc", messages.get(1).path("tool_calls").get(0).path("id").asText());
    assertEquals("tool", messages.get(2).path("role").asText());
    assertEquals("call_KjzAbhiZC6nk81tQzL7pwlpc", messages.get(2).path("tool_call_id").asText());
    assertEquals("# pekko-llm", messages.get(2).path("content").asText());
  }

  @Test
  void streamedFunctionCallAccumulatesItsArguments() throws Exception {
    gw.upstream.enqueue(Reply.fixtureSse("openai/chat-stream-tool-call.sse"));
    ResponseAccumulator acc = ResponseAccumulator.create();
    List<ResponseStreamEvent> events = new ArrayList<>();
    try (StreamResponse<ResponseStreamEvent> stream = openai.responses().createStreaming(ResponseCreateParams.builder()
        .model("openai/gpt-4.1").input("Read the README").addTool(readFile()).build())) {
      stream.stream().forEach(e -> {
        events.add(e);
        acc.accumulate(e);
      });
    }
    List<ResponseFunctionToolCall> calls = calls(acc.response());
    assertEquals(1, calls.size());
    assertEquals("read_file", calls.get(0).name());
    assertEquals("call_HjeqP7YeRkoNj0de9e3U4X4B", calls.get(0).callId());
    assertEquals("README.md", Json.parse(calls.get(0).arguments()).path("path").asText());
    assertTrue(events.stream().anyMatch(ResponseStreamEvent::isFunctionCallArgumentsDelta));
    assertTrue(events.stream().anyMatch(ResponseStreamEvent::isFunctionCallArgumentsDone));
  }

  @Test
  void textFormatJsonSchemaAndLimitsReachTheUpstream() throws Exception {
    gw.upstream.enqueue(Reply.fixtureJson(200, "openai/chat-nonstream.json"));
    HttpResponse<String> resp = gw.post("/v1/responses", "{\"model\":\"openai/gpt-4.1\",\"input\":[{\"role\":"
        + "\"user\",\"content\":[{\"type\":\"input_text\",\"text\":\"look\"},{\"type\":\"input_image\","
        + "\"image_url\":\"https://example.com/a.png\"}]}],\"max_output_tokens\":50,\"temperature\":0.5,"
        + "\"tool_choice\":\"none\",\"text\":{\"format\":{\"type\":\"json_schema\",\"name\":\"answer\","
        + "\"schema\":{\"type\":\"object\"},\"strict\":true}}}");
    assertEquals(200, resp.statusCode(), resp.body());
    JsonNode sent = upstreamBody(gw, 0);
    assertEquals(50, sent.path("max_completion_tokens").asInt(), sent.toString());
    assertEquals(0.5, sent.path("temperature").asDouble());
    assertEquals("none", sent.path("tool_choice").asText());
    assertEquals("answer", sent.path("response_format").path("json_schema").path("name").asText());
    assertEquals("https://example.com/a.png",
        sent.path("messages").get(0).path("content").get(1).path("image_url").path("url").asText());
  }

  @Test
  void badInputIsA4xxInOpenAisShapeNamingTheField() throws Exception {
    String[][] cases = {
        {"{\"model\":\"mock/echo\"}", "400", "input"},
        {"{\"model\":\"mock/echo\",\"input\":42}", "400", "input"},
        {"{\"model\":\"mock/echo\",\"input\":[{\"type\":\"telepathy\"}]}", "400", "input"},
        {"{\"model\":\"mock/echo\",\"input\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_audio\"}]}]}", "400",
            "input"},
        {"{\"model\":\"mock/echo\",\"input\":[{\"type\":\"function_call_output\",\"output\":\"x\"}]}", "400",
            "input"},
        {"{\"model\":\"mock/echo\",\"input\":\"hi\",\"tools\":[{\"type\":\"web_search\"}]}", "400", "tools"},
        {"{\"model\":\"mock/echo\",\"input\":\"hi\",\"text\":{\"format\":{\"type\":\"yaml\"}}}", "400", "text"},
        {"{\"model\":\"mock/echo\",\"input\":\"hi\",\"temperature\":5}", "400", "temperature"},
        {"{\"input\":\"hi\"}", "400", "model"},
        {"{\"model\":\"mock/echo\",\"input\":\"hi\",\"previous_response_id\":\"resp_nope\"}", "404",
            "previous_response_id"},
    };
    for (String[] c : cases) {
      HttpResponse<String> r = gw.post("/v1/responses", c[0]);
      assertEquals(Integer.parseInt(c[1]), r.statusCode(), c[0] + " -> " + r.body());
      JsonNode error = Json.parse(r.body()).path("error");
      assertEquals(c[2], error.path("param").asText(), r.body());
      assertFalse(error.path("message").asText().isEmpty());
    }
    assertThrows(NotFoundException.class, () -> openai.responses().create(ResponseCreateParams.builder()
        .model("mock/echo").input("hi").previousResponseId("resp_unknown").build()));
    assertThrows(BadRequestException.class, () -> openai.responses().create(ResponseCreateParams.builder()
        .model("mock/echo").input("hi").temperature(9.0).build()));
    assertEquals(404, gw.get("/v1/responses/resp_missing").statusCode());
    assertEquals(0, gw.upstream.requestCount());
    assertEquals("still serving", text(openai.responses().create(ResponseCreateParams.builder().model("mock/echo")
        .input("still serving").build())));
  }

  @Test
  void previousResponseIdContinuesAcrossAGatewayRestart() throws Exception {
    Path dir = Files.createTempDirectory("pekko-llm-responses-restart");
    String firstId;
    String firstText;
    GatewayFixture one = gateway(dir);
    OpenAIClient c1 = client(one);
    try {
      OpenAIClient c = c1;
      one.upstream.enqueue(Reply.fixtureJson(200, "openai/chat-nonstream.json"));
      Response first = c.responses().create(ResponseCreateParams.builder().model("openai/gpt-4.1")
          .instructions("Invent holidays.").input("Invent a holiday").build());
      firstId = first.id();
      firstText = text(first);
    } finally {
      c1.close();
      one.close();
    }
    GatewayFixture two = gateway(dir);
    OpenAIClient c2 = client(two);
    try {
      OpenAIClient c = c2;
      assertEquals(firstText, text(c.responses().retrieve(firstId)));
      two.upstream.enqueue(Reply.fixtureJson(200, "openai/chat-nonstream.json"));
      c.responses().create(ResponseCreateParams.builder().model("openai/gpt-4.1").previousResponseId(firstId)
          .input("Another one").build());
      JsonNode messages = upstreamBody(two, 0).path("messages");
      // Instructions are not carried over (as OpenAI does): the conversation is the earlier turns plus the new one.
      assertEquals(3, messages.size(), messages.toString());
      assertEquals("Invent a holiday", messages.get(0).path("content").asText());
      assertEquals(firstText, messages.get(1).path("content").asText());
      assertEquals("Another one", messages.get(2).path("content").asText());
    } finally {
      c2.close();
      two.close();
    }
  }
}
