package io.pekkollm.provider.anthropic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ContentPart;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Message;
import io.pekkollm.model.ResponseFormat;
import io.pekkollm.model.ToolCall;
import io.pekkollm.model.ToolChoice;
import io.pekkollm.model.ToolDefinition;
import io.pekkollm.util.Json;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Request translation to the Messages API, asserted as the exact JSON sent. */
class AnthropicMapperTest {

  private static JsonNode json(String text) {
    try {
      return Json.parse(text);
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
  }

  /** Compares serialized forms, so key order and number formatting count too. */
  private static void assertJson(String expected, JsonNode actual) {
    assertEquals(Json.write(json(expected)), Json.write(actual));
  }

  private static JsonNode translate(ChatRequest r) {
    return AnthropicMapper.toRequest(r, false, 4096);
  }

  @Test
  void maxTokensDefaultsBecauseTheApiRequiresIt() {
    assertJson("{\"model\":\"claude-3-5-haiku-20241022\",\"max_tokens\":4096,"
            + "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}",
        translate(ChatRequest.builder("claude-3-5-haiku-20241022").user("Hi").build()));
    assertJson("{\"model\":\"m\",\"max_tokens\":333,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"stream\":true}",
        AnthropicMapper.toRequest(ChatRequest.builder("m").user("Hi").maxTokens(333).build(), true, 4096));
    assertJson("{\"model\":\"m\",\"max_tokens\":1024,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}",
        AnthropicMapper.toRequest(ChatRequest.builder("m").user("Hi").build(), false, 1024));
  }

  @Test
  void systemMessagesGoToTheTopLevelSystemField() {
    assertJson("{\"model\":\"m\",\"max_tokens\":4096,\"system\":\"Be terse.\","
            + "\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}]}",
        translate(ChatRequest.builder("m").system("Be terse.").user("Hi").build()));
    // Several (even one late in the conversation) are kept as separate text blocks, in order.
    assertJson("{\"model\":\"m\",\"max_tokens\":4096,\"system\":[{\"type\":\"text\",\"text\":\"A\"},"
            + "{\"type\":\"text\",\"text\":\"B\"}],\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"},"
            + "{\"role\":\"assistant\",\"content\":\"Hello\"},{\"role\":\"user\",\"content\":\"Bye\"}]}",
        translate(ChatRequest.builder("m").system("A").user("Hi").assistant("Hello").system("B").user("Bye").build()));
  }

  @Test
  void consecutiveSameRoleMessagesAreMergedIntoOneTurn() {
    assertJson("{\"model\":\"m\",\"max_tokens\":4096,\"messages\":[{\"role\":\"user\",\"content\":["
            + "{\"type\":\"text\",\"text\":\"one\"},{\"type\":\"text\",\"text\":\"two\"}]},"
            + "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\",\"text\":\"b\"}]},"
            + "{\"role\":\"user\",\"content\":\"three\"}]}",
        translate(ChatRequest.builder("m").user("one").user("two").assistant("a").assistant("b").user("three").build()));
  }

  @Test
  void toolsToolChoiceAndParallelism() {
    JsonNode params = json("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}");
    List<ToolDefinition> tools = List.of(ToolDefinition.of("get_weather", "Weather by city", params),
        ToolDefinition.of("now", null, null));
    String toolsJson = "\"tools\":[{\"name\":\"get_weather\",\"description\":\"Weather by city\",\"input_schema\":"
        + Json.write(params) + "},{\"name\":\"now\",\"input_schema\":{\"type\":\"object\",\"properties\":{}}}]";
    ChatRequest.Builder base = ChatRequest.builder("m").user("Hi").tools(tools);
    String head = "{\"model\":\"m\",\"max_tokens\":4096,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],";
    assertJson(head + toolsJson + "}", translate(base.build()));
    assertJson(head + toolsJson + ",\"tool_choice\":{\"type\":\"auto\"}}", translate(base.toolChoice(ToolChoice.AUTO).build()));
    assertJson(head + toolsJson + ",\"tool_choice\":{\"type\":\"none\"}}", translate(base.toolChoice(ToolChoice.NONE).build()));
    assertJson(head + toolsJson + ",\"tool_choice\":{\"type\":\"any\"}}",
        translate(base.toolChoice(ToolChoice.REQUIRED).build()));
    assertJson(head + toolsJson + ",\"tool_choice\":{\"type\":\"tool\",\"name\":\"now\"}}",
        translate(base.toolChoice(ToolChoice.function("now")).build()));
    assertJson(head + toolsJson + ",\"tool_choice\":{\"type\":\"any\",\"disable_parallel_tool_use\":true}}",
        translate(base.toolChoice(ToolChoice.REQUIRED).parallelToolCalls(false).build()));
    assertJson(head + toolsJson + ",\"tool_choice\":{\"type\":\"auto\",\"disable_parallel_tool_use\":true}}",
        translate(base.toolChoice(null).parallelToolCalls(false).build()));
    // Without tools a tool_choice has nothing to choose from and is not sent.
    assertJson(head.substring(0, head.length() - 1) + "}",
        translate(ChatRequest.builder("m").user("Hi").toolChoice(ToolChoice.AUTO).build()));
  }

