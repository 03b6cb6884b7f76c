package io.pekkollm.structured;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.Message;
import io.pekkollm.provider.mock.MockProvider;
import io.pekkollm.provider.mock.MockReply;
import io.pekkollm.schema.JsonSchemas;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Typed structured outputs: the schema sent the provider's native way (OpenAI, Anthropic and Gemini wire formats
 * against a local upstream), extraction from fences and prose, the repair retry and the typed failure.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StructuredOutputTest {
  record Line(String item, int qty) {}

  record Invoice(String number, double total, List<Line> lines) {}

  private static final String INVOICE = "{\"number\":\"A-1\",\"total\":12.5,\"lines\":[{\"item\":\"tea\",\"qty\":2}]}";
  private static final Invoice EXPECTED = new Invoice("A-1", 12.5, List.of(new Line("tea", 2)));

  private final Deque<String> answers = new ArrayDeque<>();
  private Upstream upstream;
  private MockProvider mock;
  private LlmClient llm;

  @BeforeAll
  void start() {
    upstream = new Upstream();
    mock = MockProvider.builder("so").handler(r -> MockReply.text(answers.isEmpty() ? "nothing" : answers.poll()))
        .build();
    llm = LlmClient.builder().config(TestConfig.threeProviders(upstream, "")).provider(mock).build();
  }

  @AfterAll
  void stop() {
    llm.close();
    upstream.close();
  }

  @BeforeEach
  void reset() {
    upstream.reset();
    mock.clearRequests();
    answers.clear();
  }

  private Invoice invoice(String model) throws Exception {
    return llm.chat(ChatRequest.builder(model).user("Invoice A-1: 2 tea, 12.50").build(), Invoice.class)
        .toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  private JsonNode sentBody() throws Exception {
    assertEquals(1, upstream.requests().size());
    return Json.parse(upstream.requests().get(0).body());
  }

  @Test
  void openAiGetsAStrictJsonSchemaResponseFormat() throws Exception {
    upstream.enqueue(Reply.json(200, "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"model\":\"gpt-4o-mini\","
        + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":" + Json.MAPPER.writeValueAsString(INVOICE)
        + "},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5,\"total_tokens\":15}}"));
    assertEquals(EXPECTED, invoice("openai/gpt-4o-mini"));
    JsonNode rf = sentBody().get("response_format");
    assertEquals("json_schema", rf.get("type").asText());
    assertEquals("Invoice", rf.get("json_schema").get("name").asText());
    assertTrue(rf.get("json_schema").get("strict").asBoolean());
    assertEquals(JsonSchemas.of(Invoice.class), rf.get("json_schema").get("schema"));
  }

  @Test
  void anthropicGetsTheSchemaAsAForcedTool() throws Exception {
    upstream.enqueue(Reply.json(200, "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":"
        + "\"claude-haiku-4-5\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"Invoice\",\"input\":"
        + INVOICE + "}],\"stop_reason\":\"tool_use\",\"usage\":{\"input_tokens\":10,\"output_tokens\":5}}"));
    assertEquals(EXPECTED, invoice("anthropic/claude-haiku-4-5"));
    JsonNode body = sentBody();
    assertEquals("tool", body.get("tool_choice").get("type").asText());
    assertEquals("Invoice", body.get("tool_choice").get("name").asText());
    assertEquals(JsonSchemas.of(Invoice.class), body.get("tools").get(0).get("input_schema"));
  }

  @Test
  void geminiGetsAResponseSchema() throws Exception {
    upstream.enqueue(Reply.json(200, "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":"
        + Json.MAPPER.writeValueAsString(INVOICE) + "}],\"role\":\"model\"},\"finishReason\":\"STOP\",\"index\":0}],"
        + "\"usageMetadata\":{\"promptTokenCount\":10,\"candidatesTokenCount\":5,\"totalTokenCount\":15},"
        + "\"modelVersion\":\"gemini-2.5-flash\"}"));
    assertEquals(EXPECTED, invoice("gemini/gemini-2.5-flash"));
    JsonNode config = sentBody().get("generationConfig");
    assertEquals("application/json", config.get("responseMimeType").asText());
    assertEquals("object", config.get("responseSchema").get("type").asText().toLowerCase());
    assertTrue(config.get("responseSchema").get("properties").has("lines"));
  }

  @Test
  void jsonInAFenceOrInProseIsFound() throws Exception {
    answers.add("Here it is:\n```json\n" + INVOICE + "\n```\nAnything else?");
    assertEquals(EXPECTED, invoice("so/echo"));
    answers.add("The invoice is " + INVOICE + ". Thanks!");
    assertEquals(EXPECTED, invoice("so/echo"));
  }

  @Test
  void anInvalidAnswerIsRepairedWithItsErrors() throws Exception {
    answers.add("{\"number\":\"A-1\",\"lines\":[]}");
    answers.add(INVOICE);
    Structured<Invoice> s = llm.chat(ChatRequest.builder("so/echo").user("invoice please").build(),
        StructuredOutput.of(Invoice.class)).toCompletableFuture().get(20, TimeUnit.SECONDS);
    assertEquals(EXPECTED, s.value());
    assertEquals(2, s.attempts());
    List<Message> second = mock.requests().get(1).messages();
    assertEquals(3, second.size());
    assertEquals("{\"number\":\"A-1\",\"lines\":[]}", second.get(1).text());
    assertTrue(second.get(2).text().startsWith("Your answer does not match the JSON schema 'Invoice': "),
        second.get(2).text());
    assertTrue(second.get(2).text().contains("total"), second.get(2).text());
  }

  @Test
  void failsWithEveryAttemptAfterMaxAttempts() {
    answers.add("no idea");
    answers.add("{\"number\": 7}");
    answers.add("[1, 2]");
    ExecutionException e = assertThrows(ExecutionException.class, () -> invoice("so/echo"));
    StructuredOutputException so = assertInstanceOf(StructuredOutputException.class, e.getCause());
    assertEquals(3, so.attempts().size());
    assertEquals(3, mock.requests().size());
    assertEquals("no idea", so.attempts().get(0).rawText());
    assertEquals(List.of("the answer holds no JSON value"), so.attempts().get(0).errors());
    assertEquals("{\"number\": 7}", so.attempts().get(1).rawText());
    assertTrue(so.attempts().get(1).errors().stream().anyMatch(m -> m.contains("number")), so.attempts().toString());
    assertEquals("[1, 2]", so.attempts().get(2).rawText());
  }

  @Test
  void oneAttemptMeansNoRepair() {
    answers.add("{}");
    ExecutionException e = assertThrows(ExecutionException.class, () -> llm.chat(ChatRequest.builder("so/echo")
        .user("x").build(), StructuredOutput.of(Invoice.class).withMaxAttempts(1)).toCompletableFuture().get(20,
        TimeUnit.SECONDS));
    assertEquals(1, assertInstanceOf(StructuredOutputException.class, e.getCause()).attempts().size());
    assertEquals(1, mock.requests().size());
  }

  @Test
  void aSchemaThatIsNotOneIsRefused() throws Exception {
    assertThrows(IllegalArgumentException.class,
        () -> StructuredOutput.of("bad", Json.parse("{\"type\": \"no-such-type\"}")));
  }

  @Test
  void extractionCases() throws Exception {
    assertEquals(Json.parse("{\"a\":1}"), JsonExtraction.extract("  {\"a\":1} "));
    assertEquals(Json.parse("[1]"), JsonExtraction.extract("```\n[1]\n```"));
    assertEquals(Json.parse("{\"a\":{\"b\":[1,2]}}"), JsonExtraction.extract("So: {\"a\":{\"b\":[1,2]}} and {\"c\":2}"));
    assertEquals(Json.parse("{\"a\":\"}\"}"), JsonExtraction.extract("x {broken {\"a\":\"}\"} y"));
    assertEquals(Json.parse("\"text\""), JsonExtraction.extract("\"text\""));
    assertNull(JsonExtraction.extract("no json here"));
    assertNull(JsonExtraction.extract(""));
  }
}
