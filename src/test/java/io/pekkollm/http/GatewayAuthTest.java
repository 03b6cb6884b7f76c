package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.testkit.TestConfig;
import org.junit.jupiter.api.Test;

class GatewayAuthTest {
  private static final String BODY = "{\"model\":\"mock/echo\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";

  @Test
  void withAKeyEveryV1RouteNeedsTheBearerTokenButHealthDoesNot() throws Exception {
    try (GatewayFixture gw = new GatewayFixture("pekko-llm.gateway.api-key = \"s3cret-gateway-key\"")) {
      assertEquals(401, gw.post("/v1/chat/completions", BODY).statusCode());
      assertEquals(401, gw.post("/v1/chat/completions", BODY, "Authorization", "Bearer wrong").statusCode());
      assertEquals(401, gw.get("/v1/models").statusCode());
      var denied = gw.post("/v1/chat/completions", BODY, "Authorization", "Bearer s3cret-gateway-key-longer");
      assertEquals(401, denied.statusCode());
      assertTrue(denied.body().contains("authentication_error"));
      assertTrue(!denied.body().contains("s3cret"), "the key is never echoed");
      assertEquals(200, gw.post("/v1/chat/completions", BODY, "Authorization", "Bearer s3cret-gateway-key").statusCode());
      assertEquals(200, gw.get("/health").statusCode());
    }
  }

  /**
   * A refused caller still uploading a large body reads its 401: the refusal waits for the body, since answering
   * mid-upload resets the connection and the reset can reach the client before the response does.
   */
  @Test
  void aRefusedCallerStillUploadingALargeBodyAlwaysReadsThe401() throws Exception {
    String big = "{\"model\":\"mock/echo\",\"messages\":[{\"role\":\"user\",\"content\":\"" + "x".repeat(2_000_000) + "\"}]}";
    try (GatewayFixture gw = new GatewayFixture("pekko-llm.gateway.api-key = \"s3cret-gateway-key\"")) {
      for (int i = 0; i < 100; i++) {
        String path = i % 2 == 0 ? "/v1/chat/completions" : "/v1/responses";
        assertEquals(401, gw.post(path, big, "Authorization", "Bearer wrong").statusCode(), path + " upload " + i);
      }
      assertEquals(200, gw.post("/v1/chat/completions", BODY, "Authorization", "Bearer s3cret-gateway-key").statusCode());
    }
  }

  /** The hot paths answered without the routing tree check the key and answer errors exactly as their routes. */
  @Test
  void theDirectlyAnsweredRoutesCheckTheKeyInTheirOwnErrorShapes() throws Exception {
    try (GatewayFixture gw = new GatewayFixture("pekko-llm.gateway.api-key = \"s3cret-gateway-key\"")) {
      var responses = gw.post("/v1/responses", "{\"model\":\"mock/echo\",\"input\":\"x\"}", "Authorization",
          "Bearer wrong");
      assertEquals(401, responses.statusCode());
      assertEquals("Bearer", responses.headers().firstValue("WWW-Authenticate").orElse(""));
      assertTrue(responses.body().contains("\"error\":{"), responses.body());
      var messages = gw.post("/v1/messages", "{\"model\":\"mock/echo\",\"max_tokens\":5,\"messages\":[{\"role\":"
          + "\"user\",\"content\":\"x\"}]}", "x-api-key", "wrong");
      assertEquals(401, messages.statusCode());
      assertTrue(messages.body().startsWith("{\"type\":\"error\""), messages.body());
      assertEquals(200, gw.post("/v1/responses", "{\"model\":\"mock/echo\",\"input\":\"x\"}", "Authorization",
          "Bearer s3cret-gateway-key").statusCode());
      assertEquals(200, gw.post("/v1/messages", "{\"model\":\"mock/echo\",\"max_tokens\":5,\"messages\":[{\"role\":"
          + "\"user\",\"content\":\"x\"}]}", "x-api-key", "s3cret-gateway-key").statusCode());
      // The same paths with another method still reach the routing tree: a 405 in OpenAI's shape.
      var get = gw.get("/v1/responses", "Authorization", "Bearer s3cret-gateway-key");
      assertEquals(405, get.statusCode(), get.body());
    }
  }

  @Test
  void refusesAPublicAddressWithoutAKey() {
    GatewaySettings open = GatewaySettings.create(TestConfig.of("pekko-llm.gateway.host = \"0.0.0.0\""));
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> GatewayServer.checkExposure(open));
    assertTrue(e.getMessage().contains("PEKKO_LLM_API_KEY"));
    GatewayServer.checkExposure(GatewaySettings.create(TestConfig.of(
        "pekko-llm.gateway { host = \"0.0.0.0\", api-key = \"k\" }")));
    GatewayServer.checkExposure(GatewaySettings.create(TestConfig.of(
        "pekko-llm.gateway { host = \"0.0.0.0\", allow-unauthenticated-public = true }")));
    GatewayServer.checkExposure(GatewaySettings.create(TestConfig.of("pekko-llm.gateway.host = \"localhost\"")));
  }

  @Test
  void settingsNeverPrintTheKey() {
    GatewaySettings s = GatewaySettings.create(TestConfig.of("pekko-llm.gateway.api-key = \"s3cret\""));
    assertTrue(!s.toString().contains("s3cret"));
  }
}
