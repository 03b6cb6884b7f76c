package io.pekkollm.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.Message;
import io.pekkollm.model.Usage;
import io.pekkollm.testkit.EventStreams;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The two-step tool loop of {@link ToolLoopContractTest} against local upstreams in Bedrock's (binary
 * event-stream), Cohere's (v2 SSE), Mistral's (OpenAI-compatible SSE, usage on the finish chunk) and Ollama's
 * (NDJSON, no call ids) wire formats: step one streams two parallel calls, step two the answer. Each test asserts
 * the second request's assistant turn and both tool results exactly, in that provider's own format.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ToolLoopMoreProvidersContractTest {
  private static final ContentType EVENT_STREAM = ContentTypes.parse("application/vnd.amazon.eventstream");
  private static final ContentType NDJSON = ContentTypes.parse("application/x-ndjson");
  private static final String ANSWER = "Sunny in Paris; 09:00 in Tokyo.";

  private Upstream upstream;
  private LlmClient llm;

  @BeforeAll
  void start() {
    upstream = new Upstream();
    llm = LlmClient.create(TestConfig.of(
        "pekko-llm.providers.ollama.base-url = \"" + upstream.url("") + "\"\n"
            + "pekko-llm.providers.cohere { base-url = \"" + upstream.url("") + "\", api-key = \"co-test\" }\n"
            + "pekko-llm.providers.mistral { base-url = \"" + upstream.url("/v1") + "\", api-key = \"mi-test\" }\n"
            + "pekko-llm.providers.bedrock { base-url = \"" + upstream.url("") + "\", api-key = \"secret\", "
            + "access-key-id = \"AKIDEXAMPLE\", region = us-east-1 }\n"
            + "pekko-llm.recovery.enabled = off"));
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
  void bedrockToolResultsGoBackAsToolResultBlocksOfOneUserTurn() throws Exception {
    upstream.enqueue(Reply.bytes(200, EVENT_STREAM, EventStreams.concat(List.of(
        EventStreams.event("messageStart", "{\"role\":\"assistant\"}"),
        EventStreams.event("contentBlockStart", "{\"contentBlockIndex\":0,\"start\":{\"toolUse\":"
            + "{\"toolUseId\":\"tooluse_w\",\"name\":\"weather\"}}}"),
        EventStreams.event("contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"toolUse\":"
            + "{\"input\":\"{\\\"city\\\": \\\"Paris\\\"}\"}}}"),
        EventStreams.event("contentBlockStop", "{\"contentBlockIndex\":0}"),
        EventStreams.event("contentBlockStart", "{\"contentBlockIndex\":1,\"start\":{\"toolUse\":"
            + "{\"toolUseId\":\"tooluse_t\",\"name\":\"localTime\"}}}"),
        EventStreams.event("contentBlockDelta", "{\"contentBlockIndex\":1,\"delta\":{\"toolUse\":"
            + "{\"input\":\"{\\\"zone\\\": \\\"Asia/Tokyo\\\"}\"}}}"),
        EventStreams.event("contentBlockStop", "{\"contentBlockIndex\":1}"),
        EventStreams.event("messageStop", "{\"stopReason\":\"tool_use\"}"),
        EventStreams.event("metadata", "{\"usage\":{\"inputTokens\":50,\"outputTokens\":20,\"totalTokens\":70},"
            + "\"metrics\":{\"latencyMs\":10}}")))));
    upstream.enqueue(Reply.bytes(200, EVENT_STREAM, EventStreams.concat(List.of(
        EventStreams.event("messageStart", "{\"role\":\"assistant\"}"),
        EventStreams.event("contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"Sunny in Paris; \"}}"),
        EventStreams.event("contentBlockDelta", "{\"contentBlockIndex\":0,\"delta\":{\"text\":\"09:00 in Tokyo.\"}}"),
        EventStreams.event("contentBlockStop", "{\"contentBlockIndex\":0}"),
        EventStreams.event("messageStop", "{\"stopReason\":\"end_turn\"}"),
        EventStreams.event("metadata", "{\"usage\":{\"inputTokens\":90,\"outputTokens\":10,\"totalTokens\":100},"
            + "\"metrics\":{\"latencyMs\":10}}")))));

    JsonNode second = run("bedrock/anthropic.claude-3-haiku-20240307-v1:0", new Usage(140, 30, 0, 0, 0));
    assertEquals("/model/anthropic.claude-3-haiku-20240307-v1:0/converse-stream", upstream.requests().get(1).path());
    JsonNode first = Json.parse(upstream.requests().get(0).body());
    assertEquals(List.of("localTime", "weather"), List.of(
        first.get("toolConfig").get("tools").get(0).get("toolSpec").get("name").asText(),
        first.get("toolConfig").get("tools").get(1).get("toolSpec").get("name").asText()));
    assertEquals(Json.parse("""
        [{"role":"user","content":[{"text":"Weather in Paris and the time in Tokyo?"}]},
         {"role":"assistant","content":[
           {"toolUse":{"toolUseId":"tooluse_w","name":"weather","input":{"city":"Paris"}}},
           {"toolUse":{"toolUseId":"tooluse_t","name":"localTime","input":{"zone":"Asia/Tokyo"}}}]},
         {"role":"user","content":[
           {"toolResult":{"toolUseId":"tooluse_w","content":[{"text":"sunny in Paris"}]}},
           {"toolResult":{"toolUseId":"tooluse_t","content":[{"text":"09:00 in Asia/Tokyo"}]}}]}]"""),
        second.get("messages"));
  }

  @Test
  void cohereToolResultsGoBackAsToolMessagesWithTheirCallIds() throws Exception {
    upstream.enqueue(sse(
        cohere("message-start", "\"id\":\"c1\",\"delta\":{\"message\":{\"role\":\"assistant\",\"content\":[],"
            + "\"tool_plan\":\"\",\"tool_calls\":[],\"citations\":[]}}"),
        cohere("tool-call-start", "\"index\":0,\"delta\":{\"message\":{\"tool_calls\":{\"id\":\"weather_1\","
            + "\"type\":\"function\",\"function\":{\"name\":\"weather\",\"arguments\":\"\"}}}}"),
        cohere("tool-call-delta", "\"index\":0,\"delta\":{\"message\":{\"tool_calls\":{\"function\":"
            + "{\"arguments\":\"{\\\"city\\\": \\\"Paris\\\"}\"}}}}"),
        cohere("tool-call-end", "\"index\":0"),
        cohere("tool-call-start", "\"index\":1,\"delta\":{\"message\":{\"tool_calls\":{\"id\":\"localTime_2\","
            + "\"type\":\"function\",\"function\":{\"name\":\"localTime\",\"arguments\":\"\"}}}}"),
        cohere("tool-call-delta", "\"index\":1,\"delta\":{\"message\":{\"tool_calls\":{\"function\":"
            + "{\"arguments\":\"{\\\"zone\\\": \\\"Asia/Tokyo\\\"}\"}}}}"),
        cohere("tool-call-end", "\"index\":1"),
        cohere("message-end", "\"delta\":{\"finish_reason\":\"TOOL_CALL\",\"usage\":{\"billed_units\":"
            + "{\"input_tokens\":50,\"output_tokens\":20},\"tokens\":{\"input_tokens\":50,\"output_tokens\":20}}}")));
    upstream.enqueue(sse(
        cohere("message-start", "\"id\":\"c2\",\"delta\":{\"message\":{\"role\":\"assistant\",\"content\":[],"
            + "\"tool_plan\":\"\",\"tool_calls\":[],\"citations\":[]}}"),
        cohere("content-start", "\"index\":0,\"delta\":{\"message\":{\"content\":{\"type\":\"text\",\"text\":\"\"}}}"),
        cohere("content-delta", "\"index\":0,\"delta\":{\"message\":{\"content\":{\"text\":\"Sunny in Paris; \"}}}"),
        cohere("content-delta", "\"index\":0,\"delta\":{\"message\":{\"content\":{\"text\":\"09:00 in Tokyo.\"}}}"),
        cohere("content-end", "\"index\":0"),
        cohere("message-end", "\"delta\":{\"finish_reason\":\"COMPLETE\",\"usage\":{\"billed_units\":"
            + "{\"input_tokens\":90,\"output_tokens\":10},\"tokens\":{\"input_tokens\":90,\"output_tokens\":10}}}")));

    JsonNode second = run("cohere/command-a-03-2025", new Usage(140, 30, 0, 0, 0));
    assertEquals("/v2/chat", upstream.requests().get(1).path());
    assertEquals(Json.parse("""
        [{"role":"user","content":"Weather in Paris and the time in Tokyo?"},
         {"role":"assistant","tool_calls":[
           {"id":"weather_1","type":"function","function":{"name":"weather","arguments":"{\\"city\\": \\"Paris\\"}"}},
           {"id":"localTime_2","type":"function","function":{"name":"localTime",
            "arguments":"{\\"zone\\": \\"Asia/Tokyo\\"}"}}]},
         {"role":"tool","tool_call_id":"weather_1","content":"sunny in Paris"},
         {"role":"tool","tool_call_id":"localTime_2","content":"09:00 in Asia/Tokyo"}]"""), second.get("messages"));
  }

  @Test
  void mistralToolResultsGoBackAsOpenAiToolMessages() throws Exception {
    String id = "\"id\":\"b399\",\"object\":\"chat.completion.chunk\",\"created\":1769088854,"
        + "\"model\":\"mistral-small-latest\"";
    upstream.enqueue(sse(
        "data: {" + id + ",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
            + "\"finish_reason\":null}]}\n\n",
        "data: {" + id + ",\"choices\":[{\"index\":0,\"delta\":{\"content\":null,\"tool_calls\":["
            + "{\"id\":\"gSIMJiOkT\",\"function\":{\"name\":\"weather\",\"arguments\":\"{\\\"city\\\": \\\"Paris\\\"}\"},"
            + "\"index\":0},{\"id\":\"k2LmP0qRs\",\"function\":{\"name\":\"localTime\",\"arguments\":"
            + "\"{\\\"zone\\\": \\\"Asia/Tokyo\\\"}\"},\"index\":1}]},\"finish_reason\":\"tool_calls\"}],"
            + "\"usage\":{\"prompt_tokens\":50,\"total_tokens\":70,\"completion_tokens\":20}}\n\n",
        "data: [DONE]\n\n"));
    upstream.enqueue(sse(
        "data: {" + id + ",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Sunny in Paris; \"},"
            + "\"finish_reason\":null}]}\n\n",
        "data: {" + id + ",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"09:00 in Tokyo.\"},"
            + "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":90,\"total_tokens\":100,"
            + "\"completion_tokens\":10}}\n\n",
        "data: [DONE]\n\n"));

    JsonNode second = run("mistral/mistral-small-latest", new Usage(140, 30, 0, 0, 0));
    assertEquals("/v1/chat/completions", upstream.requests().get(1).path());
    // Mistral rejects unknown fields: no stream_options (stream-usage = false in reference.conf).
    assertEquals(false, second.has("stream_options"));
    JsonNode ms = second.get("messages");
    assertEquals(4, ms.size(), ms.toString());
    assertEquals(Json.parse("""
        {"role":"assistant","tool_calls":[
          {"id":"gSIMJiOkT","type":"function","function":{"name":"weather","arguments":"{\\"city\\": \\"Paris\\"}"}},
          {"id":"k2LmP0qRs","type":"function","function":{"name":"localTime",
           "arguments":"{\\"zone\\": \\"Asia/Tokyo\\"}"}}]}"""), withoutNullContent(ms.get(1)));
    assertEquals(Json.parse("{\"role\":\"tool\",\"tool_call_id\":\"gSIMJiOkT\",\"content\":\"sunny in Paris\"}"),
        ms.get(2));
    assertEquals(Json.parse("{\"role\":\"tool\",\"tool_call_id\":\"k2LmP0qRs\",\"content\":\"09:00 in Asia/Tokyo\"}"),
        ms.get(3));
  }

  @Test
  void ollamaToolResultsGoBackAsToolMessagesNamedAfterTheirCalls() throws Exception {
    upstream.enqueue(Reply.bytes(200, NDJSON, (
        "{\"model\":\"llama3.2\",\"created_at\":\"2025-07-07T20:22:19Z\",\"message\":{\"role\":\"assistant\","
            + "\"content\":\"\",\"tool_calls\":[{\"function\":{\"name\":\"weather\",\"arguments\":{\"city\":\"Paris\"}}},"
            + "{\"function\":{\"name\":\"localTime\",\"arguments\":{\"zone\":\"Asia/Tokyo\"}}}]},\"done\":false}\n"
            + "{\"model\":\"llama3.2\",\"created_at\":\"2025-07-07T20:22:19Z\",\"message\":{\"role\":\"assistant\","
            + "\"content\":\"\"},\"done_reason\":\"stop\",\"done\":true,\"prompt_eval_count\":50,\"eval_count\":20}\n")
        .getBytes(StandardCharsets.UTF_8)));
    upstream.enqueue(Reply.bytes(200, NDJSON, (
        "{\"model\":\"llama3.2\",\"created_at\":\"2025-07-07T20:22:20Z\",\"message\":{\"role\":\"assistant\","
            + "\"content\":\"Sunny in Paris; \"},\"done\":false}\n"
            + "{\"model\":\"llama3.2\",\"created_at\":\"2025-07-07T20:22:20Z\",\"message\":{\"role\":\"assistant\","
            + "\"content\":\"09:00 in Tokyo.\"},\"done\":false}\n"
            + "{\"model\":\"llama3.2\",\"created_at\":\"2025-07-07T20:22:20Z\",\"message\":{\"role\":\"assistant\","
            + "\"content\":\"\"},\"done_reason\":\"stop\",\"done\":true,\"prompt_eval_count\":90,\"eval_count\":10}\n")
        .getBytes(StandardCharsets.UTF_8)));

    JsonNode second = run("ollama/llama3.2", new Usage(140, 30, 0, 0, 0));
    assertEquals("/api/chat", upstream.requests().get(1).path());
    assertEquals(Json.parse("""
        [{"role":"user","content":"Weather in Paris and the time in Tokyo?"},
         {"role":"assistant","content":"","tool_calls":[
           {"function":{"name":"weather","arguments":{"city":"Paris"}}},
           {"function":{"name":"localTime","arguments":{"zone":"Asia/Tokyo"}}}]},
         {"role":"tool","content":"sunny in Paris","tool_name":"weather"},
         {"role":"tool","content":"09:00 in Asia/Tokyo","tool_name":"localTime"}]"""), second.get("messages"));
  }

  /** Runs the loop with {@link ToolLoopContractTest.TravelTools}, checks the result, returns the second request. */
  private JsonNode run(String model, Usage totalUsage) throws Exception {
    ToolLoopResult result = llm.runTools(ChatRequest.builder(model).user("Weather in Paris and the time in Tokyo?")
            .build(), ToolFunction.fromMethods(new ToolLoopContractTest.TravelTools()), ToolLoopOptions.defaults())
        .toCompletableFuture().get(20, TimeUnit.SECONDS);
    assertEquals(ToolLoopResult.Outcome.ANSWERED, result.outcome());
    assertEquals(ANSWER, result.text());
    assertEquals(2, result.toolCalls());
    assertEquals(0, result.toolErrors());
    assertEquals(2, result.steps().size());
    assertEquals(totalUsage, result.usage());
    assertEquals(List.of("user", "assistant", "tool", "tool", "assistant"),
        result.transcript().stream().map(Message::role).toList());
    assertEquals("sunny in Paris", result.transcript().get(2).text());
    assertEquals(2, upstream.requests().size());
    return Json.parse(upstream.requests().get(1).body());
  }

  private static JsonNode withoutNullContent(JsonNode message) {
    com.fasterxml.jackson.databind.node.ObjectNode copy = message.deepCopy();
    if (copy.has("content") && (copy.get("content").isNull() || copy.get("content").asText().isEmpty())) {
      copy.remove("content");
    }
    return copy;
  }

  private static String cohere(String type, String fields) {
    return "event: " + type + "\ndata: {\"type\":\"" + type + "\"," + fields + "}\n\n";
  }

  private static Reply sse(String... events) {
    return Reply.sse(String.join("", events).getBytes(StandardCharsets.UTF_8));
  }
}