  @Test
  void toolCallsAndResultsBecomeToolUseAndToolResultBlocks() {
    ChatRequest r = ChatRequest.builder("m")
        .user("Weather in Paris and Rome?")
        .addMessage(Message.assistant("Checking both.", List.of(new ToolCall("toolu_1", "get_weather", "{\"city\":\"Paris\"}"),
            new ToolCall("toolu_2", "get_weather", "{\"city\":\"Rome\"}"))))
        .addMessage(Message.tool("toolu_1", "18C"))
        .addMessage(Message.tool("toolu_2", "25C"))
        .user("And tomorrow?")
        .build();
    assertJson("{\"model\":\"m\",\"max_tokens\":4096,\"messages\":["
        + "{\"role\":\"user\",\"content\":\"Weather in Paris and Rome?\"},"
        + "{\"role\":\"assistant\",\"content\":[{\"type\":\"text\",\"text\":\"Checking both.\"},"
        + "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"get_weather\",\"input\":{\"city\":\"Paris\"}},"
        + "{\"type\":\"tool_use\",\"id\":\"toolu_2\",\"name\":\"get_weather\",\"input\":{\"city\":\"Rome\"}}]},"
        + "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\",\"content\":\"18C\"},"
        + "{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_2\",\"content\":\"25C\"},"
        + "{\"type\":\"text\",\"text\":\"And tomorrow?\"}]}]}", translate(r));
  }

  @Test
  void toolResultsComeFirstInTheirUserTurnWhateverTheMessageOrder() {
    ChatRequest r = ChatRequest.builder("m")
        .user("Go")
        .addMessage(Message.assistant(null, List.of(new ToolCall("toolu_1", "now", ""))))
        .user("(note)")
        .addMessage(Message.tool("toolu_1", "noon"))
        .build();
    assertJson("{\"model\":\"m\",\"max_tokens\":4096,\"messages\":[{\"role\":\"user\",\"content\":\"Go\"},"
        + "{\"role\":\"assistant\",\"content\":[{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"now\",\"input\":{}}]},"
        + "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\",\"content\":\"noon\"},"
        + "{\"type\":\"text\",\"text\":\"(note)\"}]}]}", translate(r));
  }

  @Test
  void toolCallArgumentsThatAreNotAJsonObjectAreRefused() {
    ChatRequest r = ChatRequest.builder("m").user("Go")
        .addMessage(Message.assistant(null, List.of(new ToolCall("toolu_1", "f", "[1, 2]")))).build();
    LlmException e = assertThrows(LlmException.class, () -> translate(r));
    assertEquals(ErrorKind.INVALID_REQUEST, e.kind());
    assertEquals("messages[1].tool_calls", e.param());
  }

  @Test
  void imagesAsBase64AndAsUrl() {
    ChatRequest r = ChatRequest.builder("m").addMessage(Message.user(List.of(ContentPart.text("What is this?"),
        ContentPart.imageBase64("image/jpeg", "/9j/4AAQ"), ContentPart.imageUrl("https://example.com/cat.png"))))
        .build();
    assertJson("{\"model\":\"m\",\"max_tokens\":4096,\"messages\":[{\"role\":\"user\",\"content\":["
        + "{\"type\":\"text\",\"text\":\"What is this?\"},"
        + "{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":\"image/jpeg\",\"data\":\"/9j/4AAQ\"}},"
        + "{\"type\":\"image\",\"source\":{\"type\":\"url\",\"url\":\"https://example.com/cat.png\"}}]}]}", translate(r));
  }

