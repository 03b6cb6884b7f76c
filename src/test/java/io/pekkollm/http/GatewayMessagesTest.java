package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.testkit.Sse;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code /v1/messages} on the wire: bad input answered in Anthropic's error shape naming the field, the event
 * stream's exact framing, a stream's recovery id, a mid-stream failure as an {@code error} event, and the blocks
 * the core model carries (images, documents) reaching an OpenAI upstream.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewayMessagesTest {
  private GatewayFixture gw;

  @BeforeAll
  void start() {
    gw = new GatewayFixture("pekko-llm.gateway.max-request-bytes = 4096\n");
  }

  @AfterAll
  void stop() {
    gw.close();
  }

  @BeforeEach
  void reset() {
    gw.upstream.reset();
  }

  private HttpResponse<String> messages(String body) throws Exception {
    return gw.post("/v1/messages", body, "anthropic-version", "2023-06-01");
  }

  static Stream<Arguments> badInput() {
    String msgs = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";
    return Stream.of(
        Arguments.of("missing max_tokens", "{\"model\":\"mock/echo\"," + msgs + "}", 400, "max_tokens"),
        Arguments.of("max_tokens a string", "{\"model\":\"mock/echo\",\"max_tokens\":\"ten\"," + msgs + "}", 400,
            "max_tokens"),
        Arguments.of("missing messages", "{\"model\":\"mock/echo\",\"max_tokens\":10}", 400, "messages"),
        Arguments.of("unknown block type", "{\"model\":\"mock/echo\",\"max_tokens\":10,\"messages\":[{\"role\":"
            + "\"user\",\"content\":[{\"type\":\"hologram\",\"text\":\"x\"}]}]}", 400, "messages[0].content[0].type"),
        Arguments.of("role of a wrong type", "{\"model\":\"mock/echo\",\"max_tokens\":10,\"messages\":[{\"role\":7,"
            + "\"content\":\"x\"}]}", 400, "messages[0].role"),
        Arguments.of("system of a wrong type", "{\"model\":\"mock/echo\",\"max_tokens\":10,\"system\":5," + msgs + "}",
            400, "system"),
        Arguments.of("temperature out of range", "{\"model\":\"mock/echo\",\"max_tokens\":10,\"temperature\":1.5,"
            + msgs + "}", 400, "temperature"),
        Arguments.of("a pdf document", "{\"model\":\"mock/echo\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\","
            + "\"content\":[{\"type\":\"document\",\"source\":{\"type\":\"base64\",\"media_type\":\"application/pdf\","
            + "\"data\":\"JVBERi0=\"}}]}]}", 400, "messages[0].content[0].source.type"),
        Arguments.of("a server tool", "{\"model\":\"mock/echo\",\"max_tokens\":10,\"tools\":[{\"type\":"
            + "\"web_search_20250305\",\"name\":\"web_search\"}]," + msgs + "}", 400, "tools[0].type"),
        Arguments.of("tool without input_schema", "{\"model\":\"mock/echo\",\"max_tokens\":10,\"tools\":[{\"name\":"
            + "\"f\"}]," + msgs + "}", 400, "tools[0].input_schema"),
        Arguments.of("not JSON", "{\"model\":", 400, "JSON"),
        Arguments.of("oversized body", "{\"model\":\"mock/echo\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\","
            + "\"content\":\"" + "x".repeat(5000) + "\"}]}", 413, "max-request-bytes"),
        Arguments.of("unknown bare model", "{\"model\":\"no-such-model-anywhere\",\"max_tokens\":10," + msgs + "}",
            404, "no-such-model-anywhere"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badInput")
  void badInputIsAnAnthropicErrorNamingTheFieldAndTheServerKeepsServing(String name, String body, int status,
      String mentioned) throws Exception {
    HttpResponse<String> r = messages(body);
    assertEquals(status, r.statusCode(), r.body());
    JsonNode error = Json.parse(r.body());
    assertEquals("error", error.path("type").asText(), r.body());
    String type = error.at("/error/type").asText();
    assertEquals(status == 413 ? "request_too_large" : status == 404 ? "not_found_error" : "invalid_request_error",
        type, r.body());
    assertTrue(error.at("/error/message").asText().contains(mentioned), r.body());
    assertEquals(0, gw.upstream.requestCount());
    HttpResponse<String> ok = messages("{\"model\":\"mock/echo\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\","
        + "\"content\":\"still here\"}]}");
    assertEquals(200, ok.statusCode(), ok.body());
    assertEquals("still here", Json.parse(ok.body()).at("/content/0/text").asText());
  }

  @Test
  void streamsAnthropicsEventSequenceWithARecoveryId() throws Exception {
    HttpResponse<String> r = messages("{\"model\":\"mock/echo\",\"max_tokens\":50,\"stream\":true,"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"one two three\"}]}");
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
    assertTrue(r.headers().firstValue("X-Recovery-Id").isPresent(), r.headers().toString());
    List<Sse.Event> events = Sse.parse(r.body());
    List<String> types = events.stream().map(Sse.Event::type).distinct().toList();
    assertEquals(List.of("message_start", "ping", "content_block_start", "content_block_delta", "content_block_stop",
        "message_delta", "message_stop"), types, r.body());
    StringBuilder text = new StringBuilder();
    for (Sse.Event e : events) {
      JsonNode data = e.json();
      assertEquals(e.type(), data.path("type").asText(), "the event line names the payload's type");
      if (e.type().equals("content_block_delta")) {
        text.append(data.at("/delta/text").asText());
      }
    }
    assertEquals("one two three", text.toString());
    JsonNode delta = events.get(events.size() - 2).json();
    assertEquals("end_turn", delta.at("/delta/stop_reason").asText());
    assertTrue(delta.at("/usage/output_tokens").asInt() > 0, delta.toString());
    assertTrue(r.body().startsWith("event: message_start\ndata: {\"type\":\"message_start\""), r.body());
  }

  @Test
  void aMidStreamFailureIsAnErrorEventAfterTheTextSoFar() throws Exception {
    gw.upstream.enqueue(Reply.fixtureSse("openai/chat-stream-midstream-error.sse"));
    HttpResponse<String> r = messages("{\"model\":\"openai/gpt-4o\",\"max_tokens\":50,\"stream\":true,"
        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertEquals(200, r.statusCode(), r.body());
    List<Sse.Event> events = Sse.parse(r.body());
    Sse.Event last = events.get(events.size() - 1);
    assertEquals("error", last.type(), r.body());
    assertEquals("error", last.json().path("type").asText());
    assertTrue(last.json().at("/error/type").isTextual(), last.data());
    assertTrue(events.stream().noneMatch(e -> "message_stop".equals(e.type())), r.body());
  }

  @Test
  void imagesDocumentsAndToolResultsReachAnOpenAiUpstreamInItsFormat() throws Exception {
    gw.upstream.enqueue(Reply.fixtureJson(200, "openai/chat-nonstream.json"));
    HttpResponse<String> r = messages("{\"model\":\"openai/gpt-4o\",\"max_tokens\":50,"
        + "\"system\":[{\"type\":\"text\",\"text\":\"Be brief.\"}],\"messages\":["
        + "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"Look:\"},"
        + "{\"type\":\"image\",\"source\":{\"type\":\"base64\",\"media_type\":\"image/png\",\"data\":\"iVBORw0KGgo=\"}},"
        + "{\"type\":\"image\",\"source\":{\"type\":\"url\",\"url\":\"https://example.com/cat.png\"}},"
        + "{\"type\":\"document\",\"title\":\"Notes\",\"source\":{\"type\":\"text\",\"media_type\":\"text/plain\","
        + "\"data\":\"Cats sleep a lot.\"}}]},"
        + "{\"role\":\"assistant\",\"content\":[{\"type\":\"thinking\",\"thinking\":\"hm\",\"signature\":\"s\"},"
        + "{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"lookup\",\"input\":{\"q\":\"cats\"}}]},"
        + "{\"role\":\"user\",\"content\":[{\"type\":\"tool_result\",\"tool_use_id\":\"toolu_1\","
        + "\"content\":[{\"type\":\"text\",\"text\":\"found 3\"}]}]}],"
        + "\"tools\":[{\"name\":\"lookup\",\"input_schema\":{\"type\":\"object\"}}],"
        + "\"tool_choice\":{\"type\":\"any\",\"disable_parallel_tool_use\":true},\"stop_sequences\":[\"END\"],"
        + "\"metadata\":{\"user_id\":\"u-1\"},\"thinking\":{\"type\":\"enabled\",\"budget_tokens\":2048}}");
    assertEquals(200, r.statusCode(), r.body());
    JsonNode sent = Json.parse(gw.upstream.requests().get(0).body());
    JsonNode msgs = sent.path("messages");
    assertEquals("Be brief.", msgs.get(0).path("content").asText());
    JsonNode parts = msgs.get(1).path("content");
    assertEquals("Look:", parts.get(0).path("text").asText());
    assertEquals("data:image/png;base64,iVBORw0KGgo=", parts.get(1).at("/image_url/url").asText());
    assertEquals("https://example.com/cat.png", parts.get(2).at("/image_url/url").asText());
    assertEquals("Notes\n\nCats sleep a lot.", parts.get(3).path("text").asText());
    assertEquals("lookup", msgs.get(2).at("/tool_calls/0/function/name").asText());
    assertEquals("{\"q\":\"cats\"}", msgs.get(2).at("/tool_calls/0/function/arguments").asText());
    assertEquals("tool", msgs.get(3).path("role").asText());
    assertEquals("toolu_1", msgs.get(3).path("tool_call_id").asText());
    assertEquals("found 3", msgs.get(3).path("content").asText());
    assertEquals("required", sent.path("tool_choice").asText());
    assertEquals(false, sent.path("parallel_tool_calls").asBoolean(true));
    assertEquals("END", sent.at("/stop/0").asText());
    assertEquals("u-1", sent.path("user").asText());
    assertTrue(!sent.has("thinking"), "Anthropic's thinking is not sent to OpenAI: " + sent);
  }

  @Test
  void countTokensAnswersInputTokens() throws Exception {
    HttpResponse<String> r = gw.post("/v1/messages/count_tokens", "{\"model\":\"openai/gpt-4o\",\"messages\":"
        + "[{\"role\":\"user\",\"content\":\"Hello world\"}]}");
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(Json.parse(r.body()).path("input_tokens").asInt() > 0, r.body());
    HttpResponse<String> bad = gw.post("/v1/messages/count_tokens", "{\"model\":\"openai/gpt-4o\"}");
    assertEquals(400, bad.statusCode());
    assertTrue(bad.body().contains("messages"), bad.body());
  }
}
