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
  /** Three paragraphs, for the paragraph strategy (which regenerates from the start of the unfinished one). */
  private static final String PARAGRAPHS = "Erster Absatz über 東京, fertig geschrieben.\n\n"
      + "Zweiter Absatz 🌍: er wird unterbrochen, bevor er endet, und neu geschrieben.\n\n"
      + "Dritter Absatz, der nach dem Wechsel des Knotens folgt.";
  private static final String PG_URL = System.getenv("PEKKO_LLM_TEST_PG_URL");

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final List<Node> nodes = new ArrayList<>();
  private Path log;
  private String seeds;
  /** Every gateway process this test started, stopped at the end whatever happened. */
  private final List<Process> started = new ArrayList<>();

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
      "-Dpekko-llm.cluster.sharding-retry-interval=200ms",
      // A restarted node binds its cluster port again: on a loaded CI machine that took longer than Pekko's 3 s.
      "-Dpekko.remote.artery.bind.bind-timeout=15s",
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

  /** A gateway process of the cluster on {@code clusterPort}, and its HTTP port once it listens. */
  private record Spawned(String name, Process process, CompletableFuture<Integer> httpPort, int clusterPort) {}

  private Spawned spawn(String name, int clusterPort) throws Exception {
    Process p = gateway(clusterEnv(seeds, clusterPort), FAST, Files.createTempDirectory("cluster-" + name)).start();
    started.add(p);
    return new Spawned(name, p, follow(name, p), clusterPort);
  }

  /** The node of {@code s} once it listens (it may not be Up yet: see {@link #awaitReady}). */
  private Node listening(Spawned s) throws Exception {
    try {
      return new Node(s.name(), s.process(), s.httpPort().get(90, TimeUnit.SECONDS), s.clusterPort());
    } catch (Exception e) {
      s.process().destroyForcibly();
      throw new AssertionError("node " + s.name() + " did not start; output: " + Files.readString(log), e);
    }
  }

  /** A new process for node {@code i} on {@code clusterPort} that joins the running cluster; returns once ready. */
  private Node restart(int i, int clusterPort) throws Exception {
    Node n = listening(spawn("ABC".substring(i, i + 1), clusterPort));
    nodes.set(i, n);
    awaitReady(n);
    return n;
  }

  @BeforeAll
  void startCluster() throws Exception {
    assumeTrue(PG_URL != null && !PG_URL.isBlank(),
        "PEKKO_LLM_TEST_PG_URL/_USER/_PASSWORD are not set: the cluster test needs PostgreSQL (see .ci/run)");
    log = Files.createTempFile("cluster-it", ".log");
    int[] clusterPorts = {freePort(), freePort(), freePort()};
    seeds = "127.0.0.1:" + clusterPorts[0] + ",127.0.0.1:" + clusterPorts[1] + ",127.0.0.1:" + clusterPorts[2];
    List<Spawned> spawned = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      spawned.add(spawn("ABC".substring(i, i + 1), clusterPorts[i]));
    }
    try {
      for (Spawned sp : spawned) {
        nodes.add(listening(sp));
      }
    } catch (AssertionError e) {
      spawned.forEach(sp -> sp.process().destroyForcibly());
      throw e;
    }
    for (Node n : nodes) {
      awaitReady(n);
    }
  }

  @AfterAll
  void stopCluster() throws Exception {
    for (Process p : started) {
      p.destroy();
    }
    for (Process p : started) {
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
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

  /**
   * What a client of a slow stream holds: its text after {@code events} content events, the last event's id
   * ("done" once the stream ended with [DONE]) and the rest of the stream.
   */
  private record Partial(String recoveryId, String text, String lastId, int events, BufferedReader reader) {
    boolean done() {
      return "done".equals(lastId);
    }
  }

  private Partial startStream(Node n, int events) throws Exception {
    return startStream(n, events, ANSWER, 60);
  }

  private static String chatBody(String text, boolean stream, int delayMs) {
    return "{\"model\":\"mock/echo\",\"stream\":" + stream + ",\"metadata\":{\"mock_chunk_delay_ms\":\"" + delayMs
        + "\"},\"messages\":[{\"role\":\"user\",\"content\":" + Json.write(TextNode.valueOf(text)) + "}]}";
  }

  /** Starts a stream of the echo of {@code text} ({@code delayMs} between chunks) and reads {@code events} events. */
  private Partial startStream(Node n, int events, String text, int delayMs) throws Exception {
    HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(URI.create(n.url("/v1/chat/completions")))
        .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(chatBody(text, true, delayMs))).build(),
        HttpResponse.BodyHandlers.ofInputStream());
    assertEquals(200, r.statusCode());
    String recoveryId = r.headers().firstValue("X-Recovery-Id").orElseThrow();
    BufferedReader reader = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
    Partial p = readOn(new Partial(recoveryId, "", null, 0, reader), events);
    assertEquals(events, p.events());
    return p;
  }

  /** {@code p} after up to {@code events} more content events (fewer when the stream ends or breaks first). */
  private static Partial readOn(Partial p, int events) {
    StringBuilder had = new StringBuilder(p.text());
    String id = null;
    String lastId = p.lastId();
    int seen = 0;
    try {
      String line;
      while (seen < events && (line = p.reader().readLine()) != null) {
        if (line.startsWith("id: ")) {
          id = line.substring(4);
        } else if (line.startsWith("data: ") && !line.equals("data: [DONE]")) {
          had.append(new Sse.Event(null, id, line.substring(6)).content());
          lastId = id;
          seen++;
        } else if (line.equals("data: [DONE]")) {
          return new Partial(p.recoveryId(), had.toString(), "done", p.events() + seen, p.reader());
        }
      }
    } catch (java.io.IOException broken) {
      // The connection broke (its node went away): the client holds what it read.
    }
    return new Partial(p.recoveryId(), had.toString(), lastId, p.events() + seen, p.reader());
  }

  /**
   * Resumes {@code p} on {@code n} with exact and Last-Event-ID, retrying while the stream still counts as
   * running (409: its node not yet downed) or its entity is moving (5xx), and returns the joined text.
   */
  private String resume(Node n, Partial p) throws Exception {
    return Sse.joinResumed(p.text(), p.lastId(), resumeBody(n, p, "exact"));
  }

  /** The SSE body of a successful resume of {@code p} on {@code n} with {@code strategy}, retried as above. */
  private String resumeBody(Node n, Partial p, String strategy) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    HttpResponse<String> r;
    while (true) {
      r = post(n, "/v1/streams/" + p.recoveryId() + "/resume", "{\"strategy\":\"" + strategy + "\"}",
          "Last-Event-ID", p.lastId());
      if (r.statusCode() == 200 || System.nanoTime() > deadline) {
        break;
      }
      assertTrue(r.statusCode() == 409 || r.statusCode() >= 500, r.statusCode() + " " + r.body());
      Thread.sleep(250);
    }
    assertEquals(200, r.statusCode(), r.body());
    return r.body();
  }

  /** A session turn on {@code n}, retried while its entity moves to another node (5xx); returns the answer. */
  private String turn(Node n, String session, String text) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    HttpResponse<String> r;
    while (true) {
      r = post(n, "/v1/sessions/" + session + "/chat",
          "{\"messages\":[{\"role\":\"user\",\"content\":" + Json.write(TextNode.valueOf(text)) + "}]}");
      if (r.statusCode() == 200 || System.nanoTime() > deadline) {
        break;
      }
      // Never 409: no other turn runs, and a turn that reached the entity after its caller gave up reserved nothing.
      assertTrue(r.statusCode() >= 500, r.statusCode() + " " + r.body());
      Thread.sleep(250);
    }
    assertEquals(200, r.statusCode(), r.body());
    return Json.parse(r.body()).at("/choices/0/message/content").asText();
  }

  /** The history of session {@code id} exported on {@code n}, as role:content. */
  private List<String> history(Node n, String id) throws Exception {
    HttpResponse<String> r = get(n, "/v1/sessions/" + id + "/export");
    assertEquals(200, r.statusCode(), r.body());
    List<String> history = new ArrayList<>();
    for (JsonNode m : Json.parse(r.body()).get("messages")) {
      history.add(m.get("role").asText() + ":" + m.get("content").asText());
    }
    return history;
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
    p.reader().close();
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

  /**
   * Node A (killed above) comes back; a session is created on A and talked to on B while B serves a stream; then
   * B is killed with SIGKILL. On C the stream resumes with {@code paragraph} (the unfinished paragraph is
   * regenerated: the joined text is the upstream's whole answer) and the session takes a third turn; A exports the
   * whole history in order.
   */
  @Test
  @Order(5)
  void paragraphResumeAndSessionTurnsGoOnOnAnotherNodeAfterKillNine() throws Exception {
    Node a = restart(0, nodes.get(0).clusterPort());
    Node b = nodes.get(1);
    Node c = nodes.get(2);
    HttpResponse<String> created = post(a, "/v1/sessions", "{\"model\":\"mock/echo\",\"name\":\"kill-b\"}");
    assertEquals(200, created.statusCode(), created.body());
    String session = Json.parse(created.body()).get("id").asText();
    assertEquals("one", turn(b, session, "one"));
    assertEquals("two", turn(b, session, "two"));
    // Past the first paragraph break, inside the second paragraph.
    Partial p = startStream(b, 12, PARAGRAPHS, 60);
    assertTrue(p.text().contains("\n\n") && !p.text().startsWith(PARAGRAPHS.substring(0,
        PARAGRAPHS.indexOf("\n\n", PARAGRAPHS.indexOf("\n\n") + 2))), p.text());
    b.process().destroyForcibly();
    assertTrue(b.process().waitFor(20, TimeUnit.SECONDS));
    // B comes back on another cluster port meanwhile (joining while the old B is unreachable: Up once it is downed).
    Spawned bAgain = spawn("B", freePort());

    List<Sse.Event> events = Sse.parse(resumeBody(c, p, "paragraph"));
    assertEquals("recovery", events.get(0).type());
    assertEquals("paragraph", events.get(0).json().get("strategy").asText());
    int kept = events.get(0).json().get("kept_chars").asInt();
    String first = PARAGRAPHS.substring(0, PARAGRAPHS.indexOf("\n\n") + 2);
    String two = PARAGRAPHS.substring(0, PARAGRAPHS.indexOf("\n\n", first.length()) + 2);
    int clientCps = p.text().codePointCount(0, p.text().length());
    // B journals each chunk before its client reads it, so on a loaded machine the journal may have run past the
    // second paragraph's end before the kill: then the whole second paragraph is complete and the client keeps all
    // it has. Otherwise the unfinished second paragraph is regenerated and the first is kept.
    assertTrue(kept == first.codePointCount(0, first.length())
            || (kept == clientCps && clientCps <= two.codePointCount(0, two.length())),
        "kept " + kept + ": the complete first paragraph, or all the client had within the complete second");
    StringBuilder joined = new StringBuilder(p.text().substring(0, p.text().offsetByCodePoints(0, kept)));
    long previous = Long.parseLong(p.lastId());
    for (Sse.Event e : events.subList(1, events.size())) {
      if (!e.data().equals("[DONE]")) {
        long id = Long.parseLong(e.id());
        assertTrue(id > previous, "event ids only go up: " + id + " after " + previous);
        previous = id;
        joined.append(e.content());
      }
    }
    assertEquals(PARAGRAPHS, joined.toString());

    assertEquals("three", turn(c, session, "three"));
    assertEquals(List.of("user:one", "assistant:one", "user:two", "assistant:two", "user:three", "assistant:three"),
        history(a, session));
    Node bNode = listening(bAgain);
    nodes.set(1, bNode);
    awaitReady(bNode);
  }

  /** One request of the trickle: where it went, what it was, and whether it failed while its node was stopping. */
  private record Sent(String node, String what, String failure, boolean nodeStopping) {}

  /**
   * Each node in turn is taken out of rotation (as a load balancer does when readiness fails or the pod is
   * terminating), stopped with SIGTERM while a slow stream runs on it, and started again; meanwhile one client sends
   * a steady trickle of chat completions, journalled streams and session turns to the nodes in rotation. None of
   * those fails, the session holds every turn in order, and every stream cut by a stopping node resumes whole
   * on another.
   */
  @Test
  @Order(6)
  void aRollingRestartUnderATrickleLosesNoRequestAndEveryCutStreamResumes() throws Exception {
    HttpResponse<String> created = post(nodes.get(0), "/v1/sessions", "{\"model\":\"mock/echo\"}");
    assertEquals(200, created.statusCode(), created.body());
    String session = Json.parse(created.body()).get("id").asText();
    List<Node> rotation = new java.util.concurrent.CopyOnWriteArrayList<>(nodes);
    java.util.Set<String> stopping = java.util.concurrent.ConcurrentHashMap.newKeySet();
    List<Sent> sent = Collections.synchronizedList(new ArrayList<>());
    List<String> turns = Collections.synchronizedList(new ArrayList<>());
    java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
    Thread client = new Thread(() -> {
      for (int i = 0; i < 5_000 && !stop.get(); i++) {
        Node n = rotation.get(i % rotation.size());
        String what = List.of("chat", "stream", "turn").get(i % 3) + " " + i;
        String failure = null;
        try {
          String text = "trickle " + i;
          switch (i % 3) {
            case 0 -> {
              HttpResponse<String> r = post(n, "/v1/chat/completions", chatBody(text, false, 0));
              String got = r.statusCode() == 200 ? Json.parse(r.body()).at("/choices/0/message/content").asText() : "";
              failure = text.equals(got) ? null : r.statusCode() + " " + r.body();
            }
            case 1 -> {
              HttpResponse<String> r = post(n, "/v1/chat/completions", chatBody(text, true, 0));
              StringBuilder got = new StringBuilder();
              for (Sse.Event e : Sse.parse(r.body())) {
                got.append(e.data().equals("[DONE]") || e.type() != null ? "" : e.content());
              }
              failure = r.statusCode() == 200 && text.contentEquals(got) ? null : r.statusCode() + " " + r.body();
            }
            default -> {
              HttpResponse<String> r = post(n, "/v1/sessions/" + session + "/chat",
                  "{\"messages\":[{\"role\":\"user\",\"content\":\"" + text + "\"}]}");
              failure = r.statusCode() == 200 ? null : r.statusCode() + " " + r.body();
              if (failure == null) {
                turns.add(text);
              }
            }
          }
        } catch (Exception e) {
          failure = e.toString();
        }
        sent.add(new Sent(n.name(), what, failure, stopping.contains(n.name())));
        try {
          Thread.sleep(100); // the trickle's pace, not a wait for anything
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    client.start();
    List<Partial> cut = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        Node n = nodes.get(i);
        rotation.remove(n);
        stopping.add(n.name());
        // Longer than the gateway's drain on SIGTERM (unbind, then in-flight requests get up to 5 s): it is cut.
        Partial p = startStream(n, 5, ANSWER, 120);
        n.process().destroy();
        Partial after = readOn(p, Integer.MAX_VALUE);
        assertTrue(n.process().waitFor(60, TimeUnit.SECONDS), "node " + n.name() + " stops on SIGTERM");
        if (after.done()) {
          assertEquals(ANSWER, after.text(), "a stream that finished during the drain is whole");
        } else {
          cut.add(after);
        }
        Node back = restart(i, n.clusterPort());
        stopping.remove(n.name());
        rotation.add(back);
      }
    } finally {
      stop.set(true);
      client.join(TimeUnit.SECONDS.toMillis(60));
    }
    List<Sent> failed = sent.stream().filter(r -> r.failure() != null && !r.nodeStopping()).toList();
    assertEquals(List.of(), failed, "requests to nodes in rotation all succeed");
    assertTrue(sent.size() > 30, "a trickle ran throughout: " + sent.size());
    System.out.println("rolling restart: " + sent.size() + " requests, " + cut.size() + " streams cut by SIGTERM");
    for (Partial p : cut) {
      assertEquals(ANSWER, resume(nodes.get(0), p), "stream " + p.recoveryId() + " resumes whole");
    }
    // Every acknowledged turn, in order, each once; a turn whose node stopped before it answered may be there too.
    List<String> history = history(nodes.get(1), session);
    List<String> recorded = new ArrayList<>();
    for (int i = 0; i + 1 < history.size(); i += 2) {
      String t = history.get(i).substring("user:".length());
      assertEquals("assistant:" + t, history.get(i + 1), history.toString());
      if (turns.contains(t)) {
        recorded.add(t);
      }
    }
    assertEquals(turns, recorded, history.toString());
  }

  private static void assertFails(ProcessBuilder pb, String message) throws Exception {
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertNotEquals(0, p.exitValue(), out);
    assertTrue(out.contains(message), "expected '" + message + "' in: " + out);
  }
}
