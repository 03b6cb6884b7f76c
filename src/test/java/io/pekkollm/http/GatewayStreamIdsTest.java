package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.journal.JournalSchema;
import io.pekkollm.journal.JournalSettings;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.util.Json;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Recovery ids from the URL that are not ids a stream can have: each is an OpenAI-shaped 404, and afterwards
 * streaming still works (one such request used to stop the journal's entity registry, after which every stream
 * and session waited 10 s for a 500 while /health said ok). And /health turns 503 while the journal hangs.
 */
class GatewayStreamIdsTest {
  /** As they appear in the request target: a space, é, $, ?, ../, an encoded /, a dot pair, 300 characters. */
  static final List<String> ODD_IDS = List.of("a%20b", "%C3%A9", "%24abc", "a%3Fb", "..%2F..%2Fetc", "a%2Fb",
      "a+b", "x".repeat(300), "%00");

  private static final String STREAM = "{\"model\":\"mock/echo\",\"stream\":true,"
      + "\"messages\":[{\"role\":\"user\",\"content\":\"still streaming\"}]}";

  private static void assertNotFound(HttpResponse<String> r, String what) throws Exception {
    assertEquals(404, r.statusCode(), what + ": " + r.body());
    JsonNode error = Json.parse(r.body()).get("error");
    assertEquals("not_found_error", error.get("type").asText(), what);
    assertEquals("recovery_id", error.get("param").asText(), what);
    assertTrue(error.has("message") && error.has("code"), what);
  }

  private static void assertStreams(GatewayFixture gw) throws Exception {
    HttpResponse<String> r = gw.post("/v1/chat/completions", STREAM);
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(r.body().contains("still") && r.body().contains("data: [DONE]"), r.body());
  }

  @Test
  void oddRecoveryIdsAre404AndStreamingKeepsWorking() throws Exception {
    try (GatewayFixture gw = new GatewayFixture("")) {
      assertStreams(gw);
      for (String id : ODD_IDS) {
        assertNotFound(gw.get("/v1/streams/" + id), "GET " + id);
        assertNotFound(gw.post("/v1/streams/" + id + "/resume", "{}"), "resume " + id);
      }
      assertNotFound(gw.get("/v1/streams/0123456789abcdef0123456789abcdef"), "an unknown well-formed id");
      assertStreams(gw);
      assertEquals(200, gw.get("/health").statusCode());
      HttpResponse<String> session = gw.post("/v1/sessions", "{\"model\":\"mock/echo\"}");
      assertTrue(session.statusCode() / 100 == 2, session.body());
    }
  }

  @Test
  void healthAndReadinessAre503WhileTheJournalDoesNotAnswer() throws Exception {
    Path dir = Files.createTempDirectory("stream-ids-health");
    String journal = "pekko-llm.recovery { data-dir = \"" + dir.toString().replace("\\", "/") + "\"\n"
        + "checkpoint.interval = 100ms\nask-timeout = 1s }";
    try (GatewayFixture gw = new GatewayFixture(journal)) {
      assertEquals(200, gw.get("/health").statusCode());
      // A single node is ready when its journal answers: no cluster membership to wait for.
      assertEquals(200, gw.get("/health/ready").statusCode());
      JournalSettings settings = JournalSettings.create(TestConfig.of(journal));
      try (Connection c = JournalSchema.connect(settings); Statement st = c.createStatement()) {
        // Exclusive mode: every other connection of the database waits (or is refused) until it ends.
        st.execute("SET EXCLUSIVE 1");
        HttpResponse<String> down = awaitHealth(gw, 503);
        JsonNode body = Json.parse(down.body());
        assertEquals("unavailable", body.get("status").asText());
        assertTrue(body.get("reason").asText().contains("journal"), down.body());
        HttpResponse<String> notReady = gw.get("/health/ready");
        assertEquals(503, notReady.statusCode(), notReady.body());
        assertEquals("unavailable", Json.parse(notReady.body()).get("status").asText());
        st.execute("SET EXCLUSIVE 0");
      }
      awaitHealth(gw, 200);
      assertEquals(200, gw.get("/health/ready").statusCode());
      assertStreams(gw);
    }
  }

  /** Polls /health (bounded) until it answers {@code status}. */
  private static HttpResponse<String> awaitHealth(GatewayFixture gw, int status) throws Exception {
    HttpResponse<String> last = null;
    for (int i = 0; i < 150; i++) {
      last = gw.get("/health");
      if (last.statusCode() == status) {
        return last;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("/health never answered " + status + "; last: " + last.statusCode() + " " + last.body());
  }
}
