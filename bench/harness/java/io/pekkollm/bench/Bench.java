package io.pekkollm.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The benchmark run behind {@code bench/run.sh}: starts the fake upstream and the gateways (journal on H2 — the
 * default —, journal off, and journal on PostgreSQL when a URL is given), measures the same load direct to the
 * upstream and through each gateway, interleaved, and writes Markdown and JSON to the results directory. Every
 * phase is bounded in time; every load targets 127.0.0.1.
 */
public final class Bench {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  // ---------------------------------------------------------------- options
  private final boolean quick;
  private final Path jar;
  private final Path classes;
  private final Path work;
  private final Path results;
  private final Path readme;
  private final Path wrkScript;
  private final String pgUrl;
  private final String pgUser;
  private final String pgPassword;
  private final boolean jfr;
  private final String only;

  private final Procs procs;
  private final ObjectNode root = JSON.createObjectNode();
  private final List<Gateway> gateways = new ArrayList<>();
  private Procs.Proc upstream;
  private int upstreamPort;

  /** The gateway settings every bench gateway runs with, on top of the defaults (see bench/README.md). */
  /** The JVM flags of README's start command: the gateway is measured as a user starts it. */
  static final List<String> README_JVM_FLAGS = List.of("-XX:+UseSerialGC", "-Xms32m", "-Xmx512m");

  static final List<String> GATEWAY_PROPS = List.of(
      "-Dpekko.http.server.max-connections=20000",
      "-Dpekko.http.server.backlog=4096",
      "-Dpekko-llm.provider-defaults.max-connections=16384",
      "-Dpekko-llm.provider-defaults.max-in-flight=16384",
      "-Dpekko-llm.gateway.connections.max-per-address=0",
      "-Dpekko-llm.gateway.connections.request-header-timeout=0");

  /** A running gateway and how long it took to serve. */
  record Gateway(String name, String label, Procs.Proc proc, int port, double healthReadyMs, double chatReadyMs,
      double readyCpuSeconds) {
    URI chat() {
      return URI.create("http://127.0.0.1:" + port + "/v1/chat/completions");
    }
  }

  /** One load target: the upstream itself or a gateway in front of it. */
  record Target(String name, int port, String modelPrefix) {
    URI chat() {
      return URI.create("http://127.0.0.1:" + port + "/v1/chat/completions");
    }

    String model(String m) {
      return modelPrefix + m;
    }
  }

