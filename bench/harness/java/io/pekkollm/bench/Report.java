package io.pekkollm.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

/** Turns a run's JSON into Markdown: the targets of issue 8, then one table per phase; and updates README.md. */
final class Report {
  static final String BEGIN = "<!-- bench:begin (written by bench/run.sh) -->";
  static final String END = "<!-- bench:end -->";

  private Report() {}

  /** Re-renders a results JSON file: {@code Report results.json [out.md]}. */
  public static void main(String[] args) throws IOException {
    JsonNode root = Bench.read(Path.of(args[0]));
    String md = markdown(root, Path.of(args[0]).getFileName().toString());
    if (args.length > 1) {
      Files.writeString(Path.of(args[1]), md);
    } else {
      System.out.print(md);
    }
  }

  /** One row of the targets table. */
  record Check(String what, String target, String result, Boolean met) {}

  static List<Check> checks(JsonNode r) {
    List<Check> out = new ArrayList<>();
    JsonNode fr = r.path("fixed_rate");
    if (!fr.isMissingNode()) {
      double p50 = fr.path("added_p50_ms").asDouble();
      double p99 = fr.path("added_p99_ms").asDouble();
      out.add(new Check("Added latency p50, " + fr.path("rate_per_target").asInt() + " req/s", "≤ 0.3 ms",
          ms(p50), p50 <= 0.3));
      out.add(new Check("Added latency p99, " + fr.path("rate_per_target").asInt() + " req/s", "≤ 1 ms", ms(p99),
          p99 <= 1.0));
    }
    JsonNode s1 = r.path("stream_1").path("gateway-h2");
    if (!s1.isMissingNode()) {
      double t = s1.path("added_ttft_p50_ms").asDouble();
      out.add(new Check("Added time to first token p50 (1 stream, journal on)", "≤ 1 ms", ms(t), t <= 1.0));
    }
    for (JsonNode row : r.path("nonstream")) {
      if (row.path("connections").asInt() == 64) {
        double ratio = row.path("throughput_ratio").asDouble();
        double rps = row.path("gateway-h2").path("rps").asDouble();
        out.add(new Check("Throughput through the gateway / direct, 64 connections", "≥ 40%",
            pct(ratio), ratio >= 0.4));
        out.add(new Check("Throughput through the gateway, 64 connections", "≥ 5,000 req/s",
            String.format(Locale.ROOT, "%,.0f req/s", rps), rps >= 5000));
      }
    }
    JsonNode tp = r.path("stream_throughput");
    for (String k : List.of("gateway-h2", "gateway-pg")) {
      if (tp.has(k) && tp.get(k).has("journal_cost")) {
        double c = tp.get(k).get("journal_cost").asDouble();
        out.add(new Check("Journal cost in streaming throughput (" + (k.endsWith("h2") ? "H2" : "PostgreSQL") + ")",
            "≤ 10%", pct(c), c <= 0.10));
      }
    }
    JsonNode s1000 = r.path("stream_1000");
    if (!s1000.isMissingNode()) {
      long lost = 0;
      long errors = 0;
      for (Iterator<String> it = s1000.fieldNames(); it.hasNext(); ) {
        String k = it.next();
        if (k.startsWith("gateway-")) {
          lost += s1000.get(k).path("chunks_lost").asLong();
          errors += s1000.get(k).path("errors").asLong();
        }
      }
      out.add(new Check("Chunks lost, 1,000 concurrent streams (every gateway)", "0",
          lost + " lost, " + errors + " failed streams", lost == 0 && errors == 0));
    }
    JsonNode idle = null;
    for (JsonNode n : r.path("idle_streams")) {
      if (n.path("gateway").asText().matches("h2|mem") && n.path("model").asText().startsWith("openai/")
          && !n.path("after_close").asBoolean() && (idle == null || n.path("streams").asInt() > idle.path("streams").asInt())) {
        idle = n;
      }
    }
    if (idle != null) {
      double kb = idle.path("heap_bytes_per_stream").asDouble() / 1024;
      out.add(new Check("Heap per open idle stream (" + idle.path("streams").asInt() + " proxied streams, journal on)",
          "≤ 20 KB", String.format(Locale.ROOT, "%.1f KB", kb), kb <= 20));
    }
    JsonNode soak = r.path("soak");
    if (!soak.isMissingNode() && soak.has("mid_live_heap_bytes")) {
      double mid = soak.get("mid_live_heap_bytes").asDouble();
      double end = soak.get("end_live_heap_bytes").asDouble();
      double growth = (end - mid) / mid;
      // Journal entities stay in memory for passivate-after (2 min by default) after their last write, so the
      // live heap climbs for the first two minutes of a soak; a soak shorter than 4 minutes can only hint.
      boolean conclusive = soak.path("seconds").asInt() >= 240;
      out.add(new Check("Soak (" + soak.path("seconds").asInt() + " s): live heap growth, second half"
              + (conclusive ? "" : " (too short to judge: entities passivate after 2 min)"), "flat (≤ 10%)",
          String.format(Locale.ROOT, "%+.1f%% (%.1f → %.1f MB)", growth * 100, mid / 1e6, end / 1e6),
          conclusive ? growth <= 0.10 : null));
    }
    JsonNode st = r.path("startup");
    double ready = st.has("chat_ready_ms_median") ? st.get("chat_ready_ms_median").asDouble()
        : r.path("gateways").path(0).path("chat_ready_ms").asDouble();
    if (ready > 0) {
      out.add(new Check("Start-up to first served chat completion", "≤ 2 s",
          String.format(Locale.ROOT, "%.2f s", ready / 1000), ready <= 2000));
    }
    if (st.has("cds_chat_ready_ms_median")) {
      double cds = st.get("cds_chat_ready_ms_median").asDouble();
      out.add(new Check("Start-up to first served chat completion, with an AppCDS archive", "≤ 2 s",
          String.format(Locale.ROOT, "%.2f s", cds / 1000), cds <= 2000));
    }
    return out;
  }

