package io.pekkollm.structured;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Streamed structured output: partial values with the members complete so far while the JSON arrives in pieces
 * (an OpenAI-format upstream streaming small deltas, its bytes delivered in pieces too), then the validated
 * value; a repair retry streamed as the next attempt; the typed failure.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StreamingStructuredOutputTest {
  record Line(String item, int qty) {}

  record Invoice(String number, double total, List<Line> lines) {}

  private static final String INVOICE = "{\"number\":\"A-1\",\"total\":12.5,\"lines\":[{\"item\":\"tea\",\"qty\":2}]}";

  private Upstream upstream;
  private LlmClient llm;

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

  private static List<JsonNode> feedInPieces(String text, int size) {
    PartialJson p = new PartialJson();
    List<JsonNode> out = new ArrayList<>();
    for (int i = 0; i < text.length(); i += size) {
      JsonNode n = p.feed(text.substring(i, Math.min(text.length(), i + size)));
      if (n != null) {
        out.add(n);
      }
    }
    return out;
  }

  @Test
  void partialValuesHoldOnlyCompleteMembers() throws Exception {
    List<String> seen = feedInPieces(INVOICE, 1).stream().map(JsonNode::toString).toList();
    assertEquals(List.of(
        "{}",
        "{\"number\":\"A-1\"}",
        "{\"number\":\"A-1\",\"total\":12.5}",
        "{\"number\":\"A-1\",\"total\":12.5,\"lines\":[]}",
        "{\"number\":\"A-1\",\"total\":12.5,\"lines\":[{}]}",
        "{\"number\":\"A-1\",\"total\":12.5,\"lines\":[{\"item\":\"tea\"}]}",
        "{\"number\":\"A-1\",\"total\":12.5,\"lines\":[{\"item\":\"tea\",\"qty\":2}]}"), seen);
  }

  @Test
  void everySplitGivesTheWholeValueAtTheEnd() throws Exception {
    String text = "Here it is:\n```json\n" + INVOICE.replace("tea", "thé \\\"vert\\\" 🍵") + "\n```\nDone.";
    JsonNode whole = Json.parse(INVOICE.replace("tea", "thé \\\"vert\\\" 🍵"));
    for (int size = 1; size <= text.length(); size++) {
      List<JsonNode> parts = feedInPieces(text, size);
      assertEquals(whole, parts.get(parts.size() - 1), "pieces of " + size);
    }
  }

  @Test
  void textThatIsNotJsonEndsThePartialValues() {
    PartialJson p = new PartialJson();
    assertEquals("{\"a\":1}", p.feed("{\"a\":1,").toString());
    assertNull(p.feed("oops}"));
    assertNull(p.feed("\"b\":2}"));
  }

  @Test
  void streamsPartialObjectsThenTheValidatedValue() throws Exception {
    upstream.enqueue(sse(pieces(INVOICE, 6)).inPieces(17, Duration.ZERO));
    Pair<CompletionStage<Structured<Invoice>>, CompletionStage<List<StructuredOutput.PartialValue>>> run = llm
        .streamStructured(ChatRequest.builder("openai/gpt-4o-mini").user("Invoice A-1 please").build(), Invoice.class)
        .toMat(Sink.seq(), Keep.both()).run(llm.system());
    List<StructuredOutput.PartialValue> partials = run.second().toCompletableFuture().get(20, TimeUnit.SECONDS);
    Structured<Invoice> result = run.first().toCompletableFuture().get(20, TimeUnit.SECONDS);

    assertEquals(new Invoice("A-1", 12.5, List.of(new Line("tea", 2))), result.value());
    assertEquals(1, result.attempts());
    assertTrue(partials.size() >= 4, partials.toString());
    assertTrue(partials.stream().allMatch(p -> p.attempt() == 1));
    assertEquals(Json.parse(INVOICE), partials.get(partials.size() - 1).json());
    assertTrue(partials.stream().anyMatch(p -> p.json().toString().equals("{\"number\":\"A-1\"}")), partials.toString());
    JsonNode sent = Json.parse(upstream.requests().get(0).body());
    assertEquals("json_schema", sent.get("response_format").get("type").asText());
    assertEquals("Invoice", sent.get("response_format").get("json_schema").get("name").asText());
    assertTrue(sent.get("stream").asBoolean());
  }

  @Test
  void anInvalidAnswerIsRepairedAndTheNextAttemptStreams() throws Exception {
    upstream.enqueue(sse(pieces("{\"number\":\"A-1\",\"total\":\"much\"}", 5)));
    upstream.enqueue(sse(pieces(INVOICE, 9)));
    Pair<CompletionStage<Structured<Invoice>>, CompletionStage<List<StructuredOutput.PartialValue>>> run = llm
        .streamStructured(ChatRequest.builder("openai/gpt-4o-mini").user("Invoice A-1").build(), Invoice.class)
        .toMat(Sink.seq(), Keep.both()).run(llm.system());
    List<StructuredOutput.PartialValue> partials = run.second().toCompletableFuture().get(20, TimeUnit.SECONDS);
    Structured<Invoice> result = run.first().toCompletableFuture().get(20, TimeUnit.SECONDS);

    assertEquals(2, result.attempts());
    assertEquals("A-1", result.value().number());
    assertEquals(Json.parse("{\"number\":\"A-1\",\"total\":\"much\"}"), partials.stream()
        .filter(p -> p.attempt() == 1).reduce((a, b) -> b).orElseThrow().json());
    assertEquals(Json.parse(INVOICE), partials.get(partials.size() - 1).json());
    assertEquals(2, partials.get(partials.size() - 1).attempt());
    JsonNode repair = Json.parse(upstream.requests().get(1).body()).get("messages");
    assertEquals(3, repair.size());
    assertEquals("assistant", repair.get(1).get("role").asText());
    assertTrue(repair.get(2).get("content").asText().contains("does not match the JSON schema 'Invoice'"),
        repair.toString());
  }

  @Test
  void failsTypedAfterTheLastAttempt() throws Exception {
    upstream.enqueue(sse(pieces("{\"number\":7}", 4)));
    CompletionStage<Structured<Invoice>> result = llm.streamStructured(
            ChatRequest.builder("openai/gpt-4o-mini").user("Invoice").build(),
            StructuredOutput.of(Invoice.class).withMaxAttempts(1))
        .to(Sink.ignore()).run(llm.system());
    var e = assertThrows(ExecutionException.class, () -> result.toCompletableFuture().get(20, TimeUnit.SECONDS));
    StructuredOutputException se = assertInstanceOf(StructuredOutputException.class, e.getCause());
    assertEquals(1, se.attempts().size());
    assertEquals("{\"number\":7}", se.attempts().get(0).rawText());
    assertEquals(1, upstream.requestCount());
  }

  private static List<String> pieces(String text, int size) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < text.length(); i += size) {
      out.add(text.substring(i, Math.min(text.length(), i + size)));
    }
    return out;
  }

  /** An OpenAI chat-completions stream whose content deltas are {@code deltas}. */
  private static Reply sse(List<String> deltas) {
    String id = "\"id\":\"chatcmpl-s\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini-2024-07-18\"";
    StringBuilder sb = new StringBuilder();
    for (String d : deltas) {
      sb.append("data: {").append(id).append(",\"choices\":[{\"index\":0,\"delta\":{\"content\":")
          .append(Json.MAPPER.valueToTree(d).toString()).append("},\"finish_reason\":null}]}\n\n");
    }
    sb.append("data: {").append(id).append(",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
    sb.append("data: [DONE]\n\n");
    return Reply.sse(sb.toString().getBytes(StandardCharsets.UTF_8));
  }
}