  @Test
  void aTrailingAssistantMessageIsSentAsPrefillWithoutTrailingWhitespace() {
    assertJson("{\"model\":\"m\",\"max_tokens\":4096,\"messages\":[{\"role\":\"user\",\"content\":\"List three colors as JSON\"},"
            + "{\"role\":\"assistant\",\"content\":\"{\\\"colors\\\": [\"}]}",
        translate(ChatRequest.builder("m").user("List three colors as JSON").assistant("{\"colors\": [ \n").build()));
    // Whitespace inside earlier assistant turns is left alone.
    assertJson("{\"model\":\"m\",\"max_tokens\":4096,\"messages\":[{\"role\":\"user\",\"content\":\"a\"},"
            + "{\"role\":\"assistant\",\"content\":\"b \"},{\"role\":\"user\",\"content\":\"c\"}]}",
        translate(ChatRequest.builder("m").user("a").assistant("b ").user("c").build()));
    // A prefill of only whitespace would be an empty block, which the API rejects: nothing is sent for it.
    assertJson("{\"model\":\"m\",\"max_tokens\":4096,\"messages\":[{\"role\":\"user\",\"content\":\"a\"}]}",
        translate(ChatRequest.builder("m").user("a").assistant("  ").build()));
  }

  @Test
  void jsonSchemaIsEmulatedWithOneForcedTool() {
    JsonNode schema = json("{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}},\"required\":[\"n\"]}");
    ChatRequest r = ChatRequest.builder("m").user("Pick a number")
        .responseFormat(ResponseFormat.jsonSchema("pick.number", schema, true)).build();
    assertEquals("pick_number", AnthropicMapper.jsonToolName(r));
    assertJson("{\"model\":\"m\",\"max_tokens\":4096,\"messages\":[{\"role\":\"user\",\"content\":\"Pick a number\"}],"
        + "\"tools\":[{\"name\":\"pick_number\",\"description\":\"Respond with a JSON value matching the schema "
        + "'pick.number'.\",\"input_schema\":" + Json.write(schema) + "}],"
        + "\"tool_choice\":{\"type\":\"tool\",\"name\":\"pick_number\"}}", translate(r));
  }

  @Test
  void jsonObjectModeIsAForcedToolTakingAnyObject() {
    ChatRequest r = ChatRequest.builder("m").user("JSON please").responseFormat(ResponseFormat.JSON_OBJECT).build();
    assertJson("{\"model\":\"m\",\"max_tokens\":4096,\"messages\":[{\"role\":\"user\",\"content\":\"JSON please\"}],"
        + "\"tools\":[{\"name\":\"json_response\",\"description\":\"Respond with a JSON object.\","
        + "\"input_schema\":{\"type\":\"object\"}}],\"tool_choice\":{\"type\":\"tool\",\"name\":\"json_response\"}}",
        translate(r));
    assertEquals(null, AnthropicMapper.jsonToolName(ChatRequest.builder("m").user("x")
        .responseFormat(ResponseFormat.TEXT).build()));
  }

  @Test
  void samplingStopUserAndOnlyAnthropicsOwnExtraFields() {
    ChatRequest r = ChatRequest.builder("m").user("Hi")
        .temperature(0.2).topP(0.9).stop(List.of("\n\nHuman:", "END"))
        .seed(42L).presencePenalty(0.5).frequencyPenalty(0.5)
        .userId("user-7")
        .extraBody(Map.of("top_k", json("40"), "logit_bias", json("{\"50256\": -100}")))
        .build();
    assertJson("{\"top_k\":40,\"model\":\"m\",\"max_tokens\":4096,\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
        + "\"temperature\":0.2,\"top_p\":0.9,\"stop_sequences\":[\"\\n\\nHuman:\",\"END\"],"
        + "\"metadata\":{\"user_id\":\"user-7\"}}", translate(r));
  }

  @Test
  void usageCountsCacheTokensInsideTheInput() {
    JsonNode u = json("{\"input_tokens\":10,\"cache_creation_input_tokens\":20,\"cache_read_input_tokens\":30,"
        + "\"output_tokens\":5}");
    assertEquals(new io.pekkollm.model.Usage(60, 5, 30, 20, 0), AnthropicMapper.usage(u, null));
    // A later report without some fields keeps the earlier values.
    AnthropicMapper.Counts start = AnthropicMapper.counts(u, null);
    assertEquals(new io.pekkollm.model.Usage(60, 9, 30, 20, 0),
        AnthropicMapper.usage(json("{\"output_tokens\":9}"), start));
  }
}
