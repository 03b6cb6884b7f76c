package docs.javadsl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.Message;
import io.pekkollm.model.ToolCall;
import io.pekkollm.provider.mock.MockProvider;
import io.pekkollm.provider.mock.MockReply;
import io.pekkollm.structured.Structured;
import io.pekkollm.tools.Tool;
import io.pekkollm.tools.ToolFunction;
import io.pekkollm.tools.ToolLoopEvent;
import io.pekkollm.tools.ToolLoopOptions;
import io.pekkollm.tools.ToolLoopResult;
import io.pekkollm.tools.ToolParam;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.Test;

/** The README's "Tools and structured outputs" examples, using only public types. */
class ToolsAndStructuredOutputExampleTest {

  /** Tools are plain methods; compile with -parameters so the model sees the parameter names. */
  public static class WeatherTools {
    @Tool("The current temperature in a city, in °C")
    public double temperature(@ToolParam("The city's name") String city) {
      return city.equals("Oslo") ? 4.5 : 20;
    }
  }

  public record Invoice(@JsonPropertyDescription("The invoice number") String number, double total) {}

  private static LlmClient client(MockProvider provider) throws Exception {
    var config = com.typesafe.config.ConfigFactory.parseString("pekko-llm.recovery.data-dir = \""
        + Files.createTempDirectory("docs").toString().replace('\\', '/') + "\"")
        .withFallback(io.pekkollm.api.LlmConfig.load());
    return LlmClient.builder().config(config).provider(provider).build();
  }

  @Test
  void toolsThatRun() throws Exception {
    // A scripted model for the test: it calls the tool once, then answers with what the tool said.
    MockProvider model = MockProvider.builder("scripted").handler(r -> r.messages().get(r.messages().size() - 1)
        instanceof Message.Tool t ? MockReply.text("It is " + t.content() + " °C in Oslo.")
        : MockReply.toolCalls(List.of(new ToolCall("call_1", "temperature", "{\"city\":\"Oslo\"}")))).build();
    try (LlmClient llm = client(model)) {
      ChatRequest request = ChatRequest.builder("scripted/echo").user("How warm is it in Oslo?").build();
      ToolLoopResult result = llm.runTools(request, ToolFunction.fromMethods(new WeatherTools()),
          ToolLoopOptions.defaults().withMaxSteps(5)).toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertEquals(ToolLoopResult.Outcome.ANSWERED, result.outcome());
      assertEquals("It is 4.5 °C in Oslo.", result.text());
      assertEquals(2, result.steps().size());

      // The same loop as events, e.g. for a UI.
      StringBuilder log = new StringBuilder();
      llm.streamTools(request, ToolFunction.fromMethods(new WeatherTools()), ToolLoopOptions.defaults())
          .runForeach(e -> {
            if (e instanceof ToolLoopEvent.ToolCallStarted s) {
              log.append("calling ").append(s.call().name()).append('\n');
            } else if (e instanceof ToolLoopEvent.TextDelta d) {
              log.append(d.text());
            }
          }, llm.system()).toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertEquals("calling temperature\nIt is 4.5 °C in Oslo.", log.toString());
    }
  }

  @Test
  void toolFromARecordAndAFunction() throws Exception {
    record Convert(double celsius) {}
    ToolFunction toFahrenheit = ToolFunction.of("to_fahrenheit", "Converts °C to °F", Convert.class,
        c -> c.celsius() * 9 / 5 + 32);
    MockProvider model = MockProvider.builder("scripted").handler(r -> r.messages().size() > 1
        ? MockReply.text(r.messages().get(2).text()) : MockReply.toolCalls(List.of(
            new ToolCall("c", "to_fahrenheit", "{\"celsius\":100}")))).build();
    try (LlmClient llm = client(model)) {
      ToolLoopResult result = llm.runTools(ChatRequest.builder("scripted/echo").user("100 °C in °F?").build(),
          List.of(toFahrenheit), ToolLoopOptions.defaults()).toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertEquals("212.0", result.text());
    }
  }

  @Test
  void typedStructuredOutput() throws Exception {
    MockProvider model = MockProvider.builder("scripted")
        .reply("Here you are:\n```json\n{\"number\": \"INV-7\", \"total\": 99.5}\n```").build();
    try (LlmClient llm = client(model)) {
      Invoice invoice = llm.chat(ChatRequest.builder("scripted/echo").user("Extract: invoice INV-7 over 99.50")
          .build(), Invoice.class).toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertEquals(new Invoice("INV-7", 99.5), invoice);
    }
  }

  @Test
  void streamedStructuredOutput() throws Exception {
    MockProvider model = MockProvider.builder("scripted").reply("{\"number\": \"INV-7\", \"total\": 99.5}").build();
    try (LlmClient llm = client(model)) {
      List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
      Structured<Invoice> done = llm.streamStructured(ChatRequest.builder("scripted/echo").user("Invoice INV-7")
              .build(), Invoice.class)
          .toMat(Sink.foreach(p -> seen.add(p.json().toString())), Keep.left()).run(llm.system())
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertEquals(new Invoice("INV-7", 99.5), done.value());
      // The mock streams word by word: the number is complete before the total arrives.
      assertEquals(List.of("{}", "{\"number\":\"INV-7\"}", "{\"number\":\"INV-7\",\"total\":99.5}"), seen);
    }
  }
}
