package io.pekkollm.bench;

import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The ingress formats side by side on one gateway and one upstream: {@code IngressBench UPSTREAM GATEWAY ROUNDS
 * WARMUP_SECONDS EMBED_SECONDS}. One request at a time, the targets interleaved in each round (the order rotates),
 * so background load hits them alike: non-streaming latency and streaming time to first text and total time of
 * Chat Completions direct to the upstream, and through the gateway as Chat Completions, Anthropic Messages and the
 * Responses API ({@code store: false}, and stored); then embeddings throughput (8 concurrent requests of 16 inputs,
 * closed loop) direct vs through the gateway, alternating rounds. Prints a Markdown report.
 */
public final class IngressBench {
  private static final String STREAM_MODEL = "bench-n20-g0";
  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  private IngressBench() {}

  /** One kind of request: where it goes, its body, and the SSE data line that carries the first text. */
  private record Target(String name, String url, String body, String streamBody, String textMarker) {}

  public static void main(String[] args) throws Exception {
    String upstream = args[0];
    String gateway = args[1];
    int rounds = Integer.parseInt(args[2]);
    int warmupSeconds = Integer.parseInt(args[3]);
    int embedSeconds = Integer.parseInt(args[4]);
    long gatewayPid = args.length > 5 ? Long.parseLong(args[5]) : -1;
    long upstreamPid = args.length > 6 ? Long.parseLong(args[6]) : -1;
    String user = "\"messages\":[{\"role\":\"user\",\"content\":\"Say hello.\"}]";
    List<Target> targets = List.of(
        new Target("direct chat", upstream + "/v1/chat/completions", "{\"model\":\"bench\"," + user + "}",
            "{\"model\":\"" + STREAM_MODEL + "\",\"stream\":true," + user + "}", "\"content\":\""),
        new Target("gateway chat", gateway + "/v1/chat/completions", "{\"model\":\"openai/bench\"," + user + "}",
            "{\"model\":\"openai/" + STREAM_MODEL + "\",\"stream\":true," + user + "}", "\"content\":\""),
        new Target("gateway messages", gateway + "/v1/messages",
            "{\"model\":\"openai/bench\",\"max_tokens\":256," + user + "}",
            "{\"model\":\"openai/" + STREAM_MODEL + "\",\"max_tokens\":256,\"stream\":true," + user + "}",
            "\"text_delta\""),
        new Target("gateway responses", gateway + "/v1/responses",
            "{\"model\":\"openai/bench\",\"store\":false,\"input\":\"Say hello.\"}",
            "{\"model\":\"openai/" + STREAM_MODEL + "\",\"store\":false,\"stream\":true,\"input\":\"Say hello.\"}",
            "response.output_text.delta"),
        new Target("gateway responses stored", gateway + "/v1/responses",
            "{\"model\":\"openai/bench\",\"input\":\"Say hello.\"}",
            "{\"model\":\"openai/" + STREAM_MODEL + "\",\"stream\":true,\"input\":\"Say hello.\"}",
            "response.output_text.delta"));
    Map<String, long[]> whole = new LinkedHashMap<>();
    Map<String, long[]> ttft = new LinkedHashMap<>();
    Map<String, long[]> total = new LinkedHashMap<>();
    for (Target t : targets) {
      whole.put(t.name(), new long[rounds]);
      ttft.put(t.name(), new long[rounds]);
      total.put(t.name(), new long[rounds]);
    }
    long warmEnd = System.nanoTime() + warmupSeconds * 1_000_000_000L;
    int warm = 0;
    while (System.nanoTime() < warmEnd) {
      for (Target t : targets) {
        whole(t);
        stream(t);
      }
      warm++;
    }
    System.err.println("warm-up: " + warm + " rounds");
    int n = targets.size();
    for (int r = 0; r < rounds; r++) {
      for (int k = 0; k < n; k++) {
        Target t = targets.get((r + k) % n);
        whole.get(t.name())[r] = whole(t);
      }
      for (int k = 0; k < n; k++) {
        Target t = targets.get((r + k) % n);
        long[] s = stream(t);
        ttft.get(t.name())[r] = s[0];
        total.get(t.name())[r] = s[1];
      }
    }
    StringBuilder md = new StringBuilder();
    md.append("Requests one at a time, ").append(rounds).append(" rounds, targets interleaved (order rotating); ")
        .append("streams of 20 chunks without gaps; microseconds.\n\n");
    md.append("| target | non-stream p50 | p99 | stream TTFT p50 | p99 | stream total p50 | p99 |\n");
    md.append("|---|---|---|---|---|---|---|\n");
    for (Target t : targets) {
      md.append(String.format(Locale.ROOT, "| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f |%n", t.name(),
          pct(whole.get(t.name()), 50), pct(whole.get(t.name()), 99), pct(ttft.get(t.name()), 50),
          pct(ttft.get(t.name()), 99), pct(total.get(t.name()), 50), pct(total.get(t.name()), 99)));
    }
    md.append("\nAdded by the gateway (p50 minus direct chat's p50), and each format against gateway chat:\n\n");
    md.append("| target | non-stream added | stream TTFT added | vs gateway chat: non-stream | TTFT |\n");
    md.append("|---|---|---|---|---|\n");
    for (Target t : targets.subList(1, n)) {
      md.append(String.format(Locale.ROOT, "| %s | %+.0f | %+.0f | %+.0f | %+.0f |%n", t.name(),
          pct(whole.get(t.name()), 50) - pct(whole.get("direct chat"), 50),
          pct(ttft.get(t.name()), 50) - pct(ttft.get("direct chat"), 50),
          pct(whole.get(t.name()), 50) - pct(whole.get("gateway chat"), 50),
          pct(ttft.get(t.name()), 50) - pct(ttft.get("gateway chat"), 50)));
    }
    md.append(embeddings(upstream, gateway, embedSeconds, gatewayPid, upstreamPid));
    System.out.print(md);
  }

