package io.pekkollm.tools;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.Message;
import io.pekkollm.model.ToolCall;
import io.pekkollm.provider.mock.MockProvider;
import io.pekkollm.provider.mock.MockReply;
import io.pekkollm.schema.JsonSchemas;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.util.Json;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The library's own cost of tools and structured output, the model and the tool taken out: a two-step tool loop
 * ({@code llm.runTools}) against the mock provider (step one asks for one tool call, step two answers; the tool
 * returns a constant), through the whole client path (router, admission, attempt runner, stream accumulation,
 * argument validation, transcript); half of one op is the overhead per step. And the per-answer cost of schema
 * validation: parsing an answer and validating it against a record's generated schema (networknt), and
 * converting it to the record.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@State(Scope.Benchmark)
public class ToolLoopBench {
  record Line(String item, int qty) {}

  record Invoice(String number, double total, List<Line> lines) {}

  static final class Tools {
    @Tool("The current weather in a city")
    String weather(@ToolParam("The city's name") String city) {
      return "sunny";
    }
  }

  private static final String ANSWER = "{\"number\":\"A-1\",\"total\":12.5,\"lines\":[{\"item\":\"tea\",\"qty\":2},"
      + "{\"item\":\"cake\",\"qty\":1}]}";

  private LlmClient llm;
  private List<ToolFunction> tools;
  private ChatRequest request;
  private JsonSchemas.Validator validator;

  @Setup(Level.Trial)
  public void setUp() {
    MockProvider mock = MockProvider.builder("bench").handler(r -> r.messages().get(r.messages().size() - 1)
            instanceof Message.Tool ? MockReply.text("Sunny in Paris.")
            : MockReply.toolCalls(List.of(new ToolCall("c1", "weather", "{\"city\":\"Paris\"}"))))
        .build();
    llm = LlmClient.builder().config(TestConfig.of("pekko-llm.recovery.enabled = off\n"
        + "pekko-llm.metrics.enabled = on")).provider(mock).build();
    tools = ToolFunction.fromMethods(new Tools());
    request = ChatRequest.builder("bench/m").user("Weather in Paris?").build();
    validator = JsonSchemas.validator(JsonSchemas.of(Invoice.class));
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    llm.close();
  }

  /** One two-step loop: two model calls through the client, one tool call. */
  @Benchmark
  public ToolLoopResult twoStepToolLoop() throws Exception {
    return llm.runTools(request, tools, ToolLoopOptions.defaults()).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** One plain streamed model call through the same path, for the loop's own share. */
  @Benchmark
  public Object oneModelCall() throws Exception {
    return llm.chat(request).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** Parsing and validating one answer against the schema generated from {@code Invoice}. */
  @Benchmark
  public List<String> validateAnswer() throws Exception {
    JsonNode json = Json.parse(ANSWER);
    return validator.errors(json);
  }

  /** Parse, validate and convert to the record: what a structured answer costs beyond the model call. */
  @Benchmark
  public Invoice validateAndConvert() throws Exception {
    JsonNode json = Json.parse(ANSWER);
    if (!validator.errors(json).isEmpty()) {
      throw new IllegalStateException();
    }
    return JsonSchemas.MAPPER.treeToValue(json, Invoice.class);
  }
}
