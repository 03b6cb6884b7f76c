package io.pekkollm.keys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Virtual keys against a real process crash: the gateway jar (with an OpenAI-compatible upstream in this JVM
 * that reports known usage, $0.00075 a call) gets a key, a change to it and a call charged to it, is killed with
 * SIGKILL, and started again on the same journal: the key, its spend and the audit log are all there, and the
 * budget counts the spend from before the crash. And a gateway killed the moment a client has its answers
 * (non-streaming, and streams up to their {@code [DONE]}) has every one of them charged after the restart. On H2
 * and, when {@code PEKKO_LLM_TEST_PG_URL} is set, PostgreSQL.
 */
class KeysCrashIT {
  private static final String MASTER = "crash-master-key-0123456789";
  private static final BigDecimal CALL = new BigDecimal("0.00075");
  private static final String ANSWER = "{\"id\":\"c1\",\"object\":\"chat.completion\",\"created\":1,"
      + "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},"
      + "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":1000,"
      + "\"total_tokens\":2000}}";
  private static final String STREAM = "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,"
      + "\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"hi\"},"
      + "\"finish_reason\":null}]}\n\n"
      + "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\","
      + "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
      + "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\","
      + "\"choices\":[],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":1000,\"total_tokens\":2000}}\n\n"
      + "data: [DONE]\n\n";
  private static final String CHAT = "{\"model\":\"openai/gpt-4o-mini\",\"messages\":[{\"role\":\"user\","
      + "\"content\":\"hello\"}]}";
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
      .version(HttpClient.Version.HTTP_1_1).build();

  private record Gateway(Process process, int port) {}

  private static Gateway start(Map<String, String> env, Path log) throws Exception {
    // A snapshot of a key's spend every second write (500 by default), so the restarts here recover from
    // snapshots and the events after them, on H2 and PostgreSQL.
    io.pekkollm.testkit.GatewayProcess.Started g = io.pekkollm.testkit.GatewayProcess.start(
        List.of("-Dpekko-llm.keys.spend-snapshot-every=2"),
        List.of("PEKKO_LLM_JOURNAL_URL", "PEKKO_LLM_API_KEY"), env, log, Duration.ofSeconds(90));
    return new Gateway(g.process(), g.port());
  }

