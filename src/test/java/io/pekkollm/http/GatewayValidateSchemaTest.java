package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** {@code "validate_schema": true} on /v1/chat/completions: schema-valid output, a repair retry, or a 422. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewayValidateSchemaTest {
  private static final String SCHEMA = "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"},"
      + "\"temp\":{\"type\":\"number\"}},\"required\":[\"city\",\"temp\"],\"additionalProperties\":false}";
  private GatewayFixture gw;

  @BeforeAll
  void start() {
    gw = new GatewayFixture("pekko-llm.recovery.enabled = off");
  }

  @AfterAll
  void stop() {
    gw.close();
  }

  @BeforeEach
  void reset() {
    gw.upstream.reset();
  }

  private static String body(String extra) {
    return "{\"model\":\"openai/gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Oslo?\"}],"
        + "\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"weather\",\"schema\":" + SCHEMA
        + "}}" + extra + "}";
  }

  private static Reply answer(String content) throws Exception {
    return Reply.json(200, "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"model\":\"gpt-4o-mini\","
        + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":" + Json.MAPPER.writeValueAsString(content)
        + "},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5,\"total_tokens\":15}}");
  }

  @Test
  void aValidAnswerIsServedAsItsJson() throws Exception {
    gw.upstream.enqueue(answer("{\"city\":\"Oslo\",\"temp\":4.5}"));
    HttpResponse<String> r = gw.post("/v1/chat/completions", body(",\"validate_schema\":true"));
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("{\"city\":\"Oslo\",\"temp\":4.5}",
        Json.parse(r.body()).get("choices").get(0).get("message").get("content").asText());
    assertEquals("1", r.headers().firstValue("X-Schema-Attempts").orElse(""));
    JsonNode sent = Json.parse(gw.upstream.requests().get(0).body());
    assertFalse(sent.has("validate_schema"), "the gateway's own field is never sent upstream");
    assertEquals("json_schema", sent.get("response_format").get("type").asText());
  }

  @Test
  void anInvalidAnswerIsRepairedAndTheFencedJsonExtracted() throws Exception {
    gw.upstream.enqueue(answer("{\"city\":\"Oslo\"}"));
    gw.upstream.enqueue(answer("Sure:\n```json\n{\"city\":\"Oslo\",\"temp\":4}\n```"));
    HttpResponse<String> r = gw.post("/v1/chat/completions", body(",\"validate_schema\":true"));
    assertEquals(200, r.statusCode(), r.body());
    assertEquals("{\"city\":\"Oslo\",\"temp\":4}",
        Json.parse(r.body()).get("choices").get(0).get("message").get("content").asText());
    assertEquals("2", r.headers().firstValue("X-Schema-Attempts").orElse(""));
    JsonNode second = Json.parse(gw.upstream.requests().get(1).body()).get("messages");
    assertEquals(3, second.size());
    assertEquals("{\"city\":\"Oslo\"}", second.get(1).get("content").asText());
    assertTrue(second.get(2).get("content").asText().contains("temp"), second.toString());
  }

  @Test
  void answersThatNeverMatchGive422WithEveryAttempt() throws Exception {
    for (int i = 0; i < 3; i++) {
      gw.upstream.enqueue(answer("{\"city\":" + i + "}"));
    }
    HttpResponse<String> r = gw.post("/v1/chat/completions", body(",\"validate_schema\":true"));
    assertEquals(422, r.statusCode(), r.body());
    JsonNode error = Json.parse(r.body()).get("error");
    assertEquals("schema_validation_failed", error.get("code").asText());
    assertEquals("response_format", error.get("param").asText());
    assertEquals(3, error.get("attempts").size());
    assertEquals("{\"city\":0}", error.get("attempts").get(0).get("raw_text").asText());
    assertTrue(error.get("attempts").get(0).get("errors").size() >= 2, error.toString());
    assertEquals(3, gw.upstream.requestCount());
  }

  @Test
  void badUsesAre400AndTheGatewayKeepsServing() throws Exception {
    HttpResponse<String> noFormat = gw.post("/v1/chat/completions", "{\"model\":\"openai/gpt-4o-mini\","
        + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"validate_schema\":true}");
    assertEquals(400, noFormat.statusCode());
    assertEquals("validate_schema", Json.parse(noFormat.body()).get("error").get("param").asText());
    HttpResponse<String> streamed = gw.post("/v1/chat/completions", body(",\"validate_schema\":true,\"stream\":true"));
    assertEquals(400, streamed.statusCode());
    HttpResponse<String> badSchema = gw.post("/v1/chat/completions", "{\"model\":\"openai/gpt-4o-mini\","
        + "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"response_format\":{\"type\":\"json_schema\","
        + "\"json_schema\":{\"name\":\"w\",\"schema\":{\"type\":\"nope\"}}},\"validate_schema\":true}");
    assertEquals(400, badSchema.statusCode(), badSchema.body());
    HttpResponse<String> notBool = gw.post("/v1/chat/completions", body(",\"validate_schema\":\"yes\""));
    assertEquals(400, notBool.statusCode());
    assertEquals(0, gw.upstream.requestCount());

    gw.upstream.enqueue(answer("{\"city\":\"Oslo\",\"temp\":1}"));
    assertEquals(200, gw.post("/v1/chat/completions", body(",\"validate_schema\":true")).statusCode());
  }
}
