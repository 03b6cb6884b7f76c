package io.pekkollm.provider.gemini;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ContentPart;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Message;
import io.pekkollm.model.ProviderException;
import io.pekkollm.model.ResponseFormat;
import io.pekkollm.model.ToolCall;
import io.pekkollm.model.ToolChoice;
import io.pekkollm.model.ToolDefinition;
import io.pekkollm.provider.ErrorClassifier;
import io.pekkollm.testkit.Fixtures;
import io.pekkollm.util.Json;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Request translation to the Gemini API asserted as the exact JSON sent, plus error-body and schema details. */
class GeminiMapperTest {

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

  @Test
  void systemMessagesBecomeSystemInstructionAndAssistantIsModel() {
    ChatRequest r = ChatRequest.builder("gemini-1.5-flash").system("Be terse.").user("Hi").assistant("Hello!")
        .system("Answer in French.").user("How are you?").build();
    assertJson("{\"system_instruction\":{\"parts\":[{\"text\":\"Be terse.\"},{\"text\":\"Answer in French.\"}]},"
        + "\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Hi\"}]},"
        + "{\"role\":\"model\",\"parts\":[{\"text\":\"Hello!\"}]},"
        + "{\"role\":\"user\",\"parts\":[{\"text\":\"How are you?\"}]}]}", GeminiMapper.toRequest(r));
  }

  @Test
  void consecutiveSameRoleMessagesAreMerged() {
    ChatRequest r = ChatRequest.builder("m").user("one").user("two").assistant("a").assistant("b").build();
    assertJson("{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"one\"},{\"text\":\"two\"}]},"
        + "{\"role\":\"model\",\"parts\":[{\"text\":\"a\"},{\"text\":\"b\"}]}]}", GeminiMapper.toRequest(r));
  }

  @Test
  void toolsAndToolConfig() {
    JsonNode params = json("{\"type\":\"object\",\"properties\":{\"location\":{\"type\":\"string\"}},\"required\":[\"location\"]}");
    List<ToolDefinition> tools = List.of(ToolDefinition.of("weather", "Weather by place", params),
        ToolDefinition.of("now", null, json("{\"type\":\"object\",\"properties\":{}}")));
    String head = "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Hi\"}]}],\"tools\":[{\"functionDeclarations\":["
        + "{\"name\":\"weather\",\"description\":\"Weather by place\",\"parameters\":" + Json.write(params) + "},"
        + "{\"name\":\"now\"}]}]";
    ChatRequest.Builder b = ChatRequest.builder("m").user("Hi").tools(tools);
    assertJson(head + "}", GeminiMapper.toRequest(b.build()));
    assertJson(head + ",\"toolConfig\":{\"functionCallingConfig\":{\"mode\":\"AUTO\"}}}",
        GeminiMapper.toRequest(b.toolChoice(ToolChoice.AUTO).build()));
    assertJson(head + ",\"toolConfig\":{\"functionCallingConfig\":{\"mode\":\"NONE\"}}}",
        GeminiMapper.toRequest(b.toolChoice(ToolChoice.NONE).build()));
    assertJson(head + ",\"toolConfig\":{\"functionCallingConfig\":{\"mode\":\"ANY\"}}}",
        GeminiMapper.toRequest(b.toolChoice(ToolChoice.REQUIRED).build()));
    assertJson(head + ",\"toolConfig\":{\"functionCallingConfig\":{\"mode\":\"ANY\",\"allowedFunctionNames\":[\"weather\"]}}}",
        GeminiMapper.toRequest(b.toolChoice(ToolChoice.function("weather")).build()));
  }

