package io.pekkollm.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ContentPart;
import io.pekkollm.model.Message;
import io.pekkollm.model.ResponseFormat;
import io.pekkollm.model.ToolCall;
import io.pekkollm.model.ToolChoice;
import io.pekkollm.model.ToolDefinition;
import io.pekkollm.model.TruncationStrategy;
import io.pekkollm.util.Json;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The journal's stored-request schema: what journals written before it had its own class hold (captured from
 * that code, the former {@code OpenAiCodec.writeStored}) reads back the same, and is what is still written.
 */
class StoredRequestTest {
  /** Written by the first schema's writer for {@link #everyField()}. */
  private static final String EVERY_FIELD_V1 = """
      {"reasoning_effort":"low","model":"openai/gpt-4o","messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"what is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}},{"type":"image_url","image_url":{"url":"https://x/y.png"}}]},{"role":"user","content":"named","name":"ann"},{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"look","arguments":"{\\"x\\":1}"}}]},{"role":"tool","tool_call_id":"c1","content":"a cat"},{"role":"assistant","content":"done"}],"temperature":0.2,"top_p":0.9,"max_tokens":100,"stop":["END","STOP"],"seed":7,"presence_penalty":0.5,"frequency_penalty":-0.5,"tools":[{"type":"function","function":{"name":"look","description":"d","parameters":{"type":"object"},"strict":true}},{"type":"function","function":{"name":"plain"}}],"tool_choice":{"type":"function","function":{"name":"look"}},"parallel_tool_calls":false,"response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"type":"object"},"strict":true}},"user":"u1","metadata":{"k":"v"}}""";
  /** Written by the first schema's writer for {@link #small()}. */
  private static final String SMALL_V1 = """
      {"model":"mock/echo","messages":[{"role":"user","content":"hi"}],"tool_choice":"auto","response_format":{"type":"json_object"}}""";

  private static ChatRequest everyField() throws Exception {
    return ChatRequest.builder("openai/gpt-4o")
        .system("be brief")
        .addMessage(Message.user(List.of(ContentPart.text("what is this?"),
            ContentPart.imageBase64("image/png", "iVBORw0KGgo=").withDetail("low"), ContentPart.imageUrl("https://x/y.png"))))
        .addMessage(new Message.User(List.of(ContentPart.text("named")), "ann"))
        .addMessage(Message.assistant(null, List.of(new ToolCall("c1", "look", "{\"x\":1}"))))
        .addMessage(Message.tool("c1", "a cat"))
        .addMessage(Message.assistant("done"))
        .temperature(0.2).topP(0.9).maxTokens(100).stop(List.of("END", "STOP")).seed(7L)
        .presencePenalty(0.5).frequencyPenalty(-0.5)
        .tools(List.of(new ToolDefinition("look", "d", Json.parse("{\"type\":\"object\"}"), true),
            ToolDefinition.of("plain", null, null)))
        .toolChoice(ToolChoice.function("look")).parallelToolCalls(false)
        .responseFormat(ResponseFormat.jsonSchema("s", Json.parse("{\"type\":\"object\"}"), true))
        .userId("u1").metadata(Map.of("k", "v"))
        .extraBody(new LinkedHashMap<>(Map.of("reasoning_effort", Json.parse("\"low\""))))
        // The library's own options are not stored.
        .truncation(TruncationStrategy.of("sliding_window"))
        .build();
  }

  private static ChatRequest small() {
    return ChatRequest.builder("mock/echo").user("hi").toolChoice(ToolChoice.AUTO)
        .responseFormat(ResponseFormat.JSON_OBJECT).build();
  }

  @Test
  void aRequestStoredInTheFirstFormatStillReads() throws Exception {
    assertSameStoredFields(everyField(), StoredRequest.read(EVERY_FIELD_V1));
    assertSameStoredFields(small(), StoredRequest.read(SMALL_V1));
    assertNull(StoredRequest.read(EVERY_FIELD_V1).truncation());
  }

  @Test
  void writesTheFirstFormatByteForByte() throws Exception {
    assertEquals(EVERY_FIELD_V1, StoredRequest.write(everyField()));
    assertEquals(SMALL_V1, StoredRequest.write(small()));
  }

  @Test
  void readsWithoutTheGatewaysChecks() {
    // Built in Java, never checked by the gateway's parser: still resumable.
    ChatRequest r = ChatRequest.builder("openai/x").user("hi").temperature(3.5).maxTokens(0).build();
    ChatRequest back = StoredRequest.read(StoredRequest.write(r));
    assertEquals(3.5, back.temperature());
    assertEquals(0, back.maxTokens());
  }

  @Test
  void aDefectiveStoredRequestIsAnIllegalArgument() {
    assertThrows(IllegalArgumentException.class, () -> StoredRequest.read("{not json"));
    assertThrows(IllegalArgumentException.class, () -> StoredRequest.read("{\"model\":\"m/x\"}"));
    assertThrows(IllegalArgumentException.class,
        () -> StoredRequest.read("{\"model\":\"m/x\",\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}"));
  }

  private static void assertSameStoredFields(ChatRequest want, ChatRequest got) {
    assertEquals(want.model(), got.model());
    assertEquals(want.messages(), got.messages());
    assertEquals(want.temperature(), got.temperature());
    assertEquals(want.topP(), got.topP());
    assertEquals(want.maxTokens(), got.maxTokens());
    assertEquals(want.stop(), got.stop());
    assertEquals(want.seed(), got.seed());
    assertEquals(want.presencePenalty(), got.presencePenalty());
    assertEquals(want.frequencyPenalty(), got.frequencyPenalty());
    assertEquals(want.tools(), got.tools());
    assertEquals(want.toolChoice(), got.toolChoice());
    assertEquals(want.parallelToolCalls(), got.parallelToolCalls());
    assertEquals(want.responseFormat(), got.responseFormat());
    assertEquals(want.user(), got.user());
    assertEquals(want.metadata(), got.metadata());
    assertEquals(want.extraBody(), got.extraBody());
  }
}