  private Bench(Map<String, String> o) throws IOException {
    this.quick = o.containsKey("quick");
    this.jar = Path.of(o.getOrDefault("jar", "target/pekko-llm.jar")).toAbsolutePath();
    this.classes = Path.of(o.getOrDefault("classes", "target/bench-classes")).toAbsolutePath();
    this.work = Path.of(o.getOrDefault("work", "target/bench-run")).toAbsolutePath();
    this.results = Path.of(o.getOrDefault("results", "bench/results")).toAbsolutePath();
    this.readme = Path.of(o.getOrDefault("readme", "README.md")).toAbsolutePath();
    this.wrkScript = Path.of(o.getOrDefault("wrk-script", "bench/wrk/chat.lua")).toAbsolutePath();
    this.pgUrl = o.getOrDefault("pg-url", "");
    this.pgUser = o.getOrDefault("pg-user", "");
    this.pgPassword = o.getOrDefault("pg-password", "");
    this.jfr = o.containsKey("jfr");
    this.only = o.getOrDefault("only", "");
    this.procs = new Procs(work);
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> o = new HashMap<>();
    for (String a : args) {
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException("unknown argument " + a);
      }
      int eq = a.indexOf('=');
      o.put(eq < 0 ? a.substring(2) : a.substring(2, eq), eq < 0 ? "" : a.substring(eq + 1));
    }
    Bench b = new Bench(o);
    int code = 0;
    try {
      b.run();
    } catch (Throwable t) {
      t.printStackTrace();
      code = 1;
    } finally {
      b.procs.stopAll();
    }
    System.exit(code);
  }

  private boolean phase(String name) {
    return only.isEmpty() || List.of(only.split(",")).contains(name);
  }

  private void log(String fmt, Object... args) {
    System.out.printf("[%s] %s%n", ZonedDateTime.now().format(DateTimeFormatter.ofPattern("HH:mm:ss")),
        String.format(fmt, args));
    System.out.flush();
  }

  // ---------------------------------------------------------------- the run

  private void run() throws Exception {
    long runStart = System.nanoTime();
    ZonedDateTime started = ZonedDateTime.now(ZoneOffset.UTC);
    root.put("schema", 1);
    root.put("mode", quick ? "quick" : "full");
    root.put("started_at", started.toString());
    root.set("machine", machine());
    ArrayNode props = root.putArray("gateway_settings");
    GATEWAY_PROPS.forEach(props::add);
    CpuMeter whole = new CpuMeter();

    upstreamPort = Procs.freePort();
    upstream = procs.spawn("upstream", List.of(java(), "-Xms512m", "-Xmx2g",
        "-Djava.util.concurrent.ForkJoinPool.common.parallelism=2", "-cp", jar + ":" + classes,
        "io.pekkollm.bench.FakeUpstream", Integer.toString(upstreamPort)), Map.of());
    waitHttp(upstreamPort, upstream, Duration.ofSeconds(60));
    log("upstream on port %d", upstreamPort);

    if (phase("startup")) {
      startupPhase();
    }
    gateways.add(startGateway("h2", "journal H2 (default)", Map.of(), List.of()));
    gateways.add(startGateway("off", "journal off", Map.of(), List.of("-Dpekko-llm.recovery.enabled=off")));
    if (!pgUrl.isEmpty()) {
      gateways.add(startGateway("pg", "journal PostgreSQL", Map.of("PEKKO_LLM_JOURNAL_URL", pgUrl,
          "PEKKO_LLM_JOURNAL_USER", pgUser, "PEKKO_LLM_JOURNAL_PASSWORD", pgPassword), List.of()));
    }
    ArrayNode gws = root.putArray("gateways");
    for (Gateway g : gateways) {
      gws.addObject().put("name", g.name()).put("label", g.label()).put("health_ready_ms", round(g.healthReadyMs()))
          .put("chat_ready_ms", round(g.chatReadyMs())).put("ready_cpu_s", g.readyCpuSeconds());
    }
    Gateway main = gateways.get(0);

    warmup();
    if (phase("nonstream")) {
      nonStreaming(main);
    }
    if (phase("rate")) {
      fixedRate(main);
    }
    if (phase("stream1")) {
      singleStreams();
    }
    if (phase("stream1role")) {
      ttftStreams("stream_1_role_first", "bench-n20-g10-r1", 1);
    }
    if (phase("stream16")) {
      ttftStreams("stream_16", "bench-n20-g0", 16);
    }
    if (phase("fresh")) {
      freshConnections();
    }
    if (phase("stream1000")) {
      concurrentStreams();
    }
    if (phase("throughput")) {
      streamingThroughput();
    }
    if (phase("soak")) {
      soak(main);
    }
    if (phase("idle")) {
      // A fresh gateway: journal entities of earlier phases stay in memory for passivate-after (2 min) and would
      // leave that heap while the idle streams are measured.
      // 10,000 open streams need more than README's 512 MB heap: the phase measures heap per stream, not a limit.
      Gateway mem = startGateway("mem", "journal H2 (default), fresh for the memory phase", Map.of(),
          List.of("-Xmx2g"));
      idleStreams(mem);
      procs.stop(mem.proc());
    }
    root.put("duration_s", round((System.nanoTime() - runStart) / 1e9));
    root.set("load", whole.stop());
    root.put("load_average_end", Files.readString(Path.of("/proc/loadavg")).trim());
    write(started);
  }

  // ---------------------------------------------------------------- processes

  private static String java() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  private Gateway startGateway(String name, String label, Map<String, String> env, List<String> props)
      throws Exception {
    Path data = work.resolve("data-" + name);
    deleteTree(data);
    Files.createDirectories(data);
    int port = Procs.freePort();
    List<String> cmd = new ArrayList<>();
    cmd.add(java());
    cmd.addAll(README_JVM_FLAGS);
    cmd.addAll(GATEWAY_PROPS);
    cmd.addAll(props);
    cmd.addAll(List.of("-jar", jar.toString(), "serve", "--port", Integer.toString(port)));
    Map<String, String> e = new HashMap<>(env);
    e.put("OPENAI_BASE_URL", "http://127.0.0.1:" + upstreamPort + "/v1");
    e.put("OPENAI_API_KEY", "bench");
    e.put("PEKKO_LLM_DATA_DIR", data.toString());
    long t0 = System.nanoTime();
    Procs.Proc p = procs.spawn("gateway-" + name, cmd, e);
    double health = waitHttp(port, p, Duration.ofSeconds(60)) - t0;
    byte[] chat = RateClient.request(new RateClient.Target(name, port, "/v1/chat/completions",
        nonStreamBody("openai/bench")));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    double chatReady;
    while (true) {
      try (RateClient.Connection c = new RateClient.Connection(port)) {
        if (c.exchange(chat) == 200) {
          chatReady = System.nanoTime() - t0;
          break;
        }
      } catch (IOException ignored) {
        // not ready yet
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("gateway " + name + " never served a chat completion:\n" + Procs.tail(p.log(), 40));
      }
      Thread.sleep(2);
    }
    // CPU time to get there: less sensitive than wall time to other processes competing for the cores.
    double cpu = Procs.cpuTicks(p.pid(), false) / 100.0;
    log("gateway %s on port %d: /health after %.0f ms, first chat completion after %.0f ms (%.1f s of CPU)", name,
        port, health / 1e6, chatReady / 1e6, cpu);
    return new Gateway(name, label, p, port, health / 1e6, chatReady / 1e6, cpu);
  }

  /** Polls GET /health until 200; returns System.nanoTime() at that moment. */
  private static long waitHttp(int port, Procs.Proc p, Duration timeout) throws Exception {
    byte[] get = ("GET /health HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!p.alive()) {
        throw new IllegalStateException(p.name() + " exited:\n" + Procs.tail(p.log(), 40));
      }
      try (RateClient.Connection c = new RateClient.Connection(port)) {
        if (c.exchange(get) == 200) {
          return System.nanoTime();
        }
      } catch (IOException notYet) {
        Thread.sleep(2);
      }
    }
    throw new IllegalStateException(p.name() + " did not answer within " + timeout + ":\n" + Procs.tail(p.log(), 40));
  }

  private static byte[] nonStreamBody(String model) {
    return ("{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello to the benchmark.\"}]}")
        .getBytes(StandardCharsets.UTF_8);
  }

  private List<Target> targets(boolean allGateways) {
    List<Target> t = new ArrayList<>();
    t.add(new Target("direct", upstreamPort, ""));
    for (Gateway g : allGateways ? gateways : gateways.subList(0, 1)) {
      t.add(new Target("gateway-" + g.name(), g.port(), "openai/"));
    }
    return t;
  }

  // ---------------------------------------------------------------- phases

  /** Start-up to first served request of the default gateway, a few times (each a fresh JVM and data dir). */
  private void startupPhase() throws Exception {
    int runs = quick ? 2 : 5;
    Samples health = new Samples();
    Samples chat = new Samples();
    ArrayNode arr = root.putObject("startup").putArray("runs");
    for (int i = 0; i < runs; i++) {
      Gateway g = startGateway("startup-" + i, "startup probe", Map.of(), List.of());
      health.add((long) (g.healthReadyMs() * 1e6));
      chat.add((long) (g.chatReadyMs() * 1e6));
      arr.addObject().put("health_ready_ms", round(g.healthReadyMs())).put("chat_ready_ms", round(g.chatReadyMs()))
          .put("ready_cpu_s", g.readyCpuSeconds());
      procs.stop(g.proc());
      deleteTree(work.resolve("data-startup-" + i));
    }
    ObjectNode st = ((ObjectNode) root.get("startup")).put("health_ready_ms_median", round(health.ms(50)))
        .put("chat_ready_ms_median", round(chat.ms(50)));
    startupWithCds(st, runs);
  }

  /**
   * The same with an application class-data-sharing archive (JDK 17: a training run with
   * -XX:ArchiveClassesAtExit, then -XX:SharedArchiveFile): the classes come mapped and pre-parsed, which is most of
   * a cold start here. Deployment-side, no code change.
   */
  private void startupWithCds(ObjectNode st, int runs) throws Exception {
    Path jsa = work.resolve("cds").resolve("pekko-llm.jsa");
    Files.createDirectories(jsa.getParent());
    Files.deleteIfExists(jsa);
    Gateway train = startGateway("cds-train", "AppCDS training run", Map.of(),
        List.of("-XX:ArchiveClassesAtExit=" + jsa));
    try (StreamClient sc = new StreamClient(1)) {
      sc.run(train.chat(), "openai/bench-n5-g0", 5, 1, Duration.ofSeconds(30));
    }
    procs.stop(train.proc(), 120);
    deleteTree(work.resolve("data-cds-train"));
    if (!Files.exists(jsa)) {
      log("AppCDS: no archive was written; skipping");
      return;
    }
    Samples chat = new Samples();
    ArrayNode arr = st.putArray("cds_runs");
    for (int i = 0; i < runs; i++) {
      Gateway g = startGateway("startup-cds-" + i, "start-up probe with AppCDS", Map.of(),
          List.of("-XX:SharedArchiveFile=" + jsa));
      chat.add((long) (g.chatReadyMs() * 1e6));
      arr.addObject().put("health_ready_ms", round(g.healthReadyMs())).put("chat_ready_ms", round(g.chatReadyMs()))
          .put("ready_cpu_s", g.readyCpuSeconds());
      procs.stop(g.proc());
      deleteTree(work.resolve("data-startup-cds-" + i));
    }
    st.put("cds_chat_ready_ms_median", round(chat.ms(50))).put("cds_archive_bytes", Files.size(jsa));
  }

  /**
   * Until the JIT has compiled the hot paths a gateway costs several times more CPU per request than it will: a
   * fresh gateway keeps compiling for a minute or more of load. The default gateway, measured in every phase, gets
   * the longest warm-up; the others serve the streaming phases only.
   */
  private void warmup() throws Exception {
    int maxSeconds = quick ? 60 : 150;
    List<Target> all = targets(true);
    ArrayNode out = root.putArray("warmup");
    try (StreamClient sc = new StreamClient(2)) {
      for (int i = 0; i < all.size(); i++) {
        Target t = all.get(i);
        // The upstream and the default gateway serve every phase: non-streaming and streaming warm-up. The other
        // gateways serve the streaming phases only.
        // A gateway's JIT work goes on well past the first rounds that look steady: at least minSeconds.
        int minSeconds = i == 0 ? 8 : quick ? 25 : 75;
        if (i < 2) {
          out.add(warmUntilSteady(t, "non-streaming req/s", minSeconds, maxSeconds,
              () -> wrk(t, 16, 4).get("rps").asDouble()));
        }
        out.add(warmUntilSteady(t, "streaming chunks/s", minSeconds / 2, maxSeconds / 2, () -> {
          long t0 = System.nanoTime();
          long chunks = sc.closedLoop(t.chat(), t.model("bench-n20-g0"), 32, Duration.ofSeconds(3), Duration.ofSeconds(60))
              .stream().mapToLong(StreamClient.Result::chunks).sum();
          return chunks / ((System.nanoTime() - t0) / 1e9);
        }));
      }
    }
    dropClientConnections();
  }

  private interface Round {
    double run() throws Exception;
  }

  /**
   * Repeats a short load until its rate stops improving (within 5% of the best of the two rounds before), or
   * {@code maxSeconds} pass: a fresh gateway JVM keeps JIT-compiling for a minute or more of load, and costs
   * several times more CPU per request until it is done.
   */
  private ObjectNode warmUntilSteady(Target t, String what, int minSeconds, int maxSeconds, Round round)
      throws Exception {
    long t0 = System.nanoTime();
    List<Double> rates = new ArrayList<>();
    while (true) {
      rates.add(round.run());
      int n = rates.size();
      double secs = (System.nanoTime() - t0) / 1e9;
      boolean steady = n >= 4 && secs >= minSeconds
          && rates.get(n - 1) <= 1.05 * Math.max(rates.get(n - 2), rates.get(n - 3));
      if (steady || secs >= maxSeconds) {
        log("warm-up %s %s: %.0f s, %d rounds, last %.0f (%s)", t.name(), what, secs, n, rates.get(n - 1),
            steady ? "steady" : "time limit");
        ObjectNode o = JSON.createObjectNode().put("target", t.name()).put("load", what).put("seconds", round(secs))
            .put("steady", steady);
        ArrayNode r = o.putArray("rates");
        rates.forEach(x -> r.add(round(x)));
        return o;
      }
    }
  }

  private ObjectNode wrk(Target t, int connections, int seconds) throws Exception {
    List<String> cmd = List.of("wrk", "-t", Integer.toString(connections == 1 ? 1 : 2), "-c",
        Integer.toString(connections), "-d", seconds + "s", "--timeout", "5s", "-s", wrkScript.toString(),
        t.chat().toString());
    String out = Procs.run(cmd, Map.of("BENCH_MODEL", t.model("bench")), seconds + 30L);
    for (String line : out.split("\n")) {
      if (line.startsWith("BENCH_JSON ")) {
        ObjectNode n = (ObjectNode) JSON.readTree(line.substring(11));
        double secs = n.get("duration_us").asDouble() / 1e6;
        n.put("rps", round(n.get("requests").asDouble() / secs));
        long errors = n.get("errors_connect").asLong() + n.get("errors_read").asLong() + n.get("errors_write").asLong()
            + n.get("errors_status").asLong() + n.get("errors_timeout").asLong();
        n.put("errors", errors);
        return n;
      }
    }
    throw new IllegalStateException("wrk printed no summary:\n" + out);
  }

  /** Non-streaming throughput and latency at 1, 16, 64 and 256 connections, direct and through the gateway. */
  private void nonStreaming(Gateway main) throws Exception {
    int seconds = quick ? 3 : 15;
    int reps = quick ? 1 : 2;
    List<Target> targets = targets(false);
    ArrayNode arr = root.putArray("nonstream");
    for (int c : new int[] {1, 16, 64, 256}) {
      Map<String, List<ObjectNode>> runs = new LinkedHashMap<>();
      for (int r = 0; r < reps; r++) {
        List<Target> order = new ArrayList<>(targets);
        if (r % 2 == 1) {
          java.util.Collections.reverse(order);
        }
        for (Target t : order) {
          CpuMeter cpu = new CpuMeter();
          boolean profile = jfr && c == 64 && r == 0 && !t.name().equals("direct");
          if (profile) {
            jfrStart(main, "nonstream-c64");
          }
          ObjectNode n = wrk(t, c, seconds);
          if (profile) {
            jfrStop(main, "nonstream-c64");
          }
          if (!t.name().equals("direct")) {
            // Resident memory right after the load at this many connections (README's start command and its JVM flags).
            n.put("gateway_rss_bytes", Procs.rssBytes(main.proc().pid()));
          }
          n.set("load", cpu.stop());
          runs.computeIfAbsent(t.name(), k -> new ArrayList<>()).add(n);
          log("non-streaming c=%d %s: %.0f req/s, p50 %.3f ms, p99 %.3f ms, errors %d", c, t.name(),
              n.get("rps").asDouble(), n.get("p50_us").asDouble() / 1000, n.get("p99_us").asDouble() / 1000,
              n.get("errors").asLong());
        }
      }
      ObjectNode row = arr.addObject().put("connections", c);
      for (var e : runs.entrySet()) {
        // The best of the repetitions: background load on a shared machine only ever makes numbers worse.
        ObjectNode best = e.getValue().stream().max(Comparator.comparingDouble(n -> n.get("rps").asDouble())).get();
        ObjectNode o = row.putObject(e.getKey());
        o.put("rps", best.get("rps").asDouble());
        for (String p : List.of("p50", "p90", "p99", "p999")) {
          o.put(p + "_ms", best.get(p + "_us").asDouble() / 1000);
        }
        o.put("errors", best.get("errors").asLong());
        o.put("requests", best.get("requests").asLong());
        if (best.has("gateway_rss_bytes")) {
          o.put("gateway_rss_mb", round(best.get("gateway_rss_bytes").asLong() / 1e6));
        }
        // CPU time per request of each process, which background load does not inflate the way it does latency.
        JsonNode cpuSecs = best.path("load").path("process_cpu_seconds");
        for (var f : cpuSecs.properties()) {
          if (f.getValue().asDouble() > 0 && (f.getKey().equals("upstream") || f.getKey().equals(e.getKey()))) {
            o.put(f.getKey() + "_cpu_us_per_request",
                round(f.getValue().asDouble() * 1e6 / Math.max(1, best.get("requests").asLong())));
          }
        }
        o.put("load_background_cores", best.path("load").path("background_cpu_cores").asDouble());
        ArrayNode all = o.putArray("runs");
        e.getValue().forEach(all::add);
      }
      ObjectNode d = row.get("direct").deepCopy();
      ObjectNode g = (ObjectNode) row.get("gateway-" + main.name());
      row.put("throughput_ratio", round3(g.get("rps").asDouble() / d.get("rps").asDouble()));
      for (String p : List.of("p50", "p99", "p999")) {
        row.put("added_" + p + "_ms", round3(g.get(p + "_ms").asDouble() - d.get(p + "_ms").asDouble()));
      }
    }
  }

  /** Added latency below saturation: open-loop fixed rate, requests alternating direct / gateway. */
  private void fixedRate(Gateway main) throws Exception {
    int rate = quick ? 300 : 500;
    double seconds = quick ? 10 : 60;
    List<Target> targets = targets(false);
    List<RateClient.Target> rt = new ArrayList<>();
    for (Target t : targets) {
      rt.add(new RateClient.Target(t.name(), t.port(), "/v1/chat/completions", nonStreamBody(t.model("bench"))));
    }
    log("fixed rate: %d req/s per target for %.0f s", rate, seconds);
    RateClient.run(rt, rate, Math.min(3, seconds / 5), 4); // connections and JIT
    CpuMeter cpu = new CpuMeter();
    List<RateClient.Stats> stats = RateClient.run(rt, rate, seconds, 4);
    ObjectNode o = root.putObject("fixed_rate").put("rate_per_target", rate).put("seconds", seconds);
    o.set("load", cpu.stop());
    for (int i = 0; i < targets.size(); i++) {
      RateClient.Stats s = stats.get(i);
      ObjectNode t = o.putObject(targets.get(i).name());
      t.put("requests", s.fromSchedule.count()).put("errors", s.errors.get());
      if (s.lastError != null) {
        t.put("last_error", s.lastError);
      }
      putPercentiles(t, "", s.fromSchedule);
      putPercentiles(t, "send_", s.fromSend);
    }
    ObjectNode d = (ObjectNode) o.get("direct");
    ObjectNode g = (ObjectNode) o.get("gateway-" + main.name());
    for (String p : List.of("p50", "p90", "p99", "p999")) {
      o.put("added_" + p + "_ms", round3(g.get(p + "_ms").asDouble() - d.get(p + "_ms").asDouble()));
    }
    log("fixed rate: added p50 %.3f ms, p99 %.3f ms", o.get("added_p50_ms").asDouble(), o.get("added_p99_ms").asDouble());
  }

  private static void putPercentiles(ObjectNode o, String prefix, Samples s) {
    o.put(prefix + "mean_ms", round3(s.meanMs()));
    o.put(prefix + "p50_ms", round3(s.ms(50)));
    o.put(prefix + "p90_ms", round3(s.ms(90)));
    o.put(prefix + "p99_ms", round3(s.ms(99)));
    o.put(prefix + "p999_ms", round3(s.ms(99.9)));
    o.put(prefix + "max_ms", round3(s.ms(100)));
  }

  /** One stream at a time, 100 chunks 1 ms apart, alternating targets: added TTFT and total time. */
  private void singleStreams() throws Exception {
    double seconds = quick ? 10 : 60;
    String model = "bench-n100-g1";
    List<Target> targets = targets(true);
    Map<String, Samples> ttft = new LinkedHashMap<>();
    Map<String, Samples> total = new LinkedHashMap<>();
    Map<String, long[]> counts = new LinkedHashMap<>();
    for (Target t : targets) {
      ttft.put(t.name(), new Samples());
      total.put(t.name(), new Samples());
      counts.put(t.name(), new long[3]);
    }
    log("single streams: %s for %.0f s, targets alternating", model, seconds);
    CpuMeter cpu = new CpuMeter();
    long end = System.nanoTime() + (long) (seconds * 1e9);
    try (StreamClient sc = new StreamClient(1)) {
      while (System.nanoTime() < end) {
        for (Target t : targets) {
          StreamClient.Result r = sc.start(t.chat(), t.model(model), null).result.get(60, TimeUnit.SECONDS);
          long[] c = counts.get(t.name());
          c[0]++;
          if (r.ok()) {
            ttft.get(t.name()).add(r.ttftNanos());
            total.get(t.name()).add(r.totalNanos());
          } else {
            c[1]++;
          }
          c[2] += Math.max(0, 100 - r.chunks());
        }
      }
    }
    ObjectNode o = root.putObject("stream_1").put("model", model).put("chunks", 100).put("gap_ms", 1);
    o.set("load", cpu.stop());
    for (Target t : targets) {
      ObjectNode n = o.putObject(t.name());
      long[] c = counts.get(t.name());
      n.put("streams", c[0]).put("errors", c[1]).put("chunks_lost", c[2]);
      putPercentiles(n, "ttft_", ttft.get(t.name()));
      putPercentiles(n, "total_", total.get(t.name()));
      if (!t.name().equals("direct")) {
        n.put("added_ttft_p50_ms", round3(ttft.get(t.name()).ms(50) - ttft.get("direct").ms(50)));
        n.put("added_ttft_p99_ms", round3(ttft.get(t.name()).ms(99) - ttft.get("direct").ms(99)));
        n.put("added_total_p50_ms", round3(total.get(t.name()).ms(50) - total.get("direct").ms(50)));
        n.put("added_total_p99_ms", round3(total.get(t.name()).ms(99) - total.get("direct").ms(99)));
        log("single streams %s: added TTFT p50 %.3f ms, added total p50 %.3f ms", t.name(),
            n.get("added_ttft_p50_ms").asDouble(), n.get("added_total_p50_ms").asDouble());
      }
    }
  }

  /**
   * Time to first event and to first content, {@code concurrency} streams of {@code model} at once per round, the
   * targets alternating round by round. With a role-first upstream ({@code -r1}) the first event is the role-only
   * chunk the upstream sends at once, and the first content follows the gap.
   */
  private void ttftStreams(String key, String model, int concurrency) throws Exception {
    double seconds = quick ? 10 : 40;
    List<Target> targets = targets(true);
    Map<String, Samples> ttft = new LinkedHashMap<>();
    Map<String, Samples> firstEvent = new LinkedHashMap<>();
    Map<String, long[]> counts = new LinkedHashMap<>();
    for (Target t : targets) {
      ttft.put(t.name(), new Samples());
      firstEvent.put(t.name(), new Samples());
      counts.put(t.name(), new long[2]);
    }
    log("%s: %d x %s for %.0f s, targets alternating", key, concurrency, model, seconds);
    CpuMeter cpu = new CpuMeter();
    long end = System.nanoTime() + (long) (seconds * 1e9);
    try (StreamClient sc = new StreamClient(Math.max(2, concurrency))) {
      while (System.nanoTime() < end) {
        for (Target t : targets) {
          List<StreamClient.Handle> hs = new ArrayList<>();
          for (int i = 0; i < concurrency; i++) {
            hs.add(sc.start(t.chat(), t.model(model), null));
          }
          for (StreamClient.Handle h : hs) {
            StreamClient.Result r = h.result.get(60, TimeUnit.SECONDS);
            long[] c = counts.get(t.name());
            c[0]++;
            if (r.ok()) {
              ttft.get(t.name()).add(r.ttftNanos());
              firstEvent.get(t.name()).add(r.firstEventNanos());
            } else {
              c[1]++;
            }
          }
        }
      }
    }
    ObjectNode o = root.putObject(key).put("model", model).put("concurrency", concurrency);
    o.set("load", cpu.stop());
    for (Target t : targets) {
      ObjectNode n = o.putObject(t.name());
      long[] c = counts.get(t.name());
      n.put("streams", c[0]).put("errors", c[1]);
      putPercentiles(n, "ttft_", ttft.get(t.name()));
      putPercentiles(n, "first_event_", firstEvent.get(t.name()));
      if (!t.name().equals("direct")) {
        n.put("added_ttft_p50_ms", round3(ttft.get(t.name()).ms(50) - ttft.get("direct").ms(50)));
        n.put("added_ttft_p99_ms", round3(ttft.get(t.name()).ms(99) - ttft.get("direct").ms(99)));
        n.put("added_first_event_p50_ms", round3(firstEvent.get(t.name()).ms(50) - firstEvent.get("direct").ms(50)));
        log("%s %s: added TTFT p50 %.3f ms, added first event p50 %.3f ms", key, t.name(),
            n.get("added_ttft_p50_ms").asDouble(), n.get("added_first_event_p50_ms").asDouble());
      }
    }
  }

  /**
   * The first request on a new connection to a gateway that has been idle: each sample waits {@code idle}, then opens
   * a connection and sends one non-streaming request; direct and gateways alternate.
   */
  private void freshConnections() throws Exception {
    int samples = quick ? 15 : 60;
    long idleMs = quick ? 1000 : 2000;
    List<Target> targets = targets(true);
    Map<String, Samples> lat = new LinkedHashMap<>();
    for (Target t : targets) {
      lat.put(t.name(), new Samples());
    }
    log("fresh connections: %d samples per target, %d ms idle before each", samples, idleMs);
    for (int i = 0; i < samples; i++) {
      for (Target t : targets) {
        byte[] req = RateClient.request(new RateClient.Target(t.name(), t.port(), "/v1/chat/completions",
            nonStreamBody(t.model("bench"))));
        Thread.sleep(idleMs);
        long t0 = System.nanoTime();
        try (RateClient.Connection c = new RateClient.Connection(t.port())) {
          if (c.exchange(req) == 200) {
            lat.get(t.name()).add(System.nanoTime() - t0);
          }
        }
      }
    }
    ObjectNode o = root.putObject("fresh_connection").put("samples", samples).put("idle_ms", idleMs);
    for (Target t : targets) {
      ObjectNode n = o.putObject(t.name());
      putPercentiles(n, "", lat.get(t.name()));
      if (!t.name().equals("direct")) {
        n.put("added_p50_ms", round3(lat.get(t.name()).ms(50) - lat.get("direct").ms(50)));
        log("fresh connection %s: added p50 %.3f ms (p50 %.3f vs direct %.3f)", t.name(), n.get("added_p50_ms").asDouble(),
            lat.get(t.name()).ms(50), lat.get("direct").ms(50));
      }
    }
  }

  /** 1,000 concurrent streams of 100 chunks 20 ms apart, in rounds alternating between targets. */
  private void concurrentStreams() throws Exception {
    int streams = 1000;
    int rounds = quick ? 1 : 3;
    String model = "bench-n100-g20";
    List<Target> targets = targets(true);
    ObjectNode o = root.putObject("stream_1000").put("streams", streams).put("chunks", 100).put("gap_ms", 20)
        .put("rounds", rounds);
    Map<String, Samples> ttft = new LinkedHashMap<>();
    Map<String, Samples> total = new LinkedHashMap<>();
    Map<String, long[]> counts = new LinkedHashMap<>();
    Map<String, List<Double>> wall = new LinkedHashMap<>();
    Map<String, java.util.Set<String>> errorSamples = new LinkedHashMap<>();
    StreamClient sc = new StreamClient(2);
    try {
      for (Target t : targets) {
        ttft.put(t.name(), new Samples());
        total.put(t.name(), new Samples());
        counts.put(t.name(), new long[4]);
        wall.put(t.name(), new ArrayList<>());
        // Opens the connections (ramped, so no accept queue overflows) that the measured rounds then reuse.
        log("1,000 streams: opening connections to %s", t.name());
        List<StreamClient.Handle> hs = new ArrayList<>();
        for (int i = 0; i < streams; i++) {
          hs.add(sc.start(t.chat(), t.model("bench-n5-g200"), null));
          if (i % 100 == 99) {
            Thread.sleep(50);
          }
        }
        StreamClient.collect(hs.stream().map(h -> h.result).toList(), Duration.ofSeconds(60));
      }
      CpuMeter cpu = new CpuMeter();
      for (int r = 0; r < rounds; r++) {
        List<Target> order = new ArrayList<>(targets);
        if (r % 2 == 1) {
          java.util.Collections.reverse(order);
        }
        for (Target t : order) {
          Gateway g = gateway(t);
          boolean profile = jfr && r == 0 && g != null && g.name().equals("h2");
          if (profile) {
            jfrStart(g, "stream1000");
          }
          long t0 = System.nanoTime();
          List<StreamClient.Handle> hs = new ArrayList<>(streams);
          for (int i = 0; i < streams; i++) {
            hs.add(sc.start(t.chat(), t.model(model), null));
          }
          List<StreamClient.Result> rs = StreamClient.collect(hs.stream().map(h -> h.result).toList(),
              Duration.ofSeconds(120));
          double secs = (System.nanoTime() - t0) / 1e9;
          if (profile) {
            jfrStop(g, "stream1000");
          }
          wall.get(t.name()).add(secs);
          long[] c = counts.get(t.name());
          long lost = 0;
          for (StreamClient.Result res : rs) {
            c[0]++;
            if (!res.ok()) {
              c[1]++;
              errorSamples.computeIfAbsent(t.name(), k -> new java.util.LinkedHashSet<>());
              if (errorSamples.get(t.name()).size() < 5) {
                errorSamples.get(t.name()).add(String.valueOf(res.error()));
              }
            } else {
              ttft.get(t.name()).add(res.ttftNanos());
              total.get(t.name()).add(res.totalNanos());
            }
            lost += Math.max(0, 100 - res.chunks());
            c[3] += res.outOfOrder();
            c[2] += res.chunks();
          }
          log("1,000 streams %s: %.2f s, errors %d, chunks lost %d, TTFT p50 %.1f ms p99 %.1f ms", t.name(), secs,
              rs.stream().filter(x -> !x.ok()).count(), lost, ttft.get(t.name()).ms(50), ttft.get(t.name()).ms(99));
        }
      }
      o.set("load", cpu.stop());
    } finally {
      sc.close();
      sc = null;
      dropClientConnections();
    }
    for (Target t : targets) {
      ObjectNode n = o.putObject(t.name());
      long[] c = counts.get(t.name());
      n.put("streams", c[0]).put("errors", c[1]).put("chunks_received", c[2])
          .put("chunks_lost", c[0] * 100 - c[2]).put("out_of_order", c[3]);
      if (errorSamples.containsKey(t.name())) {
        ArrayNode es = n.putArray("error_samples");
        errorSamples.get(t.name()).forEach(es::add);
      }
      double best = wall.get(t.name()).stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
      n.put("round_seconds_best", round3(best));
      n.put("chunks_per_second", round(streams * 100 / best));
      putPercentiles(n, "ttft_", ttft.get(t.name()));
      putPercentiles(n, "total_", total.get(t.name()));
      if (!t.name().equals("direct")) {
        n.put("added_ttft_p50_ms", round3(ttft.get(t.name()).ms(50) - ttft.get("direct").ms(50)));
        n.put("added_ttft_p99_ms", round3(ttft.get(t.name()).ms(99) - ttft.get("direct").ms(99)));
        n.put("added_total_p50_ms", round3(total.get(t.name()).ms(50) - total.get("direct").ms(50)));
        n.put("added_total_p99_ms", round3(total.get(t.name()).ms(99) - total.get("direct").ms(99)));
      }
    }
  }

  private Gateway gateway(Target t) {
    return gateways.stream().filter(g -> g.port() == t.port()).findFirst().orElse(null);
  }

  /**
   * Java 17's HttpClient has no close(): its pooled connections go when the client is collected. Without this
   * the next phase would start with thousands of idle sockets open in every process.
   */
  private void dropClientConnections() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(300);
    }
  }

  /** Saturated streaming: 64 streams back to back, 100 chunks each with no gap; chunks per second. */
  private void streamingThroughput() throws Exception {
    int concurrency = 64;
    int seconds = quick ? 4 : 15;
    int reps = quick ? 1 : 2;
    String model = "bench-n100-g0";
    List<Target> targets = targets(true);
    ObjectNode o = root.putObject("stream_throughput").put("concurrency", concurrency).put("chunks", 100)
        .put("gap_ms", 0).put("seconds", seconds);
    Map<String, List<ObjectNode>> runs = new LinkedHashMap<>();
    try (StreamClient sc = new StreamClient(2)) {
      for (int r = 0; r < reps; r++) {
        List<Target> order = new ArrayList<>(targets);
        if (r % 2 == 1) {
          java.util.Collections.reverse(order);
        }
        for (Target t : order) {
          Gateway g = gateway(t);
          boolean profile = jfr && r == 0 && g != null;
          if (profile) {
            jfrStart(g, "throughput-" + g.name());
          }
          CpuMeter cpu = new CpuMeter();
          long t0 = System.nanoTime();
          List<StreamClient.Result> rs = sc.closedLoop(t.chat(), t.model(model), concurrency,
              Duration.ofSeconds(seconds), Duration.ofSeconds(60));
          double secs = (System.nanoTime() - t0) / 1e9;
          if (profile) {
            jfrStop(g, "throughput-" + g.name());
          }
          long chunks = rs.stream().mapToLong(StreamClient.Result::chunks).sum();
          long errors = rs.stream().filter(x -> !x.ok()).count();
          long lost = rs.stream().mapToLong(x -> Math.max(0, 100 - x.chunks())).sum();
          ObjectNode n = JSON.createObjectNode().put("streams", rs.size()).put("errors", errors)
              .put("chunks_lost", lost).put("seconds", round3(secs)).put("chunks_per_second", round(chunks / secs))
              .put("streams_per_second", round(rs.size() / secs));
          ObjectNode load = cpu.stop();
          n.set("load", load);
          double procCpu = load.path("process_cpu_seconds").path(t.name().equals("direct") ? "upstream" : t.name())
              .asDouble();
          n.put("cpu_us_per_chunk", round(procCpu * 1e6 / Math.max(1, chunks)));
          runs.computeIfAbsent(t.name(), k -> new ArrayList<>()).add(n);
          log("throughput %s: %.0f chunks/s, %.0f streams/s, errors %d", t.name(), chunks / secs, rs.size() / secs,
              errors);
        }
      }
    }
    for (var e : runs.entrySet()) {
      ObjectNode best = e.getValue().stream()
          .max(Comparator.comparingDouble(n -> n.get("chunks_per_second").asDouble())).get().deepCopy();
      ArrayNode all = best.putArray("runs");
      e.getValue().forEach(all::add);
      o.set(e.getKey(), best);
    }
    if (o.has("gateway-off")) {
      double off = o.get("gateway-off").get("chunks_per_second").asDouble();
      for (String k : List.of("gateway-h2", "gateway-pg")) {
        if (o.has(k)) {
          ((ObjectNode) o.get(k)).put("journal_cost", round3(1 - o.get(k).get("chunks_per_second").asDouble() / off));
        }
      }
    }
    dropClientConnections();
  }

  /** Heap and RSS of the gateway with idle streams open (one chunk, then a 10-minute gap). */
  private void idleStreams(Gateway main) throws Exception {
    ArrayNode arr = root.putArray("idle_streams");
    // Each proxied stream holds two sockets in the gateway; the hard limit on open files here is 20,000 per
    // process, so 9,000 is the most that fits. The mock provider needs no upstream socket: 10,000 fit.
    long mainFds = Procs.fds(main.proc().pid());
    idleSeries(arr, main, "openai/bench-n3-g600000", null, new int[] {1000, 9000});
    Gateway off = gateways.stream().filter(g -> g.name().equals("off")).findFirst().orElse(null);
    if (off != null) {
      idleSeries(arr, off, "openai/bench-n3-g600000", null, new int[] {1000});
    }
    // A client that goes away from an idle stream is noticed at the gateway's next write (the SSE keep-alive,
    // every 15 s): wait for the previous series' sockets to close before the next baseline.
    waitForFds(main, mainFds + 100, Duration.ofSeconds(60));
    idleSeries(arr, main, "mock/echo", "\"metadata\":{\"mock_chunk_delay_ms\":\"600000\"}", new int[] {1000, 10000});
  }

  private void waitForFds(Gateway g, long fds, Duration timeout) throws InterruptedException {
    long t0 = System.nanoTime();
    long deadline = t0 + timeout.toNanos();
    while (Procs.fds(g.proc().pid()) > fds && System.nanoTime() < deadline) {
      Thread.sleep(500);
    }
    log("gateway %s: %d open files %.0f s after the clients left", g.name(), Procs.fds(g.proc().pid()),
        (System.nanoTime() - t0) / 1e9);
  }

  private void idleSeries(ArrayNode arr, Gateway g, String model, String extra, int[] steps) throws Exception {
    long pid = g.proc().pid();
    Thread.sleep(1000);
    Procs.Histogram base = Procs.histogram(pid);
    long baseHeap = Procs.heapUsed(pid);
    long baseRss = Procs.rssBytes(pid);
    long baseFds = Procs.fds(pid);
    log("idle %s on %s: baseline live heap %.1f MB, RSS %.1f MB", model, g.name(), base.totalBytes() / 1e6, baseRss / 1e6);
    StreamClient sc = new StreamClient(2);
    List<StreamClient.Handle> open = new ArrayList<>();
    try {
      for (int target : steps) {
        long t0 = System.nanoTime();
        while (open.size() < target) {
          open.add(sc.start(g.chat(), model, extra));
          if (open.size() % 200 == 0) {
            Thread.sleep(100);
          }
        }
        int firstFailed = 0;
        java.util.Set<String> errors = new java.util.LinkedHashSet<>();
        for (StreamClient.Handle h : open) {
          try {
            h.first.get(Math.max(1, TimeUnit.SECONDS.toNanos(90) - (System.nanoTime() - t0)), TimeUnit.NANOSECONDS);
          } catch (Exception e) {
            firstFailed++;
            if (errors.size() < 5) {
              errors.add(String.valueOf(e.getCause() != null ? e.getCause().getMessage() : e));
            }
          }
        }
        Thread.sleep(2000);
        Procs.Histogram h = Procs.histogram(pid);
        long heap = Procs.heapUsed(pid);
        long rss = Procs.rssBytes(pid);
        // Per open stream: a stream that never got its first chunk is not holding what an open one holds.
        long opened = Math.max(1, target - firstFailed);
        ObjectNode n = arr.addObject().put("gateway", g.name()).put("model", model).put("streams", target)
            .put("streams_without_first_chunk", firstFailed)
            .put("live_heap_bytes", h.totalBytes()).put("baseline_live_heap_bytes", base.totalBytes())
            .put("heap_bytes_per_stream", (h.totalBytes() - base.totalBytes()) / opened)
            .put("heap_used_bytes", heap).put("baseline_heap_used_bytes", baseHeap)
            .put("rss_bytes", rss).put("baseline_rss_bytes", baseRss)
            .put("rss_bytes_per_stream", (rss - baseRss) / opened)
            .put("threads", Procs.threads(pid)).put("fds", Procs.fds(pid));
        if (!errors.isEmpty()) {
          ArrayNode es = n.putArray("error_samples");
          errors.forEach(es::add);
        }
        ArrayNode top = n.putArray("top_classes_per_stream");
        h.classes().entrySet().stream()
            .map(e -> Map.entry(e.getKey(), e.getValue()[1] - base.classes().getOrDefault(e.getKey(), new long[2])[1]))
            .sorted((a, b) -> Long.compare(b.getValue(), a.getValue())).limit(12)
            .forEach(e -> top.addObject().put("class", e.getKey()).put("bytes_per_stream", round((double) e.getValue() / opened)));
        log("idle %s on %s: %d streams (%d without first chunk): %.0f B heap/stream, %.0f B RSS/stream", model,
            g.name(), target, firstFailed, n.get("heap_bytes_per_stream").asDouble(),
            n.get("rss_bytes_per_stream").asDouble());
      }
    } finally {
      open.forEach(StreamClient.Handle::cancel);
      sc.close();
      open.clear();
      sc = null;
      dropClientConnections();
    }
    waitForFds(g, baseFds + 100, Duration.ofSeconds(45));
    Procs.Histogram after = Procs.histogram(pid);
    arr.addObject().put("gateway", g.name()).put("model", model).put("streams", 0).put("after_close", true)
        .put("live_heap_bytes", after.totalBytes()).put("baseline_live_heap_bytes", base.totalBytes())
        .put("rss_bytes", Procs.rssBytes(pid)).put("fds", Procs.fds(pid));
    log("idle %s on %s: after closing, live heap %.1f MB (baseline %.1f MB), fds %d", model, g.name(),
        after.totalBytes() / 1e6, base.totalBytes() / 1e6, Procs.fds(pid));
  }

  /** A steady mixed load on the default gateway; heap after GC and RSS at the start, along the way, and at the end. */
  private void soak(Gateway g) throws Exception {
    int seconds = quick ? 60 : 600;
    int nonStreamRate = 200;
    int streamRate = 20;
    String model = "openai/bench-n50-g10";
    long pid = g.proc().pid();
    ObjectNode o = root.putObject("soak").put("seconds", seconds).put("non_stream_rate", nonStreamRate)
        .put("stream_rate", streamRate).put("stream_model", model);
    log("soak: %d s of %d non-streaming req/s + %d streams/s (%s) on gateway %s", seconds, nonStreamRate, streamRate,
        model, g.name());
    o.put("start_live_heap_bytes", Procs.histogram(pid).totalBytes());
    o.put("start_rss_bytes", Procs.rssBytes(pid));
    ArrayNode samples = o.putArray("samples");
    AtomicLong streamErrors = new AtomicLong();
    AtomicLong streamLost = new AtomicLong();
    AtomicLong streamsDone = new AtomicLong();
    Samples ttft = new Samples();
    CpuMeter cpu = new CpuMeter();
    long t0 = System.nanoTime();
    CompletableFuture<List<RateClient.Stats>> ns = CompletableFuture.supplyAsync(() -> {
      try {
        return RateClient.run(List.of(new RateClient.Target("soak", g.port(), "/v1/chat/completions",
            nonStreamBody("openai/bench"))), nonStreamRate, seconds, 4);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    StreamClient sc = new StreamClient(2);
    List<CompletableFuture<StreamClient.Result>> pending = new ArrayList<>();
    long interval = 1_000_000_000L / streamRate;
    long next = t0;
    long sampleEvery = TimeUnit.SECONDS.toNanos(quick ? 10 : 30);
    long nextSample = t0 + sampleEvery;
    long end = t0 + TimeUnit.SECONDS.toNanos(seconds);
    long midGc = t0 + TimeUnit.SECONDS.toNanos(seconds) / 2;
    boolean midDone = false;
    while (System.nanoTime() < end) {
      long now = System.nanoTime();
      if (now >= next) {
        StreamClient.Handle h = sc.start(g.chat(), model, null);
        h.result.whenComplete((r, e) -> {
          streamsDone.incrementAndGet();
          if (r == null || !r.ok()) {
            streamErrors.incrementAndGet();
          } else {
            ttft.add(r.ttftNanos());
          }
          if (r != null) {
            streamLost.addAndGet(Math.max(0, 50 - r.chunks()));
          }
        });
        pending.add(h.result);
        next += interval;
      }
      if (now >= nextSample) {
        samples.addObject().put("t_s", round((now - t0) / 1e9)).put("heap_used_bytes", Procs.heapUsed(pid))
            .put("rss_bytes", Procs.rssBytes(pid)).put("threads", Procs.threads(pid)).put("fds", Procs.fds(pid));
        nextSample += sampleEvery;
      }
      if (!midDone && now >= midGc) {
        midDone = true;
        o.put("mid_live_heap_bytes", Procs.histogram(pid).totalBytes());
        o.put("mid_rss_bytes", Procs.rssBytes(pid));
      }
      pending.removeIf(CompletableFuture::isDone);
      Thread.sleep(1);
    }
    StreamClient.collect(pending, Duration.ofSeconds(60));
    List<RateClient.Stats> nsStats = ns.get(120, TimeUnit.SECONDS);
    sc.close();
    o.set("load", cpu.stop());
    Thread.sleep(2000);
    o.put("end_live_heap_bytes", Procs.histogram(pid).totalBytes());
    o.put("end_rss_bytes", Procs.rssBytes(pid));
    o.put("streams", streamsDone.get()).put("stream_errors", streamErrors.get()).put("chunks_lost", streamLost.get());
    putPercentiles(o, "stream_ttft_", ttft);
    RateClient.Stats s = nsStats.get(0);
    o.put("non_stream_requests", s.fromSchedule.count()).put("non_stream_errors", s.errors.get());
    putPercentiles(o, "non_stream_", s.fromSchedule);
    log("soak: live heap start %.1f MB, mid %.1f MB, end %.1f MB; RSS start %.1f MB, end %.1f MB; errors %d + %d",
        o.get("start_live_heap_bytes").asDouble() / 1e6, o.path("mid_live_heap_bytes").asDouble() / 1e6,
        o.get("end_live_heap_bytes").asDouble() / 1e6, o.get("start_rss_bytes").asDouble() / 1e6,
        o.get("end_rss_bytes").asDouble() / 1e6, streamErrors.get(), s.errors.get());
  }

  // ---------------------------------------------------------------- profiling

  private void jfrStart(Gateway g, String name) throws Exception {
    Path dir = work.resolve("jfr");
    Files.createDirectories(dir);
    Procs.run(List.of("jcmd", Long.toString(g.proc().pid()), "JFR.start", "name=" + name, "settings=profile",
        "filename=" + dir.resolve(name + ".jfr")), Map.of(), 30);
  }

  private void jfrStop(Gateway g, String name) throws Exception {
    Procs.run(List.of("jcmd", Long.toString(g.proc().pid()), "JFR.stop", "name=" + name), Map.of(), 60);
    log("JFR recording written: %s", work.resolve("jfr").resolve(name + ".jfr"));
  }

  // ---------------------------------------------------------------- machine and load

  private ObjectNode machine() throws Exception {
    ObjectNode m = JSON.createObjectNode();
    m.put("nproc", Runtime.getRuntime().availableProcessors());
    for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
      if (line.startsWith("MemTotal:")) {
        m.put("memory_kb", Long.parseLong(line.replaceAll("\\D", "")));
      }
    }
    for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
      if (line.startsWith("model name")) {
        m.put("cpu", line.substring(line.indexOf(':') + 1).trim());
        break;
      }
    }
    m.put("kernel", Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim());
    m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
    m.put("java_version_output", Procs.run(List.of(java(), "-version"), Map.of(), 30).trim());
    m.put("wrk", Procs.run(List.of("sh", "-c", "wrk --version 2>&1 | head -1 || true"), Map.of(), 10).trim());
    try {
      m.put("git_commit", Procs.run(List.of("git", "rev-parse", "HEAD"), Map.of(), 10).trim());
      m.put("git_dirty", !Procs.run(List.of("git", "status", "--porcelain", "--untracked-files=no"), Map.of(), 10)
          .isBlank());
    } catch (IOException e) {
      m.put("git_commit", "unknown");
    }
    m.put("open_files_limit", Procs.run(List.of("sh", "-c", "ulimit -n"), Map.of(), 10).trim());
    m.put("load_average_start", Files.readString(Path.of("/proc/loadavg")).trim());
    return m;
  }

  /** CPU used over an interval: by this run's processes, and by everything else on the machine. */
  private final class CpuMeter {
    private final long t0 = System.nanoTime();
    private final long busy0 = Procs.machineBusyTicks();
    private final long ours0 = ours();
    private final Map<String, Long> each0 = each();

    private Map<String, Long> each() {
      Map<String, Long> m = new LinkedHashMap<>();
      for (Procs.Proc p : procs.live()) {
        m.put(p.name(), Procs.cpuTicks(p.pid(), false));
      }
      return m;
    }

    private long ours() {
      long t = Procs.cpuTicks(ProcessHandle.current().pid(), true);
      for (Procs.Proc p : procs.live()) {
        t += Procs.cpuTicks(p.pid(), false);
      }
      return t;
    }

    ObjectNode stop() {
      double secs = (System.nanoTime() - t0) / 1e9;
      double busy = (Procs.machineBusyTicks() - busy0) / 100.0;
      double ours = (ours() - ours0) / 100.0;
      ObjectNode o = JSON.createObjectNode().put("seconds", round3(secs)).put("bench_cpu_cores", round3(ours / secs))
          .put("background_cpu_cores", round3(Math.max(0, busy - ours) / secs));
      ObjectNode per = o.putObject("process_cpu_seconds");
      each().forEach((name, ticks) -> {
        if (each0.containsKey(name)) {
          per.put(name, (ticks - each0.get(name)) / 100.0);
        }
      });
      return o;
    }
  }

  // ---------------------------------------------------------------- output

  private void write(ZonedDateTime started) throws IOException {
    Files.createDirectories(results);
    String stamp = started.format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    String base = stamp + "-" + (quick ? "quick" : "full") + (only.isEmpty() ? "" : "-partial");
    String command = "bench/run.sh" + (quick ? " --quick" : "");
    root.put("command", command);
    Files.writeString(results.resolve(base + ".json"), JSON.writeValueAsString(root));
    String md = Report.markdown(root, base + ".json");
    Files.writeString(results.resolve(base + ".md"), md);
    log("results: %s.{md,json}", results.resolve(base));
    if (Files.exists(readme) && only.isEmpty()) {
      Report.updateReadme(readme, root, "bench/results/" + base + ".md");
      log("README.md Benchmarks section updated");
    }
  }

  static double round(double v) {
    return Math.round(v * 10) / 10.0;
  }

  static double round3(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  private static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (var s = Files.walk(p)) {
      for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(x);
      }
    }
  }

  static JsonNode read(Path p) throws IOException {
    return JSON.readTree(p.toFile());
  }
}
