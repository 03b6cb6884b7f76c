package io.pekkollm.recovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.testkit.Sse;
import io.pekkollm.util.Json;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The durability promise against a real process crash: the gateway jar streams, is killed with SIGKILL, is
 * started again on the same data directory, and the client resumes with Last-Event-ID. The joined text has
 * no gap and no duplicate.
 */
class CrashRecoveryIT {
  private static final String ANSWER = String.join(" ", java.util.Collections.nCopies(8,
      "Ein Strom 🌍 überlebt kill -9, 東京 und alles andere."));
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private record Gateway(Process process, int port, Path log) {}

  private static Gateway start(Path dataDir, Path log, String... jvmOptions) throws Exception {
    io.pekkollm.testkit.GatewayProcess.Started g = io.pekkollm.testkit.GatewayProcess.start(
        java.util.List.of(jvmOptions), java.util.List.of("PEKKO_LLM_JOURNAL_URL"),
        java.util.Map.of("PEKKO_LLM_DATA_DIR", dataDir.toString()), log, Duration.ofSeconds(60));
    return new Gateway(g.process(), g.port(), log);
  }

  @Test
  void killNineThenResumeWithLastEventIdHasNoGapAndNoDuplicate() throws Exception {
    Path dataDir = Files.createTempDirectory("crash-data");
    Path log = Files.createTempFile("crash-gateway", ".log");
    // A journal checkpoint every 100 ms, so the kill comes after several: a crash must not read as a journal that
    // went back in time.
    Gateway first = start(dataDir, log, "-Dpekko-llm.recovery.checkpoint.interval=100ms");
    String recoveryId;
    StringBuilder had = new StringBuilder();
    String lastId = null;
    try {
      String body = "{\"model\":\"mock/echo\",\"stream\":true,\"metadata\":{\"mock_chunk_delay_ms\":\"40\"},"
          + "\"messages\":[{\"role\":\"user\",\"content\":" + Json.write(com.fasterxml.jackson.databind.node.TextNode.valueOf(ANSWER))
          + "}]}";
      HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + first.port() + "/v1/chat/completions"))
          .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofInputStream());
      assertEquals(200, r.statusCode());
      recoveryId = r.headers().firstValue("X-Recovery-Id").orElseThrow();
      BufferedReader reader = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
      int events = 0;
      String id = null;
      String line;
      while (events < 12 && (line = reader.readLine()) != null) {
        if (line.startsWith("id: ")) {
          id = line.substring(4);
        } else if (line.startsWith("data: ")) {
          had.append(new Sse.Event(null, id, line.substring(6)).content());
          lastId = id;
          events++;
        }
      }
      assertEquals(12, events);
      Path checkpoint = dataDir.resolve("journal.checkpoint");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!(Files.exists(checkpoint) && !Files.readString(checkpoint).contains("ordering=0"))
          && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
    } finally {
      // SIGKILL: no shutdown hook, no chance to record anything.
      first.process().destroyForcibly();
      assertTrue(first.process().waitFor(20, TimeUnit.SECONDS));
    }

    Gateway second = start(dataDir, log);
    try {
      JsonNode status = Json.parse(http.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + second.port() + "/v1/streams/" + recoveryId)).GET().build(),
          HttpResponse.BodyHandlers.ofString()).body());
      assertEquals("interrupted", status.get("status").asText(), status.toString());
      assertTrue(status.get("text").asText().startsWith(had.toString()),
          "the journal holds at least everything the client received: " + status);

      HttpResponse<String> resumed = http.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + second.port() + "/v1/streams/" + recoveryId + "/resume"))
          .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json").header("Last-Event-ID", lastId)
          .POST(HttpRequest.BodyPublishers.ofString("{\"strategy\":\"exact\"}")).build(),
          HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      assertEquals(200, resumed.statusCode(), resumed.body());
      assertEquals(ANSWER, Sse.joinResumed(had.toString(), lastId, resumed.body()));
    } finally {
      second.process().destroy();
      second.process().waitFor(20, TimeUnit.SECONDS);
    }
  }
}
