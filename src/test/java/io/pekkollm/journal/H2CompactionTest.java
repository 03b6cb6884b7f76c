package io.pekkollm.journal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With WRITE_DELAY=0 (as the journal opens H2) nothing compacts the file by itself: a journal-like load (many small
 * commits, then deletes) leaves chunks mostly empty, and a compaction run brings their fill rate back up.
 */
class H2CompactionTest {
  @TempDir
  Path dir;

  @Test
  void compactionRewritesMostlyEmptyChunks() throws Exception {
    String url = "jdbc:h2:file:" + dir.resolve("j") + ";WRITE_DELAY=0;RETENTION_TIME=0";
    try (Connection c = DriverManager.getConnection(url, "sa", "")) {
      try (Statement s = c.createStatement()) {
        s.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, stream INT, payload VARCHAR(400))");
      }
      String payload = "x".repeat(300);
      try (PreparedStatement ins = c.prepareStatement("INSERT INTO t VALUES (?, ?, ?)")) {
        // Like the journal: streams interleaved, each commit a small batch.
        for (int i = 0; i < 20_000; i++) {
          ins.setLong(1, i);
          ins.setInt(2, i % 50);
          ins.setString(3, payload);
          ins.executeUpdate();
        }
      }
      try (Statement s = c.createStatement()) {
        // Retention deletes most streams; the survivors' rows are spread over every chunk.
        s.execute("DELETE FROM t WHERE stream <> 7");
      }
      int before = H2Compaction.chunksFillRate(c);
      assertTrue(before < 75, "the deletes leave the chunks mostly empty: " + before + "%");
      for (int i = 0; i < 20 && H2Compaction.compact(c); i++) {
        try (Statement s = c.createStatement()) {
          // A commit writes the rewritten pages and drops the chunks they left.
          s.execute("INSERT INTO t VALUES (" + (100_000 + i) + ", 7, 'y')");
        }
      }
      int after = H2Compaction.chunksFillRate(c);
      assertTrue(after >= 85 && after > before + 15, "compaction raised the chunks' fill rate: " + before + "% -> " + after + "%");
    }
    assertTrue(Files.exists(dir.resolve("j.mv.db")));
  }
}
