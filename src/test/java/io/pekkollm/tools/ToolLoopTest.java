package io.pekkollm.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Message;
import io.pekkollm.model.ToolCall;
import io.pekkollm.provider.mock.MockProvider;
import io.pekkollm.provider.mock.MockReply;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.util.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** The tool loop's outcomes and a model's mistakes, scripted with the mock provider; and tool registration. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ToolLoopTest {
  private final AtomicReference<Function<ChatRequest, MockReply>> script = new AtomicReference<>();
  private MockProvider mock;
  private LlmClient llm;

  enum Room { SINGLE, DOUBLE }

  record Address(@JsonPropertyDescription("Street and number") String street, String city) {}

  record Booking(@JsonPropertyDescription("Where to stay") String city, int nights, Optional<String> note, Room room,
      List<String> guests, Address billing) {}

  static final class Weather {
    @Tool("The weather in a city")
    String weather(@ToolParam("The city") String city) {
      return "sunny in " + city;
    }
  }

  @BeforeAll
  void start() {
    mock = MockProvider.builder("tm").handler(r -> script.get().apply(r)).build();
    llm = LlmClient.builder().config(TestConfig.of("pekko-llm.recovery.enabled = off")).provider(mock).build();
  }

  @AfterAll
  void stop() {
    llm.close();
  }

  @BeforeEach
  void reset() {
    mock.clearRequests();
  }

  private static ChatRequest ask(String text) {
    return ChatRequest.builder("tm/echo").user(text).build();
  }

  /** Answers with {@code calls[i]} while the conversation has i tool turns, then with {@code answer}. */
  private void scriptCalls(String answer, ToolCall... calls) {
    script.set(r -> {
      long toolTurns = r.messages().stream().filter(m -> m instanceof Message.Assistant).count();
      return toolTurns < calls.length ? MockReply.toolCalls(List.of(calls[(int) toolTurns])) : MockReply.text(answer);
    });
  }

  private static List<Message.Tool> toolMessages(ChatRequest r) {
    List<Message.Tool> out = new ArrayList<>();
    r.messages().forEach(m -> {
      if (m instanceof Message.Tool t) {
        out.add(t);
      }
    });
    return out;
  }

  private ToolLoopResult run(List<ToolFunction> tools, ToolLoopOptions options) throws Exception {
    return llm.runTools(ask("go"), tools, options).toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  @Test
  void endsWithMaxStepsWhenTheModelKeepsCallingTools() throws Exception {
    script.set(r -> MockReply.toolCalls(List.of(new ToolCall("c" + r.messages().size(), "weather",
        "{\"city\":\"Oslo\"}"))));
    ToolLoopResult result = run(ToolFunction.fromMethods(new Weather()), ToolLoopOptions.defaults().withMaxSteps(3));
    assertEquals(ToolLoopResult.Outcome.MAX_STEPS, result.outcome());
    assertEquals(3, result.steps().size());
    assertEquals(3, mock.requests().size());
    assertEquals(2, result.toolCalls(), "the calls of the last step are not run");
    assertEquals(1, result.unansweredCalls().size());
    assertEquals("weather", result.unansweredCalls().get(0).name());
    assertEquals(List.of("user", "assistant", "tool", "assistant", "tool", "assistant"),
        result.transcript().stream().map(Message::role).toList());
  }

  @Test
  void invalidArgumentsBecomeAnErrorResultTheModelCanCorrect() throws Exception {
    scriptCalls("done", new ToolCall("c1", "weather", "{\"city\": 5}"), new ToolCall("c2", "weather", "{city"),
        new ToolCall("c3", "weather", "{\"city\":\"Paris\"}"));
    List<ToolLoopEvent> events = llm.streamTools(ask("go"), ToolFunction.fromMethods(new Weather()),
        ToolLoopOptions.defaults()).runWith(Sink.seq(), llm.system()).toCompletableFuture().get(20, TimeUnit.SECONDS);
    List<ToolLoopEvent.ToolResult> results = events.stream().filter(e -> e instanceof ToolLoopEvent.ToolResult)
        .map(e -> (ToolLoopEvent.ToolResult) e).toList();
    assertEquals(3, results.size());
    assertEquals(ToolError.INVALID_ARGUMENTS, results.get(0).error());
    assertEquals(ToolError.INVALID_ARGUMENTS, results.get(1).error());
    assertEquals(null, results.get(2).error());
    assertEquals("sunny in Paris", results.get(2).result());

    List<Message.Tool> seen = toolMessages(mock.requests().get(3));
    assertEquals(3, seen.size());
    JsonNode schemaError = Json.parse(seen.get(0).content());
    assertTrue(schemaError.get("error").asText().startsWith("the arguments do not match the tool's schema: "),
        schemaError.toString());
    assertTrue(schemaError.get("error").asText().contains("city"), schemaError.toString());
    assertTrue(Json.parse(seen.get(1).content()).get("error").asText().startsWith("the arguments are not valid JSON"));
    assertEquals("sunny in Paris", seen.get(2).content());
  }

  @Test
  void anUnknownToolIsAnErrorResultNamingTheTools() throws Exception {
    scriptCalls("ok", new ToolCall("c1", "forecast", "{}"));
    ToolLoopResult result = run(ToolFunction.fromMethods(new Weather()), ToolLoopOptions.defaults());
    assertEquals(ToolLoopResult.Outcome.ANSWERED, result.outcome());
    assertEquals("ok", result.text());
    assertEquals(1, result.toolErrors());
    assertEquals("{\"error\":\"there is no tool named 'forecast'; the tools are: weather\"}",
        toolMessages(mock.requests().get(1)).get(0).content());
  }

  @Test
  void aThrowingToolIsAnErrorResultAndTheLoopGoesOn() throws Exception {
    scriptCalls("sorry", new ToolCall("c1", "explode", "{\"city\":\"Rome\"}"));
    ToolFunction explode = ToolFunction.of("explode", "Fails", Address.class, a -> {
      throw new IllegalStateException("no street in " + a.city());
    });
    ToolLoopResult result = run(List.of(explode), ToolLoopOptions.defaults());
    assertEquals("sorry", result.text());
    assertEquals(1, result.toolErrors());
    String sent = toolMessages(mock.requests().get(1)).get(0).content();
    assertTrue(sent.contains("arguments do not match"), "street is required: " + sent);
  }

  @Test
  void aToolThatThrowsAfterValidArgumentsReportsTheException() throws Exception {
    scriptCalls("sorry", new ToolCall("c1", "explode", "{\"street\":\"Via 1\",\"city\":\"Rome\"}"));
    ToolFunction explode = ToolFunction.of("explode", "Fails", Address.class, a -> {
      throw new IllegalStateException("no street in " + a.city());
    });
    ToolLoopResult result = run(List.of(explode), ToolLoopOptions.defaults());
    assertEquals("sorry", result.text());
    assertEquals(1, result.toolErrors());
    assertEquals("{\"error\":\"the tool failed: IllegalStateException: no street in Rome\"}",
        toolMessages(mock.requests().get(1)).get(0).content());
  }

  @Test
  void aToolPastItsTimeoutIsInterruptedAndAnsweredWithAnError() throws Exception {
    CountDownLatch interrupted = new CountDownLatch(1);
    CountDownLatch never = new CountDownLatch(1);
    ToolFunction slow = ToolFunction.of("slow", "Never ends", Address.class, a -> {
      try {
        never.await(30, TimeUnit.SECONDS);
        return "finished";
      } catch (InterruptedException e) {
        interrupted.countDown();
        throw e;
      }
    });
    scriptCalls("gave up", new ToolCall("c1", "slow", "{\"street\":\"a\",\"city\":\"b\"}"));
    ToolLoopResult result = run(List.of(slow), ToolLoopOptions.defaults().withToolTimeout(Duration.ofMillis(200)));
    assertEquals("gave up", result.text());
    assertEquals("{\"error\":\"the tool did not finish within 200 ms\"}",
        toolMessages(mock.requests().get(1)).get(0).content());
    assertTrue(interrupted.await(10, TimeUnit.SECONDS), "the tool's thread is interrupted");
  }

  @Test
  void aRecordToolGetsItsArgumentsAsTheRecord() throws Exception {
    AtomicReference<Booking> got = new AtomicReference<>();
    ToolFunction book = ToolFunction.of("book", "Books a room", Booking.class, b -> {
      got.set(b);
      return new Address("Main 1", b.city());
    });
    scriptCalls("booked", new ToolCall("c1", "book", "{\"city\":\"Oslo\",\"nights\":2,\"room\":\"DOUBLE\","
        + "\"guests\":[\"Ann\"],\"billing\":{\"street\":\"S 1\",\"city\":\"Bergen\"}}"));
    ToolLoopResult result = run(List.of(book), ToolLoopOptions.defaults());
    assertEquals(new Booking("Oslo", 2, Optional.empty(), Room.DOUBLE, List.of("Ann"), new Address("S 1", "Bergen")),
        got.get());
    assertEquals("{\"street\":\"Main 1\",\"city\":\"Oslo\"}", result.transcript().get(2).text());
    assertEquals(0, result.toolErrors());
  }

  @Test
  void schemasComeFromTheJavaTypes() {
    JsonNode s = ToolFunction.of("book", "Books a room", Booking.class, b -> "").parameters();
    assertEquals("object", s.get("type").asText());
    assertFalse(s.get("additionalProperties").asBoolean());
    List<String> required = new ArrayList<>();
    s.get("required").forEach(n -> required.add(n.asText()));
    assertEquals(List.of("billing", "city", "guests", "nights", "room"), required.stream().sorted().toList(),
        "every property but the Optional one is required");
    JsonNode p = s.get("properties");
    assertEquals("Where to stay", p.get("city").get("description").asText());
    assertEquals("integer", p.get("nights").get("type").asText());
    assertEquals("[\"string\",\"null\"]", p.get("note").get("type").toString());
    assertEquals(List.of("SINGLE", "DOUBLE"), List.of(p.get("room").get("enum").get(0).asText(),
        p.get("room").get("enum").get(1).asText()));
    assertEquals("array", p.get("guests").get("type").asText());
    assertEquals("string", p.get("guests").get("items").get("type").asText());
    assertEquals("Street and number", p.get("billing").get("properties").get("street").get("description").asText());
    assertFalse(s.has("$schema"));

    JsonNode m = ToolFunction.fromMethods(new Weather()).get(0).parameters();
    assertEquals(Json.MAPPER.valueToTree(java.util.Map.of("type", "object", "additionalProperties", false,
        "required", List.of("city"), "properties", java.util.Map.of("city",
            java.util.Map.of("type", "string", "description", "The city")))), m);
  }

  @Test
  void badToolsFailWhenTheyAreBuilt() {
    assertThrows(IllegalArgumentException.class, () -> ToolFunction.of("has space", "x", Address.class, a -> ""));
    assertThrows(IllegalArgumentException.class, () -> ToolFunction.of("text", "x", String.class, a -> ""));
    assertThrows(IllegalArgumentException.class, () -> ToolFunction.fromMethods(new Object()));
    ToolFunction w = ToolFunction.fromMethods(new Weather()).get(0);
    assertThrows(IllegalArgumentException.class, () -> llm.runTools(ask("x"), List.of(w, w), ToolLoopOptions.defaults()));
    assertThrows(IllegalArgumentException.class, () -> ToolLoopOptions.defaults().withMaxSteps(0));
  }

  @Test
  void aFailedModelCallFailsTheLoop() {
    script.set(r -> {
      throw new LlmException(ErrorKind.SERVER_ERROR, "upstream down");
    });
    ExecutionException e = assertThrows(ExecutionException.class, () -> run(ToolFunction.fromMethods(new Weather()),
        ToolLoopOptions.defaults()));
    assertEquals(ErrorKind.SERVER_ERROR, assertInstanceOf(LlmException.class, e.getCause()).kind());
  }

  @Test
  void cancellingTheEventStreamFailsTheResultWithCancellation() throws Exception {
    script.set(r -> MockReply.toolCalls(List.of(new ToolCall("c", "weather", "{\"city\":\"Oslo\"}"))));
    var pair = llm.streamTools(ask("go"), ToolFunction.fromMethods(new Weather()), ToolLoopOptions.defaults())
        .take(1).toMat(Sink.ignore(), Keep.both()).run(llm.system());
    pair.second().toCompletableFuture().get(10, TimeUnit.SECONDS);
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> pair.first().toCompletableFuture().get(10, TimeUnit.SECONDS));
    assertInstanceOf(CancellationException.class, e.getCause());
  }
}