  private HttpResponse<String> send(Gateway gw, String method, String path, String key, String body)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port() + path))
        .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
        .header("Authorization", "Bearer " + key)
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode ok(Gateway gw, String method, String path, String body) throws Exception {
    HttpResponse<String> r = send(gw, method, path, MASTER, body);
    assertEquals(200, r.statusCode(), method + " " + path + ": " + r.body());
    return Json.parse(r.body());
  }

  @Test
  void keysSpendAndAuditSurviveKillNineOnH2() throws Exception {
    crashAndRestart(h2("keys-crash"));
  }

  @Test
  void keysSpendAndAuditSurviveKillNineOnPostgreSql() throws Exception {
    crashAndRestart(postgres("keys-crash-pg"));
  }

  /** The gateway's environment for an H2 journal in a new directory. */
  private static Map<String, String> h2(String dirPrefix) throws Exception {
    return Map.of("PEKKO_LLM_DATA_DIR", Files.createTempDirectory(dirPrefix).toString());
  }

  /** The gateway's environment for the test PostgreSQL database (the test is skipped without one). */
  private static Map<String, String> postgres(String dirPrefix) throws Exception {
    String url = System.getenv("PEKKO_LLM_TEST_PG_URL");
    Assumptions.assumeTrue(url != null, "SKIPPED: PEKKO_LLM_TEST_PG_URL/_USER/_PASSWORD are not set (see .ci/run)");
    Path dataDir = Files.createTempDirectory(dirPrefix);
    return Map.of("PEKKO_LLM_DATA_DIR", dataDir.toString(), "PEKKO_LLM_JOURNAL_URL", url,
        "PEKKO_LLM_JOURNAL_USER", System.getenv("PEKKO_LLM_TEST_PG_USER"),
        "PEKKO_LLM_JOURNAL_PASSWORD", System.getenv("PEKKO_LLM_TEST_PG_PASSWORD"));
  }

  private void crashAndRestart(Map<String, String> journal) throws Exception {
    Path log = Files.createTempFile("keys-crash-gateway", ".log");
    try (Upstream upstream = new Upstream()) {
      upstream.always(Reply.json(200, ANSWER));
      Map<String, String> env = new java.util.HashMap<>(journal);
      env.put("PEKKO_LLM_MASTER_KEY", MASTER);
      env.put("OPENAI_API_KEY", "sk-upstream-test");
      env.put("OPENAI_BASE_URL", upstream.url("/v1"));

      Gateway first = start(env, log);
      String id;
      String secret;
      int auditBefore;
      try {
        String name = "crash-" + System.nanoTime();
        JsonNode k = ok(first, "POST", "/v1/keys", "{\"name\":\"" + name + "\",\"team\":\"ops\",\"max_budget\":0.0015}");
        id = k.path("id").asText();
        secret = k.path("key").asText();
        ok(first, "PATCH", "/v1/keys/" + id, "{\"metadata\":{\"env\":\"prod\"}}");
        assertEquals(200, send(first, "POST", "/v1/chat/completions", secret, CHAT).statusCode());
        // The answer came after its charge was written.
        JsonNode one = ok(first, "GET", "/v1/keys/" + id, null);
        assertEquals(0, CALL.compareTo(one.path("spend").decimalValue()), one.toString());
        assertEquals(0, one.path("spend_unwritten").asInt(), one.toString());
        auditBefore = auditOf(first, id).size();
        assertEquals(2, auditBefore, "create and update");
      } finally {
        // SIGKILL: no shutdown hook, no chance to write anything more.
        first.process().destroyForcibly();
        assertTrue(first.process().waitFor(20, TimeUnit.SECONDS));
      }

      Gateway second = start(env, log);
      try {
        JsonNode one = ok(second, "GET", "/v1/keys/" + id, null);
        assertEquals("ops", one.path("team").asText(), one.toString());
        assertEquals("prod", one.path("metadata").path("env").asText(), one.toString());
        assertEquals(0, CALL.compareTo(one.path("spend").decimalValue()), "spend survives: " + one);
        List<JsonNode> audit = auditOf(second, id);
        assertEquals(auditBefore, audit.size(), audit.toString());
        assertEquals("create", audit.get(0).path("action").asText());
        assertEquals("update", audit.get(1).path("action").asText());
        assertTrue(audit.stream().noneMatch(a -> a.toString().contains(secret)), "the audit never holds a secret");
        // The old secret still works, and the budget counts the spend from before the crash.
        assertEquals(200, send(second, "POST", "/v1/chat/completions", secret, CHAT).statusCode());
        HttpResponse<String> over = send(second, "POST", "/v1/chat/completions", secret, CHAT);
        assertEquals(429, over.statusCode(), over.body());
        assertEquals("budget_exceeded", Json.parse(over.body()).path("error").path("code").asText());
      } finally {
        second.process().destroy();
        second.process().waitFor(20, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void spendOfEveryAnswerAClientGotSurvivesKillNineRightAfterItOnH2() throws Exception {
    killRightAfterAnswers(h2("keys-crash-now"));
  }

  @Test
  void spendOfEveryAnswerAClientGotSurvivesKillNineRightAfterItOnPostgreSql() throws Exception {
    killRightAfterAnswers(postgres("keys-crash-now-pg"));
  }

  /**
   * A batch of concurrent calls (non-streaming, then in a second run streaming), SIGKILL the moment the client has
   * the last answer (no wait, no call in flight), restart: the key's spend is exactly what the answers cost.
   */
  private void killRightAfterAnswers(Map<String, String> journal) throws Exception {
    Path log = Files.createTempFile("keys-crash-now-gateway", ".log");
    int calls = 8;
    try (Upstream upstream = new Upstream()) {
      Map<String, String> env = new java.util.HashMap<>(journal);
      env.put("PEKKO_LLM_MASTER_KEY", MASTER);
      env.put("OPENAI_API_KEY", "sk-upstream-test");
      env.put("OPENAI_BASE_URL", upstream.url("/v1"));

      upstream.always(Reply.json(200, ANSWER));
      Gateway first = start(env, log);
      String id;
      String secret;
      try {
        JsonNode k = ok(first, "POST", "/v1/keys", "{\"name\":\"now-" + System.nanoTime() + "\",\"max_budget\":10}");
        id = k.path("id").asText();
        secret = k.path("key").asText();
        answeredThenKilled(first, secret, CHAT, calls, false);
      } finally {
        kill(first);
      }
      BigDecimal expected = CALL.multiply(BigDecimal.valueOf(calls));
      Gateway second = start(env, log);
      try {
        JsonNode one = ok(second, "GET", "/v1/keys/" + id, null);
        assertEquals(0, expected.compareTo(one.path("spend").decimalValue()),
            calls + " answers of $" + CALL + " each, the gateway killed right after the last: " + one);
        upstream.always(Reply.sse(STREAM.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        answeredThenKilled(second, secret, CHAT.replace("{\"model\"", "{\"stream\":true,\"model\""), calls, true);
      } finally {
        kill(second);
      }
      expected = expected.add(CALL.multiply(BigDecimal.valueOf(calls)));
      Gateway third = start(env, log);
      try {
        JsonNode one = ok(third, "GET", "/v1/keys/" + id, null);
        assertEquals(0, expected.compareTo(one.path("spend").decimalValue()),
            "and " + calls + " streams that ended with [DONE], the gateway killed right after the last: " + one);
      } finally {
        third.process().destroy();
        third.process().waitFor(20, TimeUnit.SECONDS);
      }
      assertTrue(snapshots(journal, "key-spend|" + id) > 0, "the key's spend was snapshotted (and recovered from)");
      assertTrue(!Files.readString(log).contains("Failed to save snapshot"), "no snapshot failed; log: " + log);
    }
  }

  /** The snapshots of {@code persistenceId} in the journal of {@code journal} (a gateway's environment). */
  private static int snapshots(Map<String, String> journal, String persistenceId) throws Exception {
    String url = journal.get("PEKKO_LLM_JOURNAL_URL");
    try (java.sql.Connection c = url == null
        ? java.sql.DriverManager.getConnection("jdbc:h2:file:" + Path.of(journal.get("PEKKO_LLM_DATA_DIR"))
            .resolve("journal"), "", "")
        : java.sql.DriverManager.getConnection(url, journal.get("PEKKO_LLM_JOURNAL_USER"),
            journal.get("PEKKO_LLM_JOURNAL_PASSWORD"));
        java.sql.PreparedStatement q = c.prepareStatement(
            "SELECT count(*) FROM \"snapshot\" WHERE \"persistence_id\" = ?")) {
      q.setString(1, persistenceId);
      try (java.sql.ResultSet r = q.executeQuery()) {
        r.next();
        return r.getInt(1);
      }
    }
  }

  /** {@code calls} concurrent calls, each answered in full (a stream: up to {@code [DONE]}), then SIGKILL at once. */
  private void answeredThenKilled(Gateway gw, String secret, String body, int calls, boolean stream)
      throws Exception {
    List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
    for (int i = 0; i < calls; i++) {
      all.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gw.port()
              + "/v1/chat/completions")).timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
          .header("Authorization", "Bearer " + secret).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
          HttpResponse.BodyHandlers.ofString()));
    }
    java.util.concurrent.CompletableFuture.allOf(all.toArray(java.util.concurrent.CompletableFuture[]::new))
        .get(60, TimeUnit.SECONDS);
    // The client has every answer: the gateway dies now, before anything else can happen.
    gw.process().destroyForcibly();
    for (var f : all) {
      HttpResponse<String> r = f.join();
      assertEquals(200, r.statusCode(), r.body());
      if (stream) {
        assertTrue(r.body().trim().endsWith("data: [DONE]"), r.body());
        assertTrue(r.body().contains("\"content\":\"hi\""), r.body());
      } else {
        assertEquals("hi", Json.parse(r.body()).path("choices").path(0).path("message").path("content").asText());
      }
    }
  }

  private static void kill(Gateway gw) throws Exception {
    // SIGKILL: no shutdown hook, no chance to write anything more.
    gw.process().destroyForcibly();
    assertTrue(gw.process().waitFor(20, TimeUnit.SECONDS));
  }

  private List<JsonNode> auditOf(Gateway gw, String keyId) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    long after = 0;
    while (true) {
      JsonNode page = ok(gw, "GET", "/v1/audit?limit=1000&after=" + after, null);
      for (JsonNode e : page.path("data")) {
        if (keyId.equals(e.path("key_id").asText())) {
          out.add(e);
        }
      }
      if (page.path("data").size() < 1000) {
        return out;
      }
      after = page.path("last_seq").asLong();
    }
  }
}
