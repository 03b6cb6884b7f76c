package io.pekkollm.provider.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ContentPart;
import io.pekkollm.model.Message;
import io.pekkollm.model.ResponseFormat;
import io.pekkollm.model.ToolCall;
import io.pekkollm.model.ToolChoice;
import io.pekkollm.util.Json;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The upstream OpenAI mapper: the request body an OpenAI-compatible host is sent. */
class OpenAiMapperTest {

  private static JsonNode json(String s) throws Exception {
    return Json.parse(s);
  }

  @Test
  void writesWhatItReadsForAnOpenAiCompatibleUpstream() throws Exception {
    ChatRequest r = ChatRequest.builder("gpt-4o")
        .system("sys")
        .addMessage(Message.user(List.of(ContentPart.text("hi"), ContentPart.imageUrl("https://x/y.png"))))
        .addMessage(Message.assistant(null, List.of(new ToolCall("c1", "f", "{}"))))
        .addMessage(Message.tool("c1", "ok"))
        .maxTokens(50).temperature(0.5).stop(List.of("a", "b")).toolChoice(ToolChoice.REQUIRED)
        .responseFormat(ResponseFormat.JSON_OBJECT)
        .extraBody(java.util.Map.of("logit_bias", json("{}"), "model", json("\"must-not-win\"")))
        .build();
    JsonNode w = OpenAiMapper.requestBody(r, true, true, "max_tokens");
    assertEquals(json("""
        {"logit_bias": {}, "model": "gpt-4o", "messages": [
          {"role": "system", "content": "sys"},
          {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "https://x/y.png"}}]},
          {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
          {"role": "tool", "tool_call_id": "c1", "content": "ok"}],
         "temperature": 0.5, "max_tokens": 50, "stop": ["a", "b"], "tool_choice": "required",
         "response_format": {"type": "json_object"}, "stream": true, "stream_options": {"include_usage": true}}"""), w);
    JsonNode nonStream = OpenAiMapper.requestBody(r, false, true, "max_completion_tokens");
    assertEquals(50, nonStream.get("max_completion_tokens").asInt());
    assertTrue(!nonStream.has("stream_options"));
  }
}
