package io.pekkollm.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.Message;
import io.pekkollm.model.Usage;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The tool loop against local upstreams in OpenAI's, Anthropic's and Gemini's wire formats: step one streams two
 * parallel tool calls, step two the answer. Each test asserts the exact requests the upstream received (the tools
 * and, in step two, the assistant turn and both tool results in that provider's own format) and the final result.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ToolLoopContractTest {
  private Upstream upstream;
  private LlmClient llm;

  /** Two tools; weather waits for localTime to start, so its result tells whether they ran concurrently. */
  static final class TravelTools {
    final CountDownLatch timeStarted = new CountDownLatch(1);

    @Tool("The current weather in a city")
    String weather(@ToolParam("The city's name") String city) throws InterruptedException {
      boolean concurrent = timeStarted.await(10, TimeUnit.SECONDS);
      return "sunny in " + city + (concurrent ? "" : " (the other call did not run beside this one)");
    }

    @Tool("The local time in a time zone")
    String localTime(@ToolParam("An IANA time zone") String zone) {
      timeStarted.countDown();
      return "09:00 in " + zone;
    }
  }

  @BeforeAll
  void start() {
    upstream = new Upstream();
    llm = LlmClient.create(TestConfig.threeProviders(upstream, ""));
  }

  @AfterAll
  void stop() {
    llm.close();
    upstream.close();
  }

  @BeforeEach
  void reset() {
    upstream.reset();
  }

  @Test
  void openAiToolResultsGoBackAsToolMessagesInTheOrderAsked() throws Exception {
    String id = "\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini-2024-07-18\"";
    upstream.enqueue(sse(
        "data: {" + id + ",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":"
            + "[{\"index\":0,\"id\":\"call_w\",\"type\":\"function\",\"function\":{\"name\":\"weather\",\"arguments\":"
            + "\"{\\\"city\\\":\"}}]},\"finish_reason\":null}]}\n\n",
        "data: {" + id + ",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":"
            + "{\"arguments\":\"\\\"Paris\\\"}\"}}]},\"finish_reason\":null}]}\n\n",
        "data: {" + id + ",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"call_t\","
            + "\"type\":\"function\",\"function\":{\"name\":\"localTime\",\"arguments\":\"{\\\"zone\\\":\\\"Asia/Tokyo\\\"}\"}}]},"
            + "\"finish_reason\":null}]}\n\n",
        "data: {" + id + ",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
        "data: {" + id + ",\"choices\":[],\"usage\":{\"prompt_tokens\":50,\"completion_tokens\":20,\"total_tokens\":70}}\n\n",
        "data: [DONE]\n\n"));
    upstream.enqueue(sse(
        "data: {" + id + ",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Sunny in Paris; \"},"
            + "\"finish_reason\":null}]}\n\n",
        "data: {" + id + ",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"09:00 in Tokyo.\"},\"finish_reason\":null}]}\n\n",
        "data: {" + id + ",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
        "data: {" + id + ",\"choices\":[],\"usage\":{\"prompt_tokens\":90,\"completion_tokens\":10,\"total_tokens\":100}}\n\n",
        "data: [DONE]\n\n"));

    runAndCheck("openai/gpt-4o-mini", first -> {
      JsonNode tools = first.get("tools");
      assertEquals(2, tools.size());
      assertEquals("function", tools.get(0).get("type").asText());
      assertEquals("localTime", tools.get(0).get("function").get("name").asText());
      assertEquals("The local time in a time zone", tools.get(0).get("function").get("description").asText());
      assertEquals(Json.MAPPER.valueToTree(java.util.Map.of("type", "object", "additionalProperties", false,
          "required", List.of("zone"), "properties", java.util.Map.of("zone", java.util.Map.of("type", "string",
              "description", "An IANA time zone")))), tools.get(0).get("function").get("parameters"));
      assertEquals("weather", tools.get(1).get("function").get("name").asText());
    }, second -> {
      JsonNode ms = second.get("messages");
      assertEquals(4, ms.size(), ms.toString());
      assertEquals("user", ms.get(0).get("role").asText());
      JsonNode assistant = ms.get(1);
      assertEquals("assistant", assistant.get("role").asText());
      assertEquals("call_w", assistant.get("tool_calls").get(0).get("id").asText());
      assertEquals("function", assistant.get("tool_calls").get(0).get("type").asText());
      assertEquals("weather", assistant.get("tool_calls").get(0).get("function").get("name").asText());
      assertEquals("{\"city\":\"Paris\"}", assistant.get("tool_calls").get(0).get("function").get("arguments").asText());
      assertEquals("localTime", assistant.get("tool_calls").get(1).get("function").get("name").asText());
      assertEquals(Json.MAPPER.valueToTree(java.util.Map.of("role", "tool", "tool_call_id", "call_w",
          "content", "sunny in Paris")), ms.get(2));
      assertEquals(Json.MAPPER.valueToTree(java.util.Map.of("role", "tool", "tool_call_id", "call_t",
          "content", "09:00 in Asia/Tokyo")), ms.get(3));
    }, new Usage(140, 30, 0, 0, 0));
  }

  @Test
  void anthropicToolResultsGoBackAsToolResultBlocksOfOneUserTurn() throws Exception {
    upstream.enqueue(sse(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\","
            + "\"role\":\"assistant\",\"model\":\"claude-haiku-4-5-20251001\",\"content\":[],\"stop_reason\":null,"
            + "\"usage\":{\"input_tokens\":50,\"output_tokens\":1}}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
            + "{\"type\":\"tool_use\",\"id\":\"toolu_w\",\"name\":\"weather\",\"input\":{}}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
            + "{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\": \\\"Paris\\\"}\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":"
            + "{\"type\":\"tool_use\",\"id\":\"toolu_t\",\"name\":\"localTime\",\"input\":{}}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":"
            + "{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"zone\\\": \\\"Asia/Tokyo\\\"}\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\","
            + "\"stop_sequence\":null},\"usage\":{\"output_tokens\":20}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"));
    upstream.enqueue(sse(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_2\",\"type\":\"message\","
            + "\"role\":\"assistant\",\"model\":\"claude-haiku-4-5-20251001\",\"content\":[],\"stop_reason\":null,"
            + "\"usage\":{\"input_tokens\":90,\"output_tokens\":1}}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
            + "{\"type\":\"text\",\"text\":\"\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
            + "{\"type\":\"text_delta\",\"text\":\"Sunny in Paris; \"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
            + "{\"type\":\"text_delta\",\"text\":\"09:00 in Tokyo.\"}}\n\n",
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\","
            + "\"stop_sequence\":null},\"usage\":{\"output_tokens\":10}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"));

    runAndCheck("anthropic/claude-haiku-4-5", first -> {
      JsonNode tools = first.get("tools");
      assertEquals(2, tools.size());
      assertEquals("localTime", tools.get(0).get("name").asText());
      assertEquals("The local time in a time zone", tools.get(0).get("description").asText());
      assertEquals(List.of("zone"), List.of(tools.get(0).get("input_schema").get("required").get(0).asText()));
      assertEquals("weather", tools.get(1).get("name").asText());
    }, second -> {
      JsonNode ms = second.get("messages");
      assertEquals(3, ms.size(), ms.toString());
      JsonNode assistant = ms.get(1);
      assertEquals("assistant", assistant.get("role").asText());
      JsonNode uses = assistant.get("content");
      assertEquals(2, uses.size(), uses.toString());
      assertEquals(Json.MAPPER.valueToTree(java.util.Map.of("type", "tool_use", "id", "toolu_w", "name", "weather",
          "input", java.util.Map.of("city", "Paris"))), uses.get(0));
      assertEquals("toolu_t", uses.get(1).get("id").asText());
      JsonNode results = ms.get(2);
      assertEquals("user", results.get("role").asText());
      assertEquals(2, results.get("content").size(), results.toString());
      assertEquals("tool_result", results.get("content").get(0).get("type").asText());
      assertEquals("toolu_w", results.get("content").get(0).get("tool_use_id").asText());
      assertEquals("sunny in Paris", contentText(results.get("content").get(0).get("content")));
      assertEquals("toolu_t", results.get("content").get(1).get("tool_use_id").asText());
      assertEquals("09:00 in Asia/Tokyo", contentText(results.get("content").get(1).get("content")));
    }, new Usage(140, 30, 0, 0, 0));
  }

  @Test
  void geminiToolResultsGoBackAsFunctionResponsesNamedAfterTheirCalls() throws Exception {
    upstream.enqueue(sse("data: {\"candidates\":[{\"content\":{\"parts\":[{\"functionCall\":{\"name\":\"weather\","
        + "\"args\":{\"city\":\"Paris\"}}},{\"functionCall\":{\"name\":\"localTime\",\"args\":{\"zone\":\"Asia/Tokyo\"}}}],"
        + "\"role\":\"model\"},\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":50,"
        + "\"candidatesTokenCount\":20,\"totalTokenCount\":70},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"r1\"}\n\n"));
    upstream.enqueue(sse("data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Sunny in Paris; \"}],"
            + "\"role\":\"model\"},\"index\":0}],\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"r2\"}\n\n",
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"09:00 in Tokyo.\"}],\"role\":\"model\"},"
            + "\"finishReason\":\"STOP\",\"index\":0}],\"usageMetadata\":{\"promptTokenCount\":90,"
            + "\"candidatesTokenCount\":10,\"totalTokenCount\":100},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"r2\"}\n\n"));

    runAndCheck("gemini/gemini-2.5-flash", first -> {
      JsonNode decls = first.get("tools").get(0).get("functionDeclarations");
      assertEquals(2, decls.size());
      assertEquals("localTime", decls.get(0).get("name").asText());
      assertEquals("The local time in a time zone", decls.get(0).get("description").asText());
      assertEquals("weather", decls.get(1).get("name").asText());
    }, second -> {
      JsonNode cs = second.get("contents");
      assertEquals(3, cs.size(), cs.toString());
      JsonNode model = cs.get(1);
      assertEquals("model", model.get("role").asText());
      assertEquals(Json.MAPPER.valueToTree(java.util.Map.of("name", "weather", "args", java.util.Map.of("city", "Paris"))),
          model.get("parts").get(0).get("functionCall"));
      assertEquals("localTime", model.get("parts").get(1).get("functionCall").get("name").asText());
      JsonNode parts = cs.get(2).get("parts");
      assertEquals("user", cs.get(2).get("role").asText());
      assertEquals(2, parts.size(), parts.toString());
      assertEquals(Json.MAPPER.valueToTree(java.util.Map.of("name", "weather", "response",
          java.util.Map.of("output", "sunny in Paris"))), parts.get(0).get("functionResponse"));
      assertEquals(Json.MAPPER.valueToTree(java.util.Map.of("name", "localTime", "response",
          java.util.Map.of("output", "09:00 in Asia/Tokyo"))), parts.get(1).get("functionResponse"));
    }, new Usage(140, 30, 0, 0, 0));
  }

  private void runAndCheck(String model, Consumer<JsonNode> firstRequest, Consumer<JsonNode> secondRequest,
      Usage totalUsage) throws Exception {
    TravelTools tools = new TravelTools();
    ChatRequest request = ChatRequest.builder(model).user("Weather in Paris and the time in Tokyo?").build();
    Pair<java.util.concurrent.CompletionStage<ToolLoopResult>, java.util.concurrent.CompletionStage<List<ToolLoopEvent>>>
        run = llm.streamTools(request, ToolFunction.fromMethods(tools), ToolLoopOptions.defaults())
        .toMat(Sink.seq(), Keep.both()).run(llm.system());
    List<ToolLoopEvent> events = run.second().toCompletableFuture().get(20, TimeUnit.SECONDS);
    ToolLoopResult result = run.first().toCompletableFuture().get(20, TimeUnit.SECONDS);

    assertEquals(ToolLoopResult.Outcome.ANSWERED, result.outcome());
    assertEquals("Sunny in Paris; 09:00 in Tokyo.", result.text());
    assertEquals(2, result.toolCalls());
    assertEquals(0, result.toolErrors());
    assertEquals(2, result.steps().size());
    assertEquals(totalUsage, result.usage());
    List<Message> transcript = result.transcript();
    assertEquals(5, transcript.size());
    assertEquals(List.of("user", "assistant", "tool", "tool", "assistant"),
        transcript.stream().map(Message::role).toList());
    assertEquals("sunny in Paris", transcript.get(2).text());
    assertEquals("09:00 in Asia/Tokyo", transcript.get(3).text());

    assertEquals("StepFinished(1) ToolCallStarted(1:weather) ToolCallStarted(1:localTime) ToolResult(1:weather) "
        + "ToolResult(1:localTime) TextDelta(2) TextDelta(2) StepFinished(2)", events.stream()
        .map(ToolLoopContractTest::describe).collect(Collectors.joining(" ")));

    List<Upstream.Recorded> sent = upstream.requests();
    assertEquals(2, sent.size());
    JsonNode first = Json.parse(sent.get(0).body());
    assertEquals(1, (first.has("messages") ? first.get("messages") : first.get("contents")).size());
    firstRequest.accept(first);
    JsonNode second = Json.parse(sent.get(1).body());
    firstRequest.accept(second);
    secondRequest.accept(second);
  }

  private static String describe(ToolLoopEvent e) {
    if (e instanceof ToolLoopEvent.ToolCallStarted s) {
      return "ToolCallStarted(" + s.step() + ":" + s.call().name() + ")";
    }
    if (e instanceof ToolLoopEvent.ToolResult r) {
      return "ToolResult(" + r.step() + ":" + r.call().name() + (r.failed() ? ":" + r.error() : "") + ")";
    }
    return e.getClass().getSimpleName() + "(" + e.step() + ")";
  }

  /** A tool_result's content: a string, or text blocks. */
  private static String contentText(JsonNode content) {
    if (content.isTextual()) {
      return content.asText();
    }
    StringBuilder sb = new StringBuilder();
    content.forEach(b -> sb.append(b.path("text").asText()));
    return sb.toString();
  }

  private static Reply sse(String... events) {
    return Reply.sse(String.join("", events).getBytes(StandardCharsets.UTF_8));
  }
}