  /** Microseconds for one non-streaming request. */
  private static long whole(Target t) throws Exception {
    long t0 = System.nanoTime();
    HttpResponse<byte[]> r = send(post(t.url(), t.body()), HttpResponse.BodyHandlers.ofByteArray());
    long us = (System.nanoTime() - t0) / 1000;
    if (r.statusCode() != 200) {
      throw new IllegalStateException(t.name() + ": " + r.statusCode() + " " + new String(r.body(), StandardCharsets.UTF_8));
    }
    return us;
  }

  /** Microseconds to the first SSE data line with text, and to the end of the stream. */
  private static long[] stream(Target t) throws Exception {
    long t0 = System.nanoTime();
    HttpResponse<InputStream> r = send(post(t.url(), t.streamBody()), HttpResponse.BodyHandlers.ofInputStream());
    long first = -1;
    try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
      if (r.statusCode() != 200) {
        throw new IllegalStateException(t.name() + ": " + r.statusCode());
      }
      String line;
      while ((line = in.readLine()) != null) {
        if (first < 0 && line.startsWith("data:") && line.contains(t.textMarker())) {
          first = System.nanoTime();
        }
      }
    }
    long end = System.nanoTime();
    if (first < 0) {
      throw new IllegalStateException(t.name() + ": no text in the stream");
    }
    return new long[] {(first - t0) / 1000, (end - t0) / 1000};
  }

  /**
   * Sends {@code req}, once more when the pooled connection it went out on had just been closed by the server's
   * idle timeout (nothing was processed then; the JDK client reports it as an IOException without a response).
   */
  private static <T> HttpResponse<T> send(HttpRequest req, HttpResponse.BodyHandler<T> handler) throws Exception {
    try {
      return HTTP.send(req, handler);
    } catch (java.io.IOException e) {
      return HTTP.send(req, handler);
    }
  }

  private static HttpRequest post(String url, String body) {
    return HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
        .header("Content-Type", "application/json").header("anthropic-version", "2023-06-01")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build();
  }

  private static double pct(long[] v, int p) {
    long[] s = v.clone();
    Arrays.sort(s);
    return s[Math.min(s.length - 1, (int) Math.ceil(p / 100.0 * s.length) - 1)];
  }

  /** Embeddings throughput, direct vs gateway in alternating rounds of {@code seconds / 3}. */
  private static String embeddings(String upstream, String gateway, int seconds, long gatewayPid, long upstreamPid)
      throws Exception {
    StringBuilder inputs = new StringBuilder("[");
    for (int i = 0; i < 16; i++) {
      inputs.append(i == 0 ? "" : ",").append("\"a sentence to embed, number ").append(i).append('"');
    }
    inputs.append(']');
    String direct = "{\"model\":\"text-embedding-3-small\",\"input\":" + inputs + "}";
    String through = "{\"model\":\"openai/text-embedding-3-small\",\"input\":" + inputs + "}";
    long[] requests = new long[2];
    double[] secs = new double[2];
    List<Long> latDirect = new ArrayList<>();
    List<Long> latGateway = new ArrayList<>();
    int round = Math.max(1, seconds / 3);
    long gatewayTicks = 0;
    long[] upstreamTicks = new long[2];
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      closedLoop(pool, upstream + "/v1/embeddings", direct, 2, new ArrayList<>());
      closedLoop(pool, gateway + "/v1/embeddings", through, 2, new ArrayList<>());
      for (int i = 0; i < 3; i++) {
        for (int which : i % 2 == 0 ? new int[] {0, 1} : new int[] {1, 0}) {
          List<Long> lat = which == 0 ? latDirect : latGateway;
          long t0 = System.nanoTime();
          long g0 = gatewayPid > 0 ? Procs.cpuTicks(gatewayPid, false) : 0;
          long u0 = upstreamPid > 0 ? Procs.cpuTicks(upstreamPid, false) : 0;
          long done = closedLoop(pool, which == 0 ? upstream + "/v1/embeddings" : gateway + "/v1/embeddings",
              which == 0 ? direct : through, round, lat);
          requests[which] += done;
          secs[which] += (System.nanoTime() - t0) / 1e9;
          if (which == 1 && gatewayPid > 0) {
            gatewayTicks += Procs.cpuTicks(gatewayPid, false) - g0;
          }
          if (upstreamPid > 0) {
            upstreamTicks[which] += Procs.cpuTicks(upstreamPid, false) - u0;
          }
        }
      }
    } finally {
      pool.shutdownNow();
    }
    long[] d = latDirect.stream().mapToLong(Long::longValue).toArray();
    long[] g = latGateway.stream().mapToLong(Long::longValue).toArray();
    String cpu = gatewayPid <= 0 ? "" : String.format(Locale.ROOT, "%nCPU per request (from /proc): gateway %.0f us, "
        + "upstream %.0f us (direct rounds) and %.0f us (gateway rounds).%n", gatewayTicks * 1e4 / requests[1],
        upstreamTicks[0] * 1e4 / requests[0], upstreamTicks[1] * 1e4 / requests[1]);
    return String.format(Locale.ROOT, "%nEmbeddings, 8 concurrent requests of 16 inputs (256 dimensions), closed loop, "
        + "%d s each, alternating rounds:%n%n| target | requests/s | vectors/s | p50 us | p99 us |%n|---|---|---|---|---|%n"
        + "| direct | %.0f | %.0f | %.0f | %.0f |%n| gateway | %.0f | %.0f | %.0f | %.0f |%n", round * 3,
        requests[0] / secs[0], 16 * requests[0] / secs[0], pct(d, 50), pct(d, 99),
        requests[1] / secs[1], 16 * requests[1] / secs[1], pct(g, 50), pct(g, 99)) + cpu;
  }

  /** Requests completed by 8 workers in {@code seconds}; each one's latency in microseconds into {@code lat}. */
  private static long closedLoop(ExecutorService pool, String url, String body, int seconds, List<Long> lat)
      throws Exception {
    long end = System.nanoTime() + seconds * 1_000_000_000L;
    AtomicBoolean failed = new AtomicBoolean();
    List<Future<List<Long>>> workers = new ArrayList<>();
    for (int w = 0; w < 8; w++) {
      workers.add(pool.submit(() -> {
        List<Long> mine = new ArrayList<>();
        while (System.nanoTime() < end && !failed.get()) {
          long t0 = System.nanoTime();
          HttpResponse<byte[]> r = send(post(url, body), HttpResponse.BodyHandlers.ofByteArray());
          if (r.statusCode() != 200) {
            failed.set(true);
            throw new IllegalStateException(url + ": " + r.statusCode() + " " + new String(r.body(), StandardCharsets.UTF_8));
          }
          mine.add((System.nanoTime() - t0) / 1000);
        }
        return mine;
      }));
    }
    long n = 0;
    for (Future<List<Long>> f : workers) {
      List<Long> mine = f.get();
      n += mine.size();
      lat.addAll(mine);
    }
    return n;
  }
}
