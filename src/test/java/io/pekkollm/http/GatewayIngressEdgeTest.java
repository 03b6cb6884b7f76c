package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.util.Json;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Edges of the Anthropic and Responses ingress formats: a bare model id two enabled providers' catalogs list is a
 * 404 in Anthropic's shape naming both ids (never a guess); oversized bodies on every ingress route are a 413 in
 * that route's error shape; wrong types are a 400 naming the field; the server keeps serving after each.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewayIngressEdgeTest {
  private GatewayFixture gw;

  @BeforeAll
  void start() throws Exception {
    // A second catalog entry for gpt-4o-mini, in groq's catalog, with groq enabled: the bare id is ambiguous.
    Path models = Files.createTempDirectory("pekko-llm-models");
    Files.writeString(models.resolve("groq.yml"), "source: test\nsource_date: unknown\nprovider: groq\nmodels:\n"
        + "  gpt-4o-mini:\n    mode: chat\n");
    gw = new GatewayFixture("pekko-llm.catalog.models-dir = \"" + models.toString().replace("\\", "/") + "\"\n"
        + "pekko-llm.providers.groq { base-url = \"http://127.0.0.1:9/openai/v1\", api-key = \"gsk-test\" }\n"
        + "pekko-llm.gateway.max-request-bytes = 4096\n");
  }

  @AfterAll
  void stop() {
    gw.close();
  }

  private void assertServing() throws Exception {
    HttpResponse<String> ok = gw.post("/v1/messages", "{\"model\":\"mock/echo\",\"max_tokens\":10,\"messages\":[{"
        + "\"role\":\"user\",\"content\":\"still here\"}]}");
    assertEquals(200, ok.statusCode(), ok.body());
    HttpResponse<String> r = gw.post("/v1/responses", "{\"model\":\"mock/echo\",\"input\":\"still here\"}");
    assertEquals(200, r.statusCode(), r.body());
  }

  private static void assertAnthropicError(HttpResponse<String> r, int status, String type, String mentioned)
      throws Exception {
    assertEquals(status, r.statusCode(), r.body());
    JsonNode e = Json.parse(r.body());
    assertEquals("error", e.path("type").asText(), r.body());
    assertEquals(type, e.at("/error/type").asText(), r.body());
    assertTrue(e.at("/error/message").asText().contains(mentioned), r.body());
  }

  @Test
  void anAmbiguousBareModelIdIsA404InAnthropicsShapeNamingBothIds() throws Exception {
    for (String path : new String[] {"/v1/messages", "/v1/messages/count_tokens"}) {
      HttpResponse<String> r = gw.post(path, "{\"model\":\"gpt-4o-mini\",\"max_tokens\":10,\"messages\":[{\"role\":"
          + "\"user\",\"content\":\"hi\"}]}", "anthropic-version", "2023-06-01");
      assertAnthropicError(r, 404, "not_found_error", "ambiguous");
      assertTrue(r.body().contains("openai/gpt-4o-mini") && r.body().contains("groq/gpt-4o-mini"), r.body());
    }
    assertEquals(0, gw.upstream.requestCount());
    assertServing();
  }

  @Test
  void oversizedBodiesAre413InEachRoutesShape() throws Exception {
    String big = "x".repeat(6000);
    assertAnthropicError(gw.post("/v1/messages", "{\"model\":\"mock/echo\",\"max_tokens\":10,\"messages\":[{\"role\":"
        + "\"user\",\"content\":\"" + big + "\"}]}"), 413, "request_too_large", "max-request-bytes");
    assertAnthropicError(gw.post("/v1/messages/count_tokens", "{\"model\":\"mock/echo\",\"messages\":[{\"role\":"
        + "\"user\",\"content\":\"" + big + "\"}]}"), 413, "request_too_large", "max-request-bytes");
    for (String[] c : new String[][] {{"/v1/responses", "{\"model\":\"mock/echo\",\"input\":\"" + big + "\"}"},
        {"/v1/embeddings", "{\"model\":\"mock/embed\",\"input\":\"" + big + "\"}"}}) {
      HttpResponse<String> r = gw.post(c[0], c[1]);
      assertEquals(413, r.statusCode(), c[0] + ": " + r.body());
      JsonNode error = Json.parse(r.body()).path("error");
      assertTrue(error.path("message").asText().contains("max-request-bytes"), r.body());
      assertTrue(error.has("type"), r.body());
    }
    assertEquals(0, gw.upstream.requestCount());
    assertServing();
  }

  @Test
  void wrongTypesAre400sNamingTheField() throws Exception {
    assertAnthropicError(gw.post("/v1/messages/count_tokens", "{\"model\":\"mock/echo\"}"), 400,
        "invalid_request_error", "messages");
    assertAnthropicError(gw.post("/v1/messages", "{\"model\":\"mock/echo\",\"max_tokens\":10,\"stop_sequences\":\"END\","
        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"), 400, "invalid_request_error", "stop_sequences");
    String[][] responses = {
        {"{\"model\":\"mock/echo\",\"input\":\"hi\",\"instructions\":5}", "instructions"},
        {"{\"model\":\"mock/echo\",\"input\":\"hi\",\"max_output_tokens\":\"ten\"}", "max_output_tokens"},
        {"{\"model\":\"mock/echo\",\"input\":\"hi\",\"stream\":\"yes\"}", "stream"},
        {"{\"model\":\"mock/echo\",\"input\":\"hi\",\"store\":1}", "store"},
        {"{\"model\":\"mock/echo\",\"input\":\"hi\",\"previous_response_id\":7}", "previous_response_id"},
        {"{\"model\":7,\"input\":\"hi\"}", "model"},
    };
    for (String[] c : responses) {
      HttpResponse<String> r = gw.post("/v1/responses", c[0]);
      assertEquals(400, r.statusCode(), c[0] + " -> " + r.body());
      assertEquals(c[1], Json.parse(r.body()).at("/error/param").asText(), c[0] + " -> " + r.body());
    }
    assertEquals(0, gw.upstream.requestCount());
    assertServing();
  }
}
