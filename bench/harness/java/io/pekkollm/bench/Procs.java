package io.pekkollm.bench;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Child processes of a benchmark run and what can be read about them: each child's pid is written to
 * {@code <work>/pids/<name>.pid} so {@code bench/run.sh}'s exit trap can end it even if this JVM dies; heap
 * (via {@code jcmd}), RSS, threads and file descriptors (via {@code /proc}).
 */
final class Procs {
  private static final Pattern USED = Pattern.compile("used (\\d+)K");
  private static final Pattern HISTO_LINE = Pattern.compile("^\\s*\\d+:\\s+(\\d+)\\s+(\\d+)\\s+(\\S+)");
  private static final Pattern HISTO_TOTAL = Pattern.compile("^Total\\s+(\\d+)\\s+(\\d+)");

  private final Path work;
  private final List<Proc> live = new ArrayList<>();

  /** A running child. */
  record Proc(String name, Process process, Path log) {
    long pid() {
      return process.pid();
    }

    boolean alive() {
      return process.isAlive();
    }
  }

  Procs(Path work) throws IOException {
    this.work = work;
    Files.createDirectories(work.resolve("pids"));
    Files.createDirectories(work.resolve("logs"));
    Runtime.getRuntime().addShutdownHook(new Thread(this::stopAll, "bench-cleanup"));
  }

  synchronized Proc spawn(String name, List<String> command, Map<String, String> env) throws IOException {
    Path log = work.resolve("logs").resolve(name + ".log");
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    Files.writeString(work.resolve("pids").resolve(name + ".pid"), Long.toString(p.pid()));
    Proc proc = new Proc(name, p, log);
    live.add(proc);
    return proc;
  }

  synchronized void stop(Proc p) {
    stop(p, 15);
  }

  /** SIGTERM, then SIGKILL after {@code graceSeconds}. */
  synchronized void stop(Proc p, int graceSeconds) {
    p.process().destroy();
    try {
      if (!p.process().waitFor(graceSeconds, TimeUnit.SECONDS)) {
        p.process().destroyForcibly();
        p.process().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    live.remove(p);
    try {
      Files.deleteIfExists(work.resolve("pids").resolve(p.name() + ".pid"));
    } catch (IOException ignored) {
      // the trap copes with a stale pid file
    }
  }

  synchronized void stopAll() {
    for (Proc p : new ArrayList<>(live)) {
      stop(p);
    }
  }

  synchronized List<Proc> live() {
    return new ArrayList<>(live);
  }

  /** Runs a command to completion (bounded), returning its output; throws on a non-zero exit. */
  static String run(List<String> command, Map<String, String> env, long timeoutSeconds) throws IOException,
      InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().putAll(env);
    Process p = pb.start();
    byte[] out;
    try (var in = p.getInputStream()) {
      // Read in a thread-free way: the commands used here print little and end quickly.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
      var buf = new java.io.ByteArrayOutputStream();
      byte[] b = new byte[8192];
      while (true) {
        if (in.available() > 0) {
          int n = in.read(b);
          if (n < 0) {
            break;
          }
          buf.write(b, 0, n);
        } else if (!p.isAlive()) {
          int n;
          while ((n = in.read(b)) > 0) {
            buf.write(b, 0, n);
          }
          break;
        } else if (System.nanoTime() > deadline) {
          p.destroyForcibly();
          throw new IOException("timed out after " + timeoutSeconds + " s: " + String.join(" ", command));
        } else {
          Thread.sleep(5);
        }
      }
      out = buf.toByteArray();
    }
    p.waitFor();
    String s = new String(out, StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new IOException("exit " + p.exitValue() + " from " + String.join(" ", command) + ": " + s);
    }
    return s;
  }

  /** Live heap after a full GC, in bytes, from {@code GC.class_histogram}, with the per-class lines. */
  record Histogram(long totalBytes, long totalInstances, Map<String, long[]> classes) {}

  static Histogram histogram(long pid) throws IOException, InterruptedException {
    String out = run(List.of("jcmd", Long.toString(pid), "GC.class_histogram"), Map.of(), 120);
    Map<String, long[]> classes = new java.util.HashMap<>();
    long total = 0;
    long instances = 0;
    for (String line : out.split("\n")) {
      Matcher m = HISTO_LINE.matcher(line);
      if (m.find()) {
        classes.put(m.group(3), new long[] {Long.parseLong(m.group(1)), Long.parseLong(m.group(2))});
        continue;
      }
      Matcher t = HISTO_TOTAL.matcher(line.trim());
      if (t.find()) {
        instances = Long.parseLong(t.group(1));
        total = Long.parseLong(t.group(2));
      }
    }
    return new Histogram(total, instances, classes);
  }

  /** Heap in use now (no GC forced), bytes. */
  static long heapUsed(long pid) throws IOException, InterruptedException {
    String out = run(List.of("jcmd", Long.toString(pid), "GC.heap_info"), Map.of(), 60);
    Matcher m = USED.matcher(out);
    return m.find() ? Long.parseLong(m.group(1)) * 1024 : -1;
  }

  /** Forces a full GC, then reads the heap in use, bytes. */
  static long heapAfterGc(long pid) throws IOException, InterruptedException {
    run(List.of("jcmd", Long.toString(pid), "GC.run"), Map.of(), 120);
    return heapUsed(pid);
  }

  static long rssBytes(long pid) {
    return statusField(pid, "VmRSS:") * 1024;
  }

  static long threads(long pid) {
    return statusField(pid, "Threads:");
  }

  static long fds(long pid) {
    try (var s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
      return s.count();
    } catch (IOException e) {
      return -1;
    }
  }

  private static long statusField(long pid, String field) {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        if (line.startsWith(field)) {
          return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }

  /** utime + stime of a process in clock ticks (and of its reaped children when {@code withChildren}). */
  static long cpuTicks(long pid, boolean withChildren) {
    try {
      String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      // f[0] is field 3 (state): utime is field 14, stime 15, cutime 16, cstime 17.
      long t = Long.parseLong(f[11]) + Long.parseLong(f[12]);
      if (withChildren) {
        t += Long.parseLong(f[13]) + Long.parseLong(f[14]);
      }
      return t;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  /** Busy clock ticks of the whole machine, all CPUs. */
  static long machineBusyTicks() {
    try {
      String line = Files.readAllLines(Path.of("/proc/stat")).get(0);
      String[] f = line.trim().split("\\s+");
      long busy = 0;
      // cpu user nice system idle iowait irq softirq steal
      int[] idx = {1, 2, 3, 6, 7, 8};
      for (int i : idx) {
        busy += Long.parseLong(f[i]);
      }
      return busy;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  static String tail(Path log, int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }
}
