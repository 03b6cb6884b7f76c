package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ContentPart;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Message;
import io.pekkollm.model.ResponseFormat;
import io.pekkollm.model.ToolCall;
import io.pekkollm.model.ToolChoice;
import io.pekkollm.util.Json;
import io.pekkollm.wire.openai.OpenAiRequestBody;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The gateway's Chat Completions codec: requests read, answers and chunks written. */
class ChatCompletionsCodecTest {

  private static JsonNode json(String s) throws Exception {
    return Json.parse(s);
  }

  @Test
  void readsEveryModelledFieldAndPassesTheRestThrough() throws Exception {
    ChatCompletionsCodec.ParsedRequest p = ChatCompletionsCodec.readRequest(json("""
        {"model": "openai/gpt-4o", "stream": true, "stream_options": {"include_usage": true},
         "messages": [
           {"role": "developer", "content": "be brief"},
           {"role": "user", "content": [{"type": "text", "text": "what is this?"},
              {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}}]},
           {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
              "function": {"name": "look", "arguments": "{\\"x\\":1}"}}]},
           {"role": "tool", "tool_call_id": "c1", "content": "a cat"}],
         "temperature": 0.2, "top_p": 0.9, "max_completion_tokens": 100, "stop": "END", "seed": 7,
         "tools": [{"type": "function", "function": {"name": "look", "description": "d",
            "parameters": {"type": "object"}, "strict": true}}],
         "tool_choice": {"type": "function", "function": {"name": "look"}}, "parallel_tool_calls": false,
         "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": {"type": "object"}}},
         "user": "u1", "metadata": {"k": "v"}, "reasoning_effort": "low"}"""));
    ChatRequest r = p.request();
    assertTrue(p.stream());
    assertTrue(p.includeUsage());
    assertEquals("openai/gpt-4o", r.model());
    assertEquals(Message.system("be brief"), r.messages().get(0));
    Message.User u = (Message.User) r.messages().get(1);
    ContentPart.Image img = (ContentPart.Image) u.content().get(1);
    assertEquals("image/png", img.mediaType());
    assertEquals("iVBORw0KGgo=", img.base64Data());
    assertEquals("low", img.detail());
    assertEquals(List.of(new ToolCall("c1", "look", "{\"x\":1}")), ((Message.Assistant) r.messages().get(2)).toolCalls());
    assertEquals(Message.tool("c1", "a cat"), r.messages().get(3));
    assertEquals(0.2, r.temperature());
    assertEquals(100, r.maxTokens());
    assertEquals(List.of("END"), r.stop());
    assertEquals(7L, r.seed());
    assertEquals(ToolChoice.function("look"), r.toolChoice());
    assertEquals(false, r.parallelToolCalls());
    assertEquals(ResponseFormat.Type.JSON_SCHEMA, r.responseFormat().type());
    assertEquals("v", r.metadata().get("k"));
    assertEquals("low", r.extraBody().get("reasoning_effort").asText());
  }

  @Test
  void roundTripsThroughTheUpstreamBody() throws Exception {
    ChatRequest r = ChatCompletionsCodec.readRequest(json(
        "{\"model\":\"m/x\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}],\"max_tokens\":5}")).request();
    JsonNode back = OpenAiRequestBody.write(r.withModel("x"), "max_tokens");
    assertEquals(json("{\"model\":\"x\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}],\"max_tokens\":5}"),
        back);
  }

  @Test
  void rejectsBadShapesWithTheFieldNamed() {
    LlmException e = assertThrows(LlmException.class, () -> ChatCompletionsCodec.readRequest(json(
        "{\"model\":\"m/x\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"audio\"}]}]}")));
    assertEquals("messages[0].content", e.param());
    assertThrows(LlmException.class, () -> ChatCompletionsCodec.readRequest(json(
        "{\"model\":\"m/x\",\"messages\":[{\"role\":\"assistant\"}]}")));
    assertThrows(LlmException.class, () -> ChatCompletionsCodec.readRequest(json(
        "{\"model\":\"m/x\",\"messages\":[{\"role\":\"tool\",\"content\":\"x\"}]}")));
    assertThrows(LlmException.class, () -> ChatCompletionsCodec.readRequest(json(
        "{\"model\":\"m/x\",\"tool_choice\":\"sometimes\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")));
    assertThrows(LlmException.class, () -> ChatCompletionsCodec.readRequest(json(
        "{\"model\":\"m/x\",\"max_tokens\":0,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}")));
    assertInstanceOf(LlmException.class, assertThrows(LlmException.class, () -> ChatCompletionsCodec.readRequest(json(
        "{\"model\":\"m/x\",\"response_format\":{\"type\":\"yaml\"},\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}"))));
  }

  @Test
  void writesChunksAndResponsesTheOpenAiWay() throws Exception {
    String first = ChatCompletionsCodec.writeChunk(io.pekkollm.model.ChatChunk.text("hé\n\"q\""), "id1", "mock/echo", 5, true);
    assertTrue(!first.contains("\n"), "one SSE data line: no raw newline");
    JsonNode c = json(first);
    assertEquals("assistant", c.at("/choices/0/delta/role").asText());
    assertEquals("hé\n\"q\"", c.at("/choices/0/delta/content").asText());
    assertTrue(c.at("/choices/0/finish_reason").isNull());
    JsonNode u = json(ChatCompletionsCodec.writeUsageChunk(io.pekkollm.model.Usage.of(3, 4), "id1", "m", 5));
    assertEquals(0, u.get("choices").size());
    assertEquals(7, u.at("/usage/total_tokens").asInt());
  }
}
