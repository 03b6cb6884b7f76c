package io.pekkollm.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.testkit.TestConfig;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/**
 * A journal that went back in time (an older copy of the H2 file put back, the file truncated) is refused at
 * start with the checkpoint file and both numbers, instead of starting without the streams and sessions lost.
 */
class JournalCheckpointTest {

  private static Config config(Path dir, String extra) {
    return TestConfig.of("pekko-llm.recovery.data-dir = \"" + dir.toString().replace("\\", "/") + "\"\n" + extra);
  }

  /** Runs {@code streams} journalled streams and one session turn, then stops the client and closes the database. */
  private static void write(Config config, int streams) throws Exception {
    write(config, streams, "SHUTDOWN");
  }

  /** Like {@link #write(Config, int)}, closing the database with {@code shutdown} (SHUTDOWN IMMEDIATELY: a crash). */
  private static void write(Config config, int streams, String shutdown) throws Exception {
    try (LlmClient client = LlmClient.create(config)) {
      for (int i = 0; i < streams; i++) {
        client.stream(ChatRequest.builder("mock/echo").user("stream " + i).build())
            .runForeach(c -> { }, client.system()).toCompletableFuture().join();
      }
      String id = client.sessions().create(io.pekkollm.session.NewSession.of("mock/echo"))
          .toCompletableFuture().join().id();
      client.sessions().chat(id, "hello").toCompletableFuture().join();
    }
    // DB_CLOSE_DELAY=-1 keeps the database open in this JVM: close it, as a stopped process would.
    try (Connection c = JournalSchema.connect(JournalSettings.create(config)); Statement st = c.createStatement()) {
      st.execute(shutdown);
    }
  }

  @Test
  void anOlderCopyOfTheJournalIsRefusedUnlessAccepted() throws Exception {
    Path dir = Files.createTempDirectory("checkpoint-older");
    Config config = config(dir, "");
    Path db = dir.resolve("journal.mv.db");
    write(config, 1);
    Path older = Files.copy(db, dir.resolve("older.mv.db"));
    write(config, 3);
    Path checkpoint = dir.resolve("journal.checkpoint");
    long saved = JournalCheckpoint.read(checkpoint).orElseThrow();
    assertTrue(saved > 0, "the checkpoint holds the journal's ordering");

    Files.copy(older, db, StandardCopyOption.REPLACE_EXISTING);
    IllegalStateException refused = assertThrows(IllegalStateException.class, () -> LlmClient.create(config).close());
    String m = refused.getMessage();
    assertTrue(m.contains("went back in time") && m.contains(checkpoint.toString()) && m.contains(" " + saved + " ")
        && m.contains("PEKKO_LLM_ACCEPT_JOURNAL_ROLLBACK"), m);

    // Accepted explicitly: starts, and the checkpoint now matches the journal it started on.
    try (LlmClient client = LlmClient.create(config(dir, "pekko-llm.recovery.checkpoint.accept-rollback = on"))) {
      assertEquals(Optional.empty(), client.journalProblem().toCompletableFuture().join());
    }
    assertTrue(JournalCheckpoint.read(checkpoint).orElseThrow() < saved);
    // ... so the next plain start is not refused again.
    LlmClient.create(config).close();
  }

  @Test
  void aTruncatedJournalDoesNotStartSilently() throws Exception {
    Path dir = Files.createTempDirectory("checkpoint-truncated");
    Config config = config(dir, "");
    // As after a kill -9: H2 closes without its final compaction, the file keeps its newest chunks at its end.
    write(config, 20, "SHUTDOWN IMMEDIATELY");
    Path db = dir.resolve("journal.mv.db");
    try (FileChannel f = FileChannel.open(db, StandardOpenOption.WRITE)) {
      f.truncate(f.size() / 2);
    }
    // H2 either cannot read what is left, or opens an older state of it, which the checkpoint catches.
    RuntimeException e = assertThrows(RuntimeException.class, () -> LlmClient.create(config).close());
    assertTrue(e.getMessage().contains("went back in time") || e.getMessage().contains("journal"), e.getMessage());
  }

  @Test
  void aJournalAheadOfItsCheckpointStartsAndMovesItOn() throws Exception {
    Path dir = Files.createTempDirectory("checkpoint-ahead");
    Config config = config(dir, "");
    write(config, 1);
    Path checkpoint = dir.resolve("journal.checkpoint");
    // A kill -9 between two checkpoints leaves the journal ahead of it: that is fine.
    JournalCheckpoint.write(checkpoint, 1);
    write(config, 1);
    assertTrue(JournalCheckpoint.read(checkpoint).orElseThrow() > 1);
    assertFalse(Files.list(dir).anyMatch(p -> p.toString().endsWith(".tmp")), "no temporary file is left");
  }

  @Test
  void theCheckpointSitsBesideAnH2FileOnly() {
    assertEquals(Optional.of(Path.of("/srv/x/j.checkpoint")), JournalCheckpoint.file(JournalSettings.create(
        TestConfig.of("pekko-llm.recovery.journal-url = \"jdbc:h2:file:/srv/x/j;WRITE_DELAY=0\""))));
    assertEquals(Optional.empty(), JournalCheckpoint.file(JournalSettings.create(
        TestConfig.of("pekko-llm.recovery.journal-url = \"jdbc:h2:mem:j\""))));
    assertEquals(Optional.empty(), JournalCheckpoint.file(JournalSettings.create(
        TestConfig.of("pekko-llm.recovery.journal-url = \"jdbc:postgresql://127.0.0.1/j\""))));
    assertEquals(OptionalLong.empty(), JournalCheckpoint.read(Path.of("/nonexistent/journal.checkpoint")));
  }
}
