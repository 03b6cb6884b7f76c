package io.pekkollm.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.pekkollm.testkit.Sse;
import io.pekkollm.util.Json;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Three gateway processes (the packaged jar) on 127.0.0.1 in one Pekko Cluster on one PostgreSQL journal: sessions
 * and streams are reachable from every node, and a stream of a node killed with SIGKILL resumes on another with
 * nothing lost or duplicated. Failure detection and the Split Brain Resolver are shortened for the test JVMs
 * (system properties below); the shipped defaults are in reference.conf. Needs PEKKO_LLM_TEST_PG_URL, _USER and
 * _PASSWORD (as .ci/run sets them).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT {
  private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");
  private static final String ANSWER = String.join(" ", Collections.nCopies(8,
      "Ein Strom 🌍 wechselt den Knoten, 東京 und zurück."));
  private static final String PG_URL = System.getenv("PEKKO_LLM_TEST_PG_URL");

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final List<Node> nodes = new ArrayList<>();
  private Path log;

  private record Node(String name, Process process, int httpPort, int clusterPort) {
    String url(String path) {
      return "http://127.0.0.1:" + httpPort + path;
    }
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static String jar() {
    return System.getProperty("pekko.llm.jar", "target/pekko-llm.jar");
  }

  private static ProcessBuilder gateway(Map<String, String> env, List<String> props, Path dataDir) {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse("java"));
    cmd.addAll(props);
    cmd.addAll(List.of("-jar", jar(), "serve", "--port", "0"));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().remove("PEKKO_LLM_JOURNAL_URL");
    pb.environment().remove("PEKKO_LLM_CLUSTER_SEED_NODES");
    pb.environment().put("PEKKO_LLM_DATA_DIR", dataDir.toString());
    pb.environment().putAll(env);
    return pb;
  }

  /** Fast failure handling for the test only: the shipped defaults trade this speed for fewer false alarms. */
  private static final List<String> FAST = List.of(
      "-Dpekko-llm.cluster.failure-detector.acceptable-heartbeat-pause=2s",
      "-Dpekko-llm.cluster.sbr.stable-after=3s",
      "-Dpekko-llm.recovery.ask-timeout=3s",
      "-Dpekko.cluster.sharding.retry-interval=200ms",
      "-Xmx192m", "-XX:TieredStopAtLevel=1");

  private Map<String, String> clusterEnv(String seeds, int clusterPort) {
    return Map.of("PEKKO_LLM_CLUSTER_SEED_NODES", seeds, "PEKKO_LLM_CLUSTER_PORT", String.valueOf(clusterPort),
        "PEKKO_LLM_JOURNAL_URL", PG_URL, "PEKKO_LLM_JOURNAL_USER", System.getenv("PEKKO_LLM_TEST_PG_USER"),
        "PEKKO_LLM_JOURNAL_PASSWORD", System.getenv("PEKKO_LLM_TEST_PG_PASSWORD"));
  }

  private CompletableFuture<Integer> follow(String name, Process p) {
    CompletableFuture<Integer> port = new CompletableFuture<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = r.readLine()) != null) {
          Files.writeString(log, name + " | " + line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
              StandardOpenOption.APPEND);
          Matcher m = LISTENING.matcher(line);
          if (m.find()) {
            port.complete(Integer.parseInt(m.group(1)));
          }
        }
      } catch (Exception e) {
        port.completeExceptionally(e);
      }
      port.completeExceptionally(new IllegalStateException(name + " exited"));
    });
    reader.setDaemon(true);
    reader.start();
    return port;
  }

  @BeforeAll
  void startCluster() throws Exception {
    assumeTrue(PG_URL != null && !PG_URL.isBlank(),
        "PEKKO_LLM_TEST_PG_URL/_USER/_PASSWORD are not set: the cluster test needs PostgreSQL (see .ci/run)");
    log = Files.createTempFile("cluster-it", ".log");
    int[] clusterPorts = {freePort(), freePort(), freePort()};
    String seeds = "127.0.0.1:" + clusterPorts[0] + ",127.0.0.1:" + clusterPorts[1] + ",127.0.0.1:" + clusterPorts[2];
    List<CompletableFuture<Integer>> ports = new ArrayList<>();
    List<Process> processes = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      String name = "ABC".substring(i, i + 1);
      Process p = gateway(clusterEnv(seeds, clusterPorts[i]), FAST, Files.createTempDirectory("cluster-" + name))
          .start();
      processes.add(p);
      ports.add(follow(name, p));
    }
    for (int i = 0; i < 3; i++) {
      try {
        nodes.add(new Node("ABC".substring(i, i + 1), processes.get(i), ports.get(i).get(90, TimeUnit.SECONDS),
            clusterPorts[i]));
      } catch (Exception e) {
        processes.forEach(Process::destroyForcibly);
        throw new AssertionError("node " + i + " did not start; output: " + Files.readString(log), e);
      }
    }
    for (Node n : nodes) {
      awaitReady(n);
    }
  }

  @AfterAll
  void stopCluster() throws Exception {
    for (Node n : nodes) {
      n.process().destroy();
    }
    for (Node n : nodes) {
      if (!n.process().waitFor(30, TimeUnit.SECONDS)) {
        n.process().destroyForcibly();
      }
    }
  }

  private void awaitReady(Node n) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    HttpResponse<String> last = null;
    while (System.nanoTime() < deadline) {
      last = http.send(HttpRequest.newBuilder(URI.create(n.url("/health/ready"))).GET().build(),
          HttpResponse.BodyHandlers.ofString());
      if (last.statusCode() == 200) {
        return;
      }
      assertEquals(503, last.statusCode(), last.body());
      Thread.sleep(200);
    }
    throw new AssertionError("node " + n.name() + " never became ready: " + (last == null ? "" : last.body())
        + "\n" + Files.readString(log));
  }

  private HttpResponse<String> post(Node n, String path, String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(n.url(path))).timeout(Duration.ofSeconds(60))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  private HttpResponse<String> get(Node n, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(n.url(path))).timeout(Duration.ofSeconds(30)).GET().build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  /** What a client of a slow stream on {@code n} holds after {@code events} content events, and its ids. */
  private record Partial(String recoveryId, String text, String lastId, HttpResponse<InputStream> response) {}

  private Partial startStream(Node n, int events) throws Exception {
    String body = "{\"model\":\"mock/echo\",\"stream\":true,\"metadata\":{\"mock_chunk_delay_ms\":\"60\"},"
        + "\"messages\":[{\"role\":\"user\",\"content\":" + Json.write(TextNode.valueOf(ANSWER)) + "}]}";
    HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(URI.create(n.url("/v1/chat/completions")))
        .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, r.statusCode());
    String recoveryId = r.headers().firstValue("X-Recovery-Id").orElseThrow();
    BufferedReader reader = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
    StringBuilder had = new StringBuilder();
    String id = null;
    String lastId = null;
    int seen = 0;
    String line;
    while (seen < events && (line = reader.readLine()) != null) {
      if (line.startsWith("id: ")) {
        id = line.substring(4);
      } else if (line.startsWith("data: ")) {
        had.append(new Sse.Event(null, id, line.substring(6)).content());
        lastId = id;
        seen++;
      }
    }
    assertEquals(events, seen);
    return new Partial(recoveryId, had.toString(), lastId, r);
  }

  /**
   * Resumes {@code p} on {@code n} with exact and Last-Event-ID, retrying while the stream still counts as
   * running (409: its node not yet downed) or its entity is moving (5xx), and returns the joined text.
   */
  private String resume(Node n, Partial p) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    HttpResponse<String> r;
    while (true) {
      r = post(n, "/v1/streams/" + p.recoveryId() + "/resume", "{\"strategy\":\"exact\"}", "Last-Event-ID",
          p.lastId());
      if (r.statusCode() == 200 || System.nanoTime() > deadline) {
        break;
      }
      assertTrue(r.statusCode() == 409 || r.statusCode() >= 500, r.statusCode() + " " + r.body());
      Thread.sleep(250);
    }
    assertEquals(200, r.statusCode(), r.body());
    return Sse.joinResumed(p.text(), p.lastId(), r.body());
  }

  @Test
  @Order(1)
  void aSessionCreatedOnATalkedToOnBIsListedAndExportedOnC() throws Exception {
    Node a = nodes.get(0);
    Node b = nodes.get(1);
    Node c = nodes.get(2);
    HttpResponse<String> created = post(a, "/v1/sessions", "{\"model\":\"mock/echo\",\"name\":\"cluster\"}");
    assertEquals(200, created.statusCode(), created.body());
    String id = Json.parse(created.body()).get("id").asText();
    for (String turn : List.of("first turn", "second turn")) {
      HttpResponse<String> r = post(b, "/v1/sessions/" + id + "/chat",
          "{\"messages\":[{\"role\":\"user\",\"content\":\"" + turn + "\"}]}");
      assertEquals(200, r.statusCode(), r.body());
    }
    JsonNode listed = Json.parse(get(c, "/v1/sessions?limit=1000").body());
    boolean found = false;
    for (JsonNode s : listed.get("data")) {
      found |= s.get("id").asText().equals(id);
    }
    assertTrue(found, "the session created on A is listed on C: " + listed);
    JsonNode exported = Json.parse(get(c, "/v1/sessions/" + id + "/export").body());
    List<String> history = new ArrayList<>();
    for (JsonNode m : exported.get("messages")) {
      history.add(m.get("role").asText() + ":" + m.get("content").asText());
    }
    assertEquals(List.of("user:first turn", "assistant:first turn", "user:second turn", "assistant:second turn"),
        history, exported.toString());
  }

  @Test
  @Order(2)
  void aStreamStartedOnBResumesOnCWhileBLives() throws Exception {
    Node b = nodes.get(1);
    Node c = nodes.get(2);
    Partial p = startStream(b, 10);
    // The client goes away mid-stream: B records the cancellation, and the stream is resumable anywhere.
    p.response().body().close();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    String status = "";
    while (System.nanoTime() < deadline && !status.equals("interrupted")) {
      status = Json.parse(get(c, "/v1/streams/" + p.recoveryId()).body()).path("status").asText();
      if (!status.equals("interrupted")) {
        Thread.sleep(100);
      }
    }
    assertEquals("interrupted", status);
    assertEquals(ANSWER, resume(c, p));
  }

  @Test
  @Order(3)
  void killNineOfANodeMidStreamThenResumeOnAnotherLosesAndRepeatsNothing() throws Exception {
    Node a = nodes.get(0);
    Node b = nodes.get(1);
    Partial p = startStream(a, 12);
    a.process().destroyForcibly();
    assertTrue(a.process().waitFor(20, TimeUnit.SECONDS));
    long killed = System.nanoTime();
    String joined = resume(b, p);
    System.out.println("kill -9 to first successful resume: " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed)
        + " ms (test settings: heartbeat pause 2s, stable-after 3s)");
    assertEquals(ANSWER, joined);
    JsonNode status = Json.parse(get(nodes.get(2), "/v1/streams/" + p.recoveryId()).body());
    assertEquals("completed", status.get("status").asText(), status.toString());
  }

  @Test
  @Order(4)
  void badClusterConfigurationFailsAtStartWithAClearMessage() throws Exception {
    Path data = Files.createTempDirectory("cluster-bad");
    // An unparsable seed list.
    assertFails(gateway(Map.of("PEKKO_LLM_CLUSTER_SEED_NODES", "127.0.0.1:notaport"), List.of(), data),
        "PEKKO_LLM_CLUSTER_SEED_NODES: '127.0.0.1:notaport'");
    // A cluster node on the embedded H2 journal.
    assertFails(gateway(Map.of("PEKKO_LLM_CLUSTER_SEED_NODES", "127.0.0.1:" + freePort()), List.of(), data),
        "needs the PostgreSQL journal");
    // A cluster port that a live node already holds.
    Node c = nodes.get(2);
    assertFails(gateway(clusterEnv("127.0.0.1:" + c.clusterPort(), c.clusterPort()), List.of(), data),
        "cannot start the cluster node on 127.0.0.1:" + c.clusterPort());
  }

  private static void assertFails(ProcessBuilder pb, String message) throws Exception {
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertNotEquals(0, p.exitValue(), out);
    assertTrue(out.contains(message), "expected '" + message + "' in: " + out);
  }
}
