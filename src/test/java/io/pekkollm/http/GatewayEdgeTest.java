package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The gateway's edge as a browser or a careless client meets it: body media type, slow bodies, Host and Origin
 * in the default (loopback, no key) set-up, CORS, and what /health/providers shows.
 */
class GatewayEdgeTest {
  private static final String CHAT = "{\"model\":\"mock/echo\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

  private static JsonNode error(String body) throws Exception {
    return Json.parse(body.substring(body.indexOf('{'))).path("error");
  }

  @Test
  void aChatBodyThatIsNotJsonByContentTypeGets415InOpenAiShape() throws Exception {
    try (GatewayFixture gw = new GatewayFixture("")) {
      for (String type : new String[] {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}) {
        HttpResponse<String> r = gw.http.send(HttpRequest.newBuilder(URI.create(gw.baseUrl() + "/chat/completions"))
            .timeout(Duration.ofSeconds(20)).header("Content-Type", type)
            .POST(HttpRequest.BodyPublishers.ofString(CHAT)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(415, r.statusCode(), type);
        JsonNode e = error(r.body());
        assertEquals("invalid_request_error", e.path("type").asText());
        assertEquals("unsupported_media_type", e.path("code").asText());
        assertTrue(e.path("message").asText().contains("application/json"));
      }
      // Sessions read their bodies the same way.
      HttpResponse<String> s = gw.http.send(HttpRequest.newBuilder(URI.create(gw.baseUrl() + "/sessions"))
          .timeout(Duration.ofSeconds(20)).header("Content-Type", "text/plain")
          .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"mock/echo\"}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(415, s.statusCode());
      assertEquals(200, gw.post("/v1/chat/completions", CHAT).statusCode());
      HttpResponse<String> charset = gw.http.send(HttpRequest.newBuilder(URI.create(gw.baseUrl() + "/chat/completions"))
          .timeout(Duration.ofSeconds(20)).header("Content-Type", "application/json; charset=utf-8")
          .POST(HttpRequest.BodyPublishers.ofString(CHAT)).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, charset.statusCode());
    }
  }

  @Test
  void aSlowlySentBodyGets408InOpenAiShapeAndTheServerKeepsServing() throws Exception {
    try (GatewayFixture gw = new GatewayFixture("pekko-llm.gateway.request-body-timeout = 1s")) {
      try (Socket s = RawHttp.connect("127.0.0.1", gw.port())) {
        // Headers promise 200 bytes; only a few arrive, and then nothing.
        String head = "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "Content-Length: 200\r\n\r\n{\"model\":";
        s.getOutputStream().write(head.getBytes(StandardCharsets.UTF_8));
        s.getOutputStream().flush();
        String resp = RawHttp.readUntilBody(s.getInputStream());
        assertEquals(408, RawHttp.status(resp), resp);
        JsonNode e = error(resp);
        assertEquals("request_timeout", e.path("code").asText());
        assertTrue(e.path("message").asText().contains("request-body-timeout"));
      }
      assertEquals(200, gw.post("/v1/chat/completions", CHAT).statusCode());
    }
  }

  @Test
  void withoutAKeyAForeignHostIsRefusedSoADnsRebindingPageCannotReadSessions() throws Exception {
    try (GatewayFixture gw = new GatewayFixture("")) {
      int port = gw.port();
      String foreign = RawHttp.exchange("127.0.0.1", port,
          RawHttp.request("GET", "/v1/sessions", "attacker.example:" + port, "", null));
      assertEquals(403, RawHttp.status(foreign), foreign);
      assertEquals("permission_error", error(foreign).path("type").asText());
      assertFalse(foreign.contains("\"data\""));
      for (String host : new String[] {"localhost:" + port, "127.0.0.1:" + port, "127.0.0.5", "[::1]:" + port}) {
        String ok = RawHttp.exchange("127.0.0.1", port, RawHttp.request("GET", "/v1/sessions", host, "", null));
        assertEquals(200, RawHttp.status(ok), host + ": " + ok);
      }
      // The liveness probe answers whatever the Host.
      assertEquals(200, RawHttp.status(RawHttp.exchange("127.0.0.1", port,
          RawHttp.request("GET", "/health", "attacker.example", "", null))));
    }
  }

  @Test
  void withoutAKeyAForeignOriginIsRefusedAndGetsNoCorsHeaders() throws Exception {
    try (GatewayFixture gw = new GatewayFixture("")) {
      HttpResponse<String> foreign = gw.post("/v1/chat/completions", CHAT, "Origin", "https://attacker.example");
      assertEquals(403, foreign.statusCode());
      assertTrue(foreign.headers().firstValue("Access-Control-Allow-Origin").isEmpty());
      HttpResponse<String> nullOrigin = gw.post("/v1/chat/completions", CHAT, "Origin", "null");
      assertEquals(403, nullOrigin.statusCode());
      HttpResponse<String> local = gw.post("/v1/chat/completions", CHAT, "Origin", "http://localhost:3000");
      assertEquals(200, local.statusCode());
      String preflight = RawHttp.exchange("127.0.0.1", gw.port(), RawHttp.request("OPTIONS", "/v1/chat/completions",
          "127.0.0.1", "Origin: https://attacker.example\r\nAccess-Control-Request-Method: POST\r\n", null));
      assertEquals(403, RawHttp.status(preflight));
      assertFalse(preflight.contains("Access-Control-Allow-Origin"));
    }
  }

  @Test
  void corsIsAnsweredOnlyForConfiguredOrigins() throws Exception {
    try (GatewayFixture gw = new GatewayFixture("pekko-llm.gateway.cors.allowed-origins = [\"https://app.example\"]")) {
      String preflight = RawHttp.exchange("127.0.0.1", gw.port(), RawHttp.request("OPTIONS", "/v1/chat/completions",
          "127.0.0.1", "Origin: https://app.example\r\nAccess-Control-Request-Method: POST\r\n"
              + "Access-Control-Request-Headers: content-type, authorization\r\n", null));
      assertEquals(204, RawHttp.status(preflight), preflight);
      assertTrue(preflight.contains("Access-Control-Allow-Origin: https://app.example"), preflight);
      assertTrue(preflight.contains("Access-Control-Allow-Headers: Authorization, Content-Type"), preflight);
      HttpResponse<String> allowed = gw.post("/v1/chat/completions", CHAT, "Origin", "https://app.example");
      assertEquals(200, allowed.statusCode());
      assertEquals("https://app.example", allowed.headers().firstValue("Access-Control-Allow-Origin").orElse(""));
      HttpResponse<String> other = gw.post("/v1/chat/completions", CHAT, "Origin", "https://other.example");
      assertEquals(403, other.statusCode());
      assertTrue(other.headers().firstValue("Access-Control-Allow-Origin").isEmpty());
    }
  }

  @Test
  void withAKeyHealthProvidersNeedsItAndNeverShowsUpstreamKeys() throws Exception {
    String key = "plainsecretvalue42";
    try (GatewayFixture gw = new GatewayFixture("pekko-llm.gateway.api-key = \"gw-key\"\n"
        + "pekko-llm.providers.openai.api-key = \"" + key + "\"")) {
      gw.upstream.always(Reply.json(401, "{\"error\":{\"message\":\"Incorrect API key provided: " + key
          + ". Other keys seen: sk-proj-abcdefghijklmnop1234, AKIAABCDEFGHIJKLMNOP, "
          + "AIzaSyA1234567890abcdefghijklmnopqrs and Bearer abcdefghijklmnop\",\"type\":\"invalid_request_error\","
          + "\"code\":\"invalid_api_key\"}}"));
      HttpResponse<String> chat = gw.post("/v1/chat/completions",
          "{\"model\":\"openai/gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
          "Authorization", "Bearer gw-key");
      assertEquals(401, chat.statusCode());
      assertNoSecrets(chat.body(), key);
      assertEquals(401, gw.get("/health/providers").statusCode());
      assertEquals(200, gw.get("/health").statusCode());
      HttpResponse<String> providers = gw.get("/health/providers", "Authorization", "Bearer gw-key");
      assertEquals(200, providers.statusCode());
      assertTrue(providers.body().contains("Incorrect API key provided: [REDACTED]"), providers.body());
      assertNoSecrets(providers.body(), key);
    }
  }

  private static void assertNoSecrets(String text, String key) {
    for (String secret : new String[] {key, "sk-proj-abcdefghijklmnop1234", "AKIAABCDEFGHIJKLMNOP",
        "AIzaSyA1234567890abcdefghijklmnopqrs", "abcdefghijklmnop\""}) {
      assertFalse(text.contains(secret), secret + " in " + text);
    }
  }
}