  @Test
  void toolCallsAndResultsBecomeFunctionCallAndFunctionResponseParts() {
    ChatRequest r = ChatRequest.builder("m")
        .user("Weather in Paris and Rome?")
        .addMessage(Message.assistant(null, List.of(new ToolCall("call_x_0", "weather", "{\"location\":\"Paris\"}"),
            new ToolCall("call_x_1", "weather", "{\"location\":\"Rome\"}"))))
        .addMessage(Message.tool("call_x_0", "{\"temp_c\": 18}"))
        .addMessage(Message.tool("call_x_1", "25C and sunny"))
        .build();
    // Both results in one user turn, each named after the call it answers; a non-object result is wrapped.
    assertJson("{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Weather in Paris and Rome?\"}]},"
        + "{\"role\":\"model\",\"parts\":[{\"functionCall\":{\"name\":\"weather\",\"args\":{\"location\":\"Paris\"}}},"
        + "{\"functionCall\":{\"name\":\"weather\",\"args\":{\"location\":\"Rome\"}}}]},"
        + "{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":\"weather\",\"response\":{\"temp_c\":18}}},"
        + "{\"functionResponse\":{\"name\":\"weather\",\"response\":{\"output\":\"25C and sunny\"}}}]}]}",
        GeminiMapper.toRequest(r));
  }

  @Test
  void aThoughtSignatureCarriedInTheCallIdGoesBackNextToItsFunctionCall() {
    String id = GeminiMapper.callId("resp1", 0, "EqUCCq+/=");
    assertEquals("call_resp1_0~EqUCCq+/=", id);
    assertEquals("EqUCCq+/=", GeminiMapper.signatureOf(id));
    assertNull(GeminiMapper.signatureOf("call_resp1_0"));
    assertEquals("call_resp1_1", GeminiMapper.callId("resp1", 1, null));
    ChatRequest r = ChatRequest.builder("m").user("Go")
        .addMessage(Message.assistant(null, List.of(new ToolCall(id, "now", "{}"), new ToolCall("toolu_other", "now", ""))))
        .addMessage(Message.tool(id, "noon"))
        .addMessage(Message.tool("toolu_other", "noon"))
        .build();
    assertJson("{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Go\"}]},"
        + "{\"role\":\"model\",\"parts\":[{\"functionCall\":{\"name\":\"now\",\"args\":{}},\"thoughtSignature\":\"EqUCCq+/=\"},"
        + "{\"functionCall\":{\"name\":\"now\",\"args\":{}}}]},"
        + "{\"role\":\"user\",\"parts\":[{\"functionResponse\":{\"name\":\"now\",\"response\":{\"output\":\"noon\"}}},"
        + "{\"functionResponse\":{\"name\":\"now\",\"response\":{\"output\":\"noon\"}}}]}]}", GeminiMapper.toRequest(r));
  }

  @Test
  void aToolResultForAnUnknownCallIsRefused() {
    ChatRequest r = ChatRequest.builder("m").user("Hi").addMessage(Message.tool("call_nowhere", "x")).build();
    LlmException e = assertThrows(LlmException.class, () -> GeminiMapper.toRequest(r));
    assertEquals(ErrorKind.INVALID_REQUEST, e.kind());
    assertEquals("messages[1].tool_call_id", e.param());
  }

  @Test
  void imagesAsInlineDataAndFileData() {
    ChatRequest r = ChatRequest.builder("m").addMessage(Message.user(List.of(ContentPart.text("Compare"),
        ContentPart.imageBase64("image/jpeg", "/9j/4AAQ"), ContentPart.imageUrl("https://example.com/a.webp?x=1"),
        ContentPart.imageUrl("gs://bucket/photo")))).build();
    assertJson("{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Compare\"},"
        + "{\"inlineData\":{\"mimeType\":\"image/jpeg\",\"data\":\"/9j/4AAQ\"}},"
        + "{\"fileData\":{\"mimeType\":\"image/webp\",\"fileUri\":\"https://example.com/a.webp?x=1\"}},"
        + "{\"fileData\":{\"mimeType\":\"image/jpeg\",\"fileUri\":\"gs://bucket/photo\"}}]}]}", GeminiMapper.toRequest(r));
  }

