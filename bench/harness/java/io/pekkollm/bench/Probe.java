package io.pekkollm.bench;

import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * A one-off streaming measurement for profiling sessions: {@code Probe URL MODEL CONCURRENCY SECONDS [PID]} runs
 * streams back to back and prints chunks/s, streams/s, the time to the first content chunk (p50, p90) and, given
 * the serving process's pid, its CPU time per stream and per chunk.
 */
public final class Probe {
  private Probe() {}

  public static void main(String[] args) throws Exception {
    URI url = URI.create(args[0]);
    String model = args[1];
    int concurrency = Integer.parseInt(args[2]);
    int seconds = Integer.parseInt(args[3]);
    long pid = args.length > 4 ? Long.parseLong(args[4]) : -1;
    try (StreamClient sc = new StreamClient(2)) {
      sc.closedLoop(url, model, concurrency, Duration.ofSeconds(2), Duration.ofSeconds(30));
      long cpu0 = pid > 0 ? Procs.cpuTicks(pid, false) : 0;
      long t0 = System.nanoTime();
      List<StreamClient.Result> rs = sc.closedLoop(url, model, concurrency, Duration.ofSeconds(seconds),
          Duration.ofSeconds(60));
      double secs = (System.nanoTime() - t0) / 1e9;
      double cpu = pid > 0 ? (Procs.cpuTicks(pid, false) - cpu0) / 100.0 : Double.NaN;
      long chunks = rs.stream().mapToLong(StreamClient.Result::chunks).sum();
      long errors = rs.stream().filter(r -> !r.ok()).count();
      Samples ttft = new Samples();
      rs.stream().filter(StreamClient.Result::ok).forEach(r -> ttft.add(r.ttftNanos()));
      System.out.printf("%d streams, %d errors, %.0f chunks/s, %.1f streams/s, CPU %.2f s: %.0f us/stream, %.1f us/chunk,"
          + " TTFT p50 %.3f ms p90 %.3f ms%n",
          rs.size(), errors, chunks / secs, rs.size() / secs, cpu, cpu * 1e6 / rs.size(), cpu * 1e6 / chunks,
          ttft.ms(50), ttft.ms(90));
    }
  }
}