  static String checksTable(JsonNode r) {
    StringBuilder sb = new StringBuilder("| target | goal | result | met |\n|---|---|---|---|\n");
    for (Check c : checks(r)) {
      sb.append("| ").append(c.what()).append(" | ").append(c.target()).append(" | ").append(c.result()).append(" | ")
          .append(c.met() == null ? "n/a" : c.met() ? "yes" : "**no**").append(" |\n");
    }
    return sb.toString();
  }

  static String markdown(JsonNode r, String jsonName) {
    StringBuilder sb = new StringBuilder();
    JsonNode m = r.path("machine");
    sb.append("# pekko-llm benchmark — ").append(r.path("mode").asText()).append(" mode, ")
        .append(r.path("started_at").asText()).append("\n\n");
    sb.append("Command: `").append(r.path("command").asText()).append("` · raw data: `").append(jsonName)
        .append("` · duration ").append(r.path("duration_s").asText()).append(" s\n\n");
    sb.append("Machine: ").append(m.path("nproc").asInt()).append(" CPUs (").append(m.path("cpu").asText()).append("), ")
        .append(m.path("memory_kb").asLong() / 1024 / 1024).append(" GiB, Linux ").append(m.path("kernel").asText())
        .append(", ").append(m.path("java").asText()).append(", ").append(m.path("wrk").asText())
        .append(", open files limit ").append(m.path("open_files_limit").asText()).append(". Commit `")
        .append(m.path("git_commit").asText()).append(m.path("git_dirty").asBoolean() ? " (dirty)" : "").append("`.\n\n");
    JsonNode load = r.path("load");
    sb.append(String.format(Locale.ROOT, "Load: this run used %.2f cores on average; other processes on the machine "
            + "used %.2f cores during it (load average at start %s, at end %s). Everything (load generators, upstream, "
            + "gateways) shares the same %d cores, so the gateway's numbers include its competition with the "
            + "generator and the upstream for CPU, as they would for a sidecar.\n\n",
        load.path("bench_cpu_cores").asDouble(), load.path("background_cpu_cores").asDouble(),
        first(m.path("load_average_start").asText()), first(r.path("load_average_end").asText()),
        m.path("nproc").asInt()));
    sb.append("Gateway JVMs run README's start command, `java ").append(String.join(" ", Bench.README_JVM_FLAGS))
        .append(" -jar target/pekko-llm.jar serve`, with these settings: `")
        .append(String.join(" ", strings(r.path("gateway_settings"))))
        .append("` (Pekko HTTP's default of 1,024 server connections and the default 512 connections / 1,024 calls "
            + "per provider would cap the 1,000- and 10,000-stream phases).\n\n");
    sb.append("## Targets (issue 8)\n\n").append(checksTable(r)).append('\n');

    if (r.has("nonstream")) {
      sb.append("## Non-streaming: direct vs through the gateway (wrk, closed loop)\n\n");
      sb.append("| connections | direct req/s | gateway req/s | ratio | direct p50 / p99 / p99.9 ms | gateway p50 / p99 / "
          + "p99.9 ms | added p50 / p99 ms | errors | CPU µs/request upstream · gateway |\n"
          + "|---|---|---|---|---|---|---|---|---|\n");
      for (JsonNode row : r.get("nonstream")) {
        JsonNode d = row.path("direct");
        JsonNode g = row.path("gateway-h2");
        sb.append(String.format(Locale.ROOT, "| %d | %,.0f | %,.0f | %s | %s | %s | %.3f / %.3f | %d / %d | %.0f · %.0f |\n",
            row.path("connections").asInt(), d.path("rps").asDouble(), g.path("rps").asDouble(),
            pct(row.path("throughput_ratio").asDouble()), lat(d), lat(g), row.path("added_p50_ms").asDouble(),
            row.path("added_p99_ms").asDouble(), d.path("errors").asLong(), g.path("errors").asLong(),
            d.path("upstream_cpu_us_per_request").asDouble(), g.path("gateway-h2_cpu_us_per_request").asDouble()));
      }
      sb.append('\n');
    }
    if (r.has("fixed_rate")) {
      JsonNode f = r.get("fixed_rate");
      sb.append(String.format(Locale.ROOT, "## Added latency below saturation (open loop, %d req/s to each target, "
          + "alternating, %.0f s)\n\n", f.path("rate_per_target").asInt(), f.path("seconds").asDouble()));
      sb.append("| target | requests | errors | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |\n|---|---|---|---|---|---|---|---|\n");
      for (String k : List.of("direct", "gateway-h2")) {
        JsonNode t = f.path(k);
        sb.append(String.format(Locale.ROOT, "| %s | %d | %d | %.3f | %.3f | %.3f | %.3f | %.3f |\n", k,
            t.path("requests").asLong(), t.path("errors").asLong(), t.path("p50_ms").asDouble(),
            t.path("p90_ms").asDouble(), t.path("p99_ms").asDouble(), t.path("p999_ms").asDouble(),
            t.path("max_ms").asDouble()));
      }
      sb.append(String.format(Locale.ROOT, "| **added** | | | **%.3f** | %.3f | **%.3f** | %.3f | |\n\n",
          f.path("added_p50_ms").asDouble(), f.path("added_p90_ms").asDouble(), f.path("added_p99_ms").asDouble(),
          f.path("added_p999_ms").asDouble()));
      sb.append("Latency is counted from each request's scheduled time (no coordinated omission).\n\n");
    }
    if (r.has("stream_1")) {
      JsonNode s = r.get("stream_1");
      sb.append(String.format(Locale.ROOT, "## One stream at a time (%d chunks, %d ms apart; targets alternate)\n\n",
          s.path("chunks").asInt(), s.path("gap_ms").asInt()));
      streamTable(sb, s);
    }
    for (String key : List.of("stream_1_role_first", "stream_16")) {
      if (r.has(key)) {
        JsonNode s = r.get(key);
        sb.append(String.format(Locale.ROOT, "## %s: %d x `%s` at once (targets alternate)\n\n",
            key.equals("stream_16") ? "Concurrent streams" : "Role-first upstream", s.path("concurrency").asInt(),
            s.path("model").asText()));
        sb.append("| target | streams | errors | first event p50 / p99 ms | added first event p50 ms | TTFT p50 / p99 ms "
            + "| added TTFT p50 / p99 ms |\n|---|---|---|---|---|---|---|\n");
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
          String k = it.next();
          JsonNode t = s.get(k);
          if (!t.isObject() || !t.has("ttft_p50_ms")) {
            continue;
          }
          boolean d = k.equals("direct");
          sb.append(String.format(Locale.ROOT, "| %s | %d | %d | %.2f / %.2f | %s | %.2f / %.2f | %s |\n", k,
              t.path("streams").asLong(), t.path("errors").asLong(), t.path("first_event_p50_ms").asDouble(),
              t.path("first_event_p99_ms").asDouble(),
              d ? "" : String.format(Locale.ROOT, "%.2f", t.path("added_first_event_p50_ms").asDouble()),
              t.path("ttft_p50_ms").asDouble(), t.path("ttft_p99_ms").asDouble(),
              d ? "" : String.format(Locale.ROOT, "%.2f / %.2f", t.path("added_ttft_p50_ms").asDouble(),
                  t.path("added_ttft_p99_ms").asDouble())));
        }
        sb.append('\n');
      }
    }
    if (r.has("fresh_connection")) {
      JsonNode s = r.get("fresh_connection");
      sb.append(String.format(Locale.ROOT, "## First request on a new connection after %d ms idle (%d samples per "
          + "target)\n\n| target | p50 ms | p99 ms | added p50 ms |\n|---|---|---|---|\n", s.path("idle_ms").asLong(),
          s.path("samples").asInt()));
      for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
        String k = it.next();
        JsonNode t = s.get(k);
        if (!t.isObject()) {
          continue;
        }
        sb.append(String.format(Locale.ROOT, "| %s | %.2f | %.2f | %s |\n", k, t.path("p50_ms").asDouble(),
            t.path("p99_ms").asDouble(), k.equals("direct") ? "" : String.format(Locale.ROOT, "%.2f",
                t.path("added_p50_ms").asDouble())));
      }
      sb.append('\n');
    }
    if (r.has("stream_1000")) {
      JsonNode s = r.get("stream_1000");
      sb.append(String.format(Locale.ROOT, "## %,d concurrent streams (%d chunks, %d ms apart; %d round(s) per target, "
              + "alternating)\n\n", s.path("streams").asInt(), s.path("chunks").asInt(), s.path("gap_ms").asInt(),
          s.path("rounds").asInt()));
      streamTable(sb, s);
    }
    if (r.has("stream_throughput")) {
      JsonNode s = r.get("stream_throughput");
      sb.append(String.format(Locale.ROOT, "## Streaming throughput (%d streams back to back, %d chunks each, no gap, "
          + "%d s per target)\n\n", s.path("concurrency").asInt(), s.path("chunks").asInt(), s.path("seconds").asInt()));
      sb.append("| target | chunks/s | streams/s | errors | chunks lost | journal cost | CPU µs/chunk (serving process) |\n"
          + "|---|---|---|---|---|---|---|\n");
      for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
        String k = it.next();
        JsonNode t = s.get(k);
        if (!t.isObject()) {
          continue;
        }
        sb.append(String.format(Locale.ROOT, "| %s | %,.0f | %,.1f | %d | %d | %s | %.1f |\n", label(r, k),
            t.path("chunks_per_second").asDouble(), t.path("streams_per_second").asDouble(), t.path("errors").asLong(),
            t.path("chunks_lost").asLong(), t.has("journal_cost") ? pct(t.get("journal_cost").asDouble()) : "",
            t.path("cpu_us_per_chunk").asDouble()));
      }
      sb.append('\n');
    }
    if (r.has("idle_streams")) {
      sb.append("## Memory with open idle streams (gateway JVM; live heap from a full-GC class histogram)\n\n");
      sb.append("| gateway | model | open streams | live heap MB (baseline) | heap / stream | RSS MB (baseline) | "
          + "RSS / stream | threads | fds |\n|---|---|---|---|---|---|---|---|---|\n");
      for (JsonNode n : r.get("idle_streams")) {
        if (n.path("after_close").asBoolean()) {
          sb.append(String.format(Locale.ROOT, "| %s | %s | 0 (all closed) | %.1f (%.1f) | | %.1f | | | %d |\n",
              n.path("gateway").asText(), n.path("model").asText(), n.path("live_heap_bytes").asDouble() / 1e6,
              n.path("baseline_live_heap_bytes").asDouble() / 1e6, n.path("rss_bytes").asDouble() / 1e6,
              n.path("fds").asLong()));
          continue;
        }
        sb.append(String.format(Locale.ROOT, "| %s | %s | %,d%s | %.1f (%.1f) | %.1f KB | %.1f (%.1f) | %.1f KB | %d | %d |\n",
            n.path("gateway").asText(), n.path("model").asText(), n.path("streams").asInt(),
            n.path("streams_without_first_chunk").asInt() > 0
                ? " (" + n.path("streams_without_first_chunk").asInt() + " never started)" : "",
            n.path("live_heap_bytes").asDouble() / 1e6, n.path("baseline_live_heap_bytes").asDouble() / 1e6,
            n.path("heap_bytes_per_stream").asDouble() / 1024, n.path("rss_bytes").asDouble() / 1e6,
            n.path("baseline_rss_bytes").asDouble() / 1e6, n.path("rss_bytes_per_stream").asDouble() / 1024,
            n.path("threads").asLong(), n.path("fds").asLong()));
      }
      sb.append("\nThe open-files limit here is 20,000 per process and a proxied stream holds two sockets in the "
          + "gateway, so 9,000 proxied streams is the most that fits; `mock/echo` streams (no upstream socket) reach "
          + "10,000. Biggest contributors per stream, largest proxied step:\n\n");
      JsonNode biggest = null;
      for (JsonNode n : r.get("idle_streams")) {
        if (n.has("top_classes_per_stream") && n.path("model").asText().startsWith("openai/")
            && (biggest == null || n.path("streams").asInt() > biggest.path("streams").asInt())) {
          biggest = n;
        }
      }
      if (biggest != null) {
        sb.append("| class | bytes per stream |\n|---|---|\n");
        for (JsonNode c : biggest.get("top_classes_per_stream")) {
          sb.append("| `").append(c.path("class").asText()).append("` | ")
              .append(String.format(Locale.ROOT, "%,.0f", c.path("bytes_per_stream").asDouble())).append(" |\n");
        }
      }
      sb.append('\n');
    }
    if (r.has("soak")) {
      JsonNode s = r.get("soak");
      sb.append(String.format(Locale.ROOT, "## Soak (%d s: %d non-streaming req/s + %d streams/s of `%s`)\n\n",
          s.path("seconds").asInt(), s.path("non_stream_rate").asInt(), s.path("stream_rate").asInt(),
          s.path("stream_model").asText()));
      sb.append("| | start | middle | end |\n|---|---|---|---|\n");
      sb.append(String.format(Locale.ROOT, "| live heap after full GC, MB | %.1f | %.1f | %.1f |\n",
          s.path("start_live_heap_bytes").asDouble() / 1e6, s.path("mid_live_heap_bytes").asDouble() / 1e6,
          s.path("end_live_heap_bytes").asDouble() / 1e6));
      sb.append(String.format(Locale.ROOT, "| RSS, MB | %.1f | %.1f | %.1f |\n\n", s.path("start_rss_bytes").asDouble() / 1e6,
          s.path("mid_rss_bytes").asDouble() / 1e6, s.path("end_rss_bytes").asDouble() / 1e6));
      sb.append(String.format(Locale.ROOT, "Streams %d (errors %d, chunks lost %d, TTFT p50 %.2f ms p99 %.2f ms); "
              + "non-streaming requests %d (errors %d, p50 %.2f ms, p99 %.2f ms). Samples (heap in use without GC, "
              + "RSS): ", s.path("streams").asLong(), s.path("stream_errors").asLong(), s.path("chunks_lost").asLong(),
          s.path("stream_ttft_p50_ms").asDouble(), s.path("stream_ttft_p99_ms").asDouble(),
          s.path("non_stream_requests").asLong(), s.path("non_stream_errors").asLong(),
          s.path("non_stream_p50_ms").asDouble(), s.path("non_stream_p99_ms").asDouble()));
      List<String> ss = new ArrayList<>();
      for (JsonNode x : s.path("samples")) {
        ss.add(String.format(Locale.ROOT, "%.0f s: %.0f / %.0f MB", x.path("t_s").asDouble(),
            x.path("heap_used_bytes").asDouble() / 1e6, x.path("rss_bytes").asDouble() / 1e6));
      }
      sb.append(String.join("; ", ss)).append(".\n\n");
    }
    sb.append("## Start-up (process start → `/health` 200 → first chat completion 200 through the upstream)\n\n");
    sb.append("| gateway | /health ms | first chat completion ms | CPU time by then, s |\n|---|---|---|---|\n");
    for (JsonNode s : r.path("startup").path("runs")) {
      sb.append(String.format(Locale.ROOT, "| default (start-up probe) | %.0f | %.0f | %.1f |\n",
          s.path("health_ready_ms").asDouble(), s.path("chat_ready_ms").asDouble(), s.path("ready_cpu_s").asDouble()));
    }
    for (JsonNode s : r.path("startup").path("cds_runs")) {
      sb.append(String.format(Locale.ROOT, "| default, with an AppCDS archive | %.0f | %.0f | %.1f |\n",
          s.path("health_ready_ms").asDouble(), s.path("chat_ready_ms").asDouble(), s.path("ready_cpu_s").asDouble()));
    }
    for (JsonNode g : r.path("gateways")) {
      sb.append(String.format(Locale.ROOT, "| %s | %.0f | %.0f | %.1f |\n", g.path("label").asText(),
          g.path("health_ready_ms").asDouble(), g.path("chat_ready_ms").asDouble(), g.path("ready_cpu_s").asDouble()));
    }
    sb.append('\n');
    return sb.toString();
  }

  private static void streamTable(StringBuilder sb, JsonNode s) {
    sb.append("| target | streams | errors | chunks lost | TTFT p50 / p99 ms | added TTFT p50 / p99 ms | total p50 / p99 ms "
        + "| added total p50 / p99 ms |\n|---|---|---|---|---|---|---|---|\n");
    for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      JsonNode t = s.get(k);
      if (!t.isObject() || !t.has("ttft_p50_ms")) {
        continue;
      }
      boolean d = k.equals("direct");
      sb.append(String.format(Locale.ROOT, "| %s | %d | %d | %d | %.2f / %.2f | %s | %.2f / %.2f | %s |\n", k,
          t.path("streams").asLong(), t.path("errors").asLong(), t.path("chunks_lost").asLong(),
          t.path("ttft_p50_ms").asDouble(), t.path("ttft_p99_ms").asDouble(),
          d ? "" : String.format(Locale.ROOT, "%.2f / %.2f", t.path("added_ttft_p50_ms").asDouble(),
              t.path("added_ttft_p99_ms").asDouble()),
          t.path("total_p50_ms").asDouble(), t.path("total_p99_ms").asDouble(),
          d ? "" : String.format(Locale.ROOT, "%.2f / %.2f", t.path("added_total_p50_ms").asDouble(),
              t.path("added_total_p99_ms").asDouble())));
    }
    sb.append('\n');
  }

  private static String label(JsonNode r, String key) {
    if (!key.startsWith("gateway-")) {
      return key;
    }
    for (JsonNode g : r.path("gateways")) {
      if (key.equals("gateway-" + g.path("name").asText())) {
        return "gateway, " + g.path("label").asText();
      }
    }
    return key;
  }

  private static String lat(JsonNode n) {
    return String.format(Locale.ROOT, "%.3f / %.3f / %.3f", n.path("p50_ms").asDouble(), n.path("p99_ms").asDouble(),
        n.path("p999_ms").asDouble());
  }

  private static String ms(double v) {
    return String.format(Locale.ROOT, "%.3f ms", v);
  }

  private static String pct(double v) {
    return String.format(Locale.ROOT, "%.1f%%", v * 100);
  }

  private static String first(String loadavg) {
    String[] f = loadavg.split(" ");
    return f.length > 2 ? f[0] + " " + f[1] + " " + f[2] : loadavg;
  }

  private static List<String> strings(JsonNode arr) {
    List<String> out = new ArrayList<>();
    arr.forEach(n -> out.add(n.asText()));
    return out;
  }

  /** Replaces README's Benchmarks block (between the markers) with this run's targets table and command. */
  static void updateReadme(Path readme, JsonNode r, String mdPath) throws IOException {
    String text = Files.readString(readme);
    JsonNode m = r.path("machine");
    JsonNode load = r.path("load");
    String block = BEGIN + "\n"
        + String.format(Locale.ROOT, "Latest run: `%s`, %s mode, %s, commit `%.10s`, on %d cores / %d GiB (%s); other "
                + "processes used %.2f cores during the run, so re-run on a quiet machine for final figures. "
                + "Full tables: [%s](%s).\n\n",
            r.path("command").asText(), r.path("mode").asText(), r.path("started_at").asText().substring(0, 10),
            m.path("git_commit").asText(), m.path("nproc").asInt(), m.path("memory_kb").asLong() / 1024 / 1024,
            m.path("java").asText(), load.path("background_cpu_cores").asDouble(), mdPath, mdPath)
        + checksTable(r) + "\n" + END;
    int b = text.indexOf(BEGIN);
    int e = text.indexOf(END);
    if (b >= 0 && e > b) {
      text = text.substring(0, b) + block + text.substring(e + END.length());
    } else {
      text = text.stripTrailing() + "\n\n## Benchmarks\n\n" + block + "\n";
    }
    Files.writeString(readme, text);
  }
}