  @Test
  void generationConfigCarriesSamplingLimitsStopAndJsonMode() {
    ChatRequest r = ChatRequest.builder("m").user("Hi").temperature(0.3).topP(0.8).maxTokens(256)
        .stop(List.of("END")).seed(7L).presencePenalty(0.1).frequencyPenalty(0.2)
        .responseFormat(ResponseFormat.JSON_OBJECT)
        .extraBody(Map.of("topK", json("20"), "safetySettings", json("[{\"category\":\"HARM_CATEGORY_HARASSMENT\","
            + "\"threshold\":\"BLOCK_NONE\"}]"), "logit_bias", json("{}")))
        .build();
    assertJson("{\"safetySettings\":[{\"category\":\"HARM_CATEGORY_HARASSMENT\",\"threshold\":\"BLOCK_NONE\"}],"
        + "\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Hi\"}]}],"
        + "\"generationConfig\":{\"topK\":20,\"temperature\":0.3,\"topP\":0.8,\"maxOutputTokens\":256,"
        + "\"stopSequences\":[\"END\"],\"seed\":7,\"presencePenalty\":0.1,\"frequencyPenalty\":0.2,"
        + "\"responseMimeType\":\"application/json\"}}", GeminiMapper.toRequest(r));
  }

  @Test
  void jsonSchemaBecomesResponseSchemaInGeminisSubset() {
    JsonNode schema = json("{\"$schema\":\"http://json-schema.org/draft-07/schema#\",\"type\":\"object\","
        + "\"additionalProperties\":false,\"properties\":{"
        + "\"name\":{\"type\":\"string\",\"description\":\"Full name\"},"
        + "\"age\":{\"type\":[\"integer\",\"null\"],\"minimum\":0},"
        + "\"kind\":{\"const\":\"person\"},"
        + "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\",\"additionalProperties\":false}},"
        + "\"pet\":{\"oneOf\":[{\"type\":\"string\"},{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}}}]}},"
        + "\"required\":[\"name\"]}");
    ChatRequest r = ChatRequest.builder("m").user("Who?").responseFormat(ResponseFormat.jsonSchema("person", schema, true))
        .build();
    assertJson("{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Who?\"}]}],\"generationConfig\":{"
        + "\"responseMimeType\":\"application/json\",\"responseSchema\":{\"type\":\"object\",\"properties\":{"
        + "\"name\":{\"type\":\"string\",\"description\":\"Full name\"},"
        + "\"age\":{\"type\":\"integer\",\"nullable\":true,\"minimum\":0},"
        + "\"kind\":{\"enum\":[\"person\"]},"
        + "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
        + "\"pet\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}}}]}},"
        + "\"required\":[\"name\"]}}}", GeminiMapper.toRequest(r));
  }

  @Test
  void errorBodiesGiveStatusReasonAndRetryDelay() {
    ErrorClassifier.ErrorDetails key = GeminiMapper.errorDetails(Fixtures.text("gemini/error-400-api-key-invalid.json"));
    assertEquals("INVALID_ARGUMENT", key.type());
    assertEquals("API_KEY_INVALID", key.code());
    assertEquals("API key not valid. Please pass a valid API key.", key.message());
    assertNull(key.retryAfter());
    ErrorClassifier.ErrorDetails quota = GeminiMapper.errorDetails(Fixtures.text("gemini/error-429-resource-exhausted.json"));
    assertEquals("RESOURCE_EXHAUSTED", quota.type());
    assertEquals("429", quota.code());
    assertEquals(Duration.ofMillis(34_400), quota.retryAfter());
    // The classifier decides; the body's hint becomes retryAfter when no header gives one.
    ProviderException e = ErrorClassifier.fromHttp("gemini", 429, Map.of(), "{}", quota, Instant.EPOCH);
    assertEquals(ErrorKind.RATE_LIMITED, e.kind());
    assertEquals(Duration.ofMillis(34_400), e.retryAfter().orElseThrow());
    // Streams without alt=sse wrap the error in an array.
    assertEquals("NOT_FOUND", GeminiMapper.errorDetails("[" + Fixtures.text("gemini/error-404-model-not-found-on-stream.json")
        + "]").type());
  }

  @Test
  void protobufDurationsParse() {
    assertEquals(Duration.ofSeconds(17), GeminiMapper.protoDuration("17s"));
    assertEquals(Duration.ofMillis(34_400), GeminiMapper.protoDuration("34.4s"));
    assertEquals(Duration.ofNanos(1_000), GeminiMapper.protoDuration("0.000001s"));
    assertNull(GeminiMapper.protoDuration("17"));
    assertNull(GeminiMapper.protoDuration("-1s"));
    assertNull(GeminiMapper.protoDuration("soon"));
    assertNull(GeminiMapper.protoDuration(null));
  }
}
