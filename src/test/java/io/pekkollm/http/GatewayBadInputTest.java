package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.util.Json;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every kind of bad request gets a 4xx in OpenAI's error shape with a message that says what to fix, and the
 * server keeps serving: each case is followed by a good request.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewayBadInputTest {
  private static final String GOOD = "{\"model\":\"mock/echo\",\"messages\":[{\"role\":\"user\",\"content\":\"still here\"}]}";
  private GatewayFixture gw;

  @BeforeAll
  void start() {
    gw = new GatewayFixture("pekko-llm.gateway.max-request-bytes = 64k");
  }

  @AfterAll
  void stop() {
    gw.close();
  }

  static Stream<Arguments> badRequests() {
    return Stream.of(
        Arguments.of("malformed JSON", "{\"model\": \"mock/echo\", \"messages\": [", 400, "not valid JSON", null),
        Arguments.of("not an object", "[1,2,3]", 400, "JSON object", null),
        Arguments.of("empty body", "", 400, "empty", null),
        Arguments.of("missing model", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 400, "'model' is required", "model"),
        Arguments.of("model not a string", "{\"model\":42,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 400, "must be a string", "model"),
        Arguments.of("missing messages", "{\"model\":\"mock/echo\"}", 400, "'messages' is required", "messages"),
        Arguments.of("empty messages", "{\"model\":\"mock/echo\",\"messages\":[]}", 400, "at least one message", "messages"),
        Arguments.of("messages not an array", "{\"model\":\"mock/echo\",\"messages\":\"hi\"}", 400, "must be an array", "messages"),
        Arguments.of("message without role", "{\"model\":\"mock/echo\",\"messages\":[{\"content\":\"x\"}]}", 400, "role is required", "messages[0].role"),
        Arguments.of("unknown role", "{\"model\":\"mock/echo\",\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}", 400, "'wizard' is not supported", "messages[0].role"),
        Arguments.of("temperature of the wrong type", "{\"model\":\"mock/echo\",\"temperature\":\"hot\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 400, "'temperature' must be a number", "temperature"),
        Arguments.of("max_tokens not an integer", "{\"model\":\"mock/echo\",\"max_tokens\":1.5,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 400, "must be an integer", "max_tokens"),
        Arguments.of("stream not a boolean", "{\"model\":\"mock/echo\",\"stream\":\"yes\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 400, "true or false", "stream"),
        Arguments.of("bad tool", "{\"model\":\"mock/echo\",\"tools\":[{\"type\":\"function\"}],\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 400, "tools[0]", "tools"),
        Arguments.of("top_p above 1", "{\"model\":\"mock/echo\",\"top_p\":5,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 400, "'top_p' must be a finite number between 0 and 1", "top_p"),
        Arguments.of("temperature infinite", "{\"model\":\"mock/echo\",\"temperature\":1e400,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 400, "'temperature' must be a finite number between 0 and 2", "temperature"),
        Arguments.of("temperature above 2", "{\"model\":\"mock/echo\",\"temperature\":2.5,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 400, "between 0 and 2, not 2.5", "temperature"),
        Arguments.of("temperature negative", "{\"model\":\"mock/echo\",\"temperature\":-0.1,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 400, "between 0 and 2", "temperature"),
        Arguments.of("presence_penalty below -2", "{\"model\":\"mock/echo\",\"presence_penalty\":-3,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 400, "between -2 and 2", "presence_penalty"),
        Arguments.of("frequency_penalty infinite", "{\"model\":\"mock/echo\",\"frequency_penalty\":-1e999,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 400, "between -2 and 2", "frequency_penalty"),
        Arguments.of("max_tokens zero", "{\"model\":\"mock/echo\",\"max_tokens\":0,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 400, "'max_tokens' must be at least 1", "max_tokens"),
        Arguments.of("max_completion_tokens negative", "{\"model\":\"mock/echo\",\"max_completion_tokens\":-5,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 400, "'max_completion_tokens' must be at least 1", "max_completion_tokens"),
        Arguments.of("n zero", "{\"model\":\"mock/echo\",\"n\":0,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 400, "'n' must be at least 1", "n"),
        Arguments.of("top_logprobs above 20", "{\"model\":\"mock/echo\",\"top_logprobs\":21,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 400, "between 0 and 20", "top_logprobs"),
        Arguments.of("logit_bias out of range", "{\"model\":\"mock/echo\",\"logit_bias\":{\"50256\":-101},\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 400, "between -100 and 100", "logit_bias.50256"),
        Arguments.of("pass-through number infinite", "{\"model\":\"mock/echo\",\"repetition_penalty\":1e400,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 400, "'repetition_penalty' must be a finite number", "repetition_penalty"),
        Arguments.of("nested pass-through number infinite", "{\"model\":\"mock/echo\",\"provider\":{\"x\":[1,1e400]},\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 400, "must be a finite number", "provider.x[1]"),
        Arguments.of("tool schema number infinite", "{\"model\":\"mock/echo\",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"object\",\"maximum\":1e400}}}],\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 400, "must be a finite number", "tools[0].function.parameters.maximum"),
        Arguments.of("n > 1", "{\"model\":\"mock/echo\",\"n\":2,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 400, "'n' other than 1", "n"),
        Arguments.of("model without provider", "{\"model\":\"gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 404, "provider/model", "model"),
        Arguments.of("unknown provider", "{\"model\":\"nosuch/x\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 404, "unknown provider 'nosuch'", "model"),
        Arguments.of("unknown mock model", "{\"model\":\"mock/gpt-9\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 404, "no model 'gpt-9'", "model"),
        Arguments.of("unconfigured provider", "{\"model\":\"groq/llama-3.1-8b-instant\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", 401, "GROQ_API_KEY", null));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badRequests")
  void badRequestGetsAClearOpenAiErrorAndTheServerKeepsServing(String name, String body, int status, String message,
      String param) throws Exception {
    for (boolean stream : new boolean[] {false, true}) {
      String sent = stream && body.startsWith("{\"model\"") ? body.replaceFirst("\\{", "{\"stream\":true,") : body;
      HttpResponse<String> r = gw.post("/v1/chat/completions", sent);
      assertEquals(status, r.statusCode(), name + ": " + r.body());
      assertEquals("application/json", r.headers().firstValue("content-type").orElse(""));
      JsonNode err = Json.parse(r.body()).get("error");
      assertTrue(err.get("message").asText().contains(message), err.toString());
      assertTrue(err.has("type") && err.has("code") && err.has("param"), err.toString());
      if (param != null) {
        assertEquals(param, err.get("param").asText(), err.toString());
      }
    }
    assertServing();
  }

  @Test
  void oversizedBodyWithContentLengthIs413() throws Exception {
    String big = "{\"model\":\"mock/echo\",\"messages\":[{\"role\":\"user\",\"content\":\"" + "x".repeat(70_000) + "\"}]}";
    HttpResponse<String> r = gw.post("/v1/chat/completions", big);
    assertEquals(413, r.statusCode(), r.body());
    assertTrue(Json.parse(r.body()).get("error").get("message").asText().contains("max-request-bytes"));
    assertServing();
  }

  @Test
  void aClientStillUploadingAnOversizedBodyAlwaysReadsThe413() throws Exception {
    // Answering before the body is read makes the server close a connection with unread bytes in it; the reset
    // can reach the client before the response does. Large bodies, sent back to back, make that race likely.
    String big = "{\"model\":\"mock/echo\",\"messages\":[{\"role\":\"user\",\"content\":\"" + "x".repeat(2_000_000) + "\"}]}";
    for (int i = 0; i < 150; i++) {
      HttpResponse<String> r = gw.post("/v1/chat/completions", big);
      assertEquals(413, r.statusCode(), "upload " + i + ": " + r.body());
    }
    assertServing();
  }

  @Test
  void oversizedChunkedBodyIs413() throws Exception {
    byte[] big = ("{\"model\":\"mock/echo\",\"messages\":[{\"role\":\"user\",\"content\":\"" + "y".repeat(70_000) + "\"}]}")
        .getBytes();
    // A publisher of unknown length makes the client send Transfer-Encoding: chunked (no Content-Length).
    HttpRequest req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + "/v1/chat/completions"))
        .timeout(Duration.ofSeconds(20)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(big))).build();
    HttpResponse<String> r = gw.http.send(req, HttpResponse.BodyHandlers.ofString());
    assertEquals(413, r.statusCode(), r.body());
    assertServing();
  }

  @Test
  void unknownRouteAndWrongMethodAreOpenAiErrors() throws Exception {
    HttpResponse<String> r = gw.get("/v1/nothing-here");
    assertEquals(404, r.statusCode());
    assertTrue(Json.parse(r.body()).has("error"));
    HttpResponse<String> m = gw.get("/v1/chat/completions");
    assertEquals(405, m.statusCode());
    assertTrue(Json.parse(m.body()).has("error"), m.body());
    assertServing();
  }

  @Test
  void valuesAtTheEdgesOfTheDocumentedRangesAreAccepted() throws Exception {
    HttpResponse<String> r = gw.post("/v1/chat/completions", "{\"model\":\"mock/echo\",\"temperature\":2,\"top_p\":0,"
        + "\"presence_penalty\":-2,\"frequency_penalty\":2,\"max_tokens\":1,\"n\":1,\"top_logprobs\":20,"
        + "\"logprobs\":true,\"logit_bias\":{\"1\":100},\"messages\":[{\"role\":\"user\",\"content\":\"ok\"}]}");
    assertEquals(200, r.statusCode(), r.body());
  }

  @Test
  void unknownFieldsArePassedThroughNotRejected() throws Exception {
    HttpResponse<String> r = gw.post("/v1/chat/completions",
        "{\"model\":\"mock/echo\",\"reasoning_effort\":\"low\",\"logit_bias\":{},\"messages\":[{\"role\":\"user\",\"content\":\"ok\"}]}");
    assertEquals(200, r.statusCode(), r.body());
  }

  private void assertServing() throws Exception {
    HttpResponse<String> ok = gw.post("/v1/chat/completions", GOOD);
    assertEquals(200, ok.statusCode(), ok.body());
    assertEquals("still here", Json.parse(ok.body()).at("/choices/0/message/content").asText());
  }
}
