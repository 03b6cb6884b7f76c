import io.pekkollm.journal.JournalSettings;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.Comparator;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * CPU and wall time per commit of journal-like writes into an embedded H2 file opened as the gateway opens it
 * (WRITE_DELAY=0), with H2's default in-row BLOB limit (256 bytes) and with the journal's
 * ({@link JournalSettings#IN_ROW_PAYLOADS}), alternating in one run (and which of them goes first). The table is
 * the JDBC journal plugin's own (its H2 schema script); each simulated stream writes two events in two commits, as a short stream does (a first
 * event of 0.6 KB, then one of 3-6.5 KB), under random persistence ids. Process CPU time (H2 serializes pages on
 * a pool of its own), so background load matters little.
 *   java -cp target/pekko-llm.jar bench/tools/H2Commit.java [STREAMS_PER_ROUND] [ROUNDS]
 */
public class H2Commit {
  public static void main(String[] args) throws Exception {
    int streams = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    String schema = resource("schema/h2/h2-create-schema.sql");
    String inRow = ";" + JournalSettings.IN_ROW_PAYLOADS;
    for (int round = 1; round <= rounds; round++) {
      // Which goes first alternates: the second of a pair runs on a JIT warmed by the first.
      for (String opts : round % 2 == 1 ? new String[] {"", inRow} : new String[] {inRow, ""}) {
        run(schema, opts, streams, round);
      }
    }
  }

  private static void run(String schema, String opts, int streams, int round) throws Exception {
    Path dir = Files.createTempDirectory("h2commit");
    String url = "jdbc:h2:file:" + dir.resolve("journal") + ";WRITE_DELAY=0" + opts;
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    try (Connection c = DriverManager.getConnection(url, "sa", "")) {
      try (Statement st = c.createStatement()) {
        for (String s : schema.split(";")) {
          if (!s.isBlank()) {
            st.execute(s);
          }
        }
      }
      c.setAutoCommit(false);
      Random r = new Random(round);
      byte[][] payloads = new byte[8][];
      for (int i = 0; i < payloads.length; i++) {
        payloads[i] = new byte[i < 3 ? 600 : 3000 + i * 500];
        for (int j = 0; j < payloads[i].length; j++) {
          payloads[i][j] = (byte) ('a' + r.nextInt(26));
        }
      }
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO \"event_journal\" (\"deleted\", \"persistence_id\", "
          + "\"sequence_number\", \"writer\", \"write_timestamp\", \"adapter_manifest\", \"event_payload\", "
          + "\"event_ser_id\", \"event_ser_manifest\") VALUES (false, ?, ?, ?, ?, '', ?, 33, ?)")) {
        // A warm-up of as many streams first, so both settings are measured on a file that already holds rows.
        for (int phase = 0; phase < 2; phase++) {
          long cpu0 = os.getProcessCpuTime();
          long t0 = System.nanoTime();
          for (int i = 0; i < streams; i++) {
            String pid = "stream|" + Long.toHexString(r.nextLong()) + Long.toHexString(r.nextLong());
            for (int seq = 1; seq <= 2; seq++) {
              ps.setString(1, pid);
              ps.setLong(2, seq);
              ps.setString(3, UUID.randomUUID().toString());
              ps.setLong(4, System.currentTimeMillis());
              ps.setBytes(5, payloads[seq == 1 ? r.nextInt(3) : 3 + r.nextInt(5)]);
              ps.setString(6, "io.pekkollm.recovery.StreamEvent$ChunksAppended");
              ps.executeUpdate();
              c.commit();
            }
          }
          if (phase == 1) {
            double commits = 2.0 * streams;
            System.out.printf("round %d %-32s %7.1f us CPU/commit %7.1f us wall/commit, file %,d KB%n", round,
                opts.isEmpty() ? "H2 default (256 B in row)" : opts.substring(1),
                (os.getProcessCpuTime() - cpu0) / 1e3 / commits, (System.nanoTime() - t0) / 1e3 / commits,
                Files.size(dir.resolve("journal.mv.db")) / 1024);
          }
        }
      }
    } finally {
      delete(dir);
    }
  }

  private static String resource(String name) throws IOException {
    try (InputStream in = H2Commit.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException(name + " is not on the classpath (run with -cp target/pekko-llm.jar)");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static void delete(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
