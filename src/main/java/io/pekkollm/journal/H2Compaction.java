package io.pekkollm.journal;

import java.sql.Connection;
import java.sql.SQLException;
import org.h2.engine.SessionLocal;
import org.h2.jdbc.JdbcConnection;
import org.h2.mvstore.MVStore;

/**
 * Keeps the embedded H2 journal's file compact. The journal opens H2 with {@code WRITE_DELAY=0} so that every commit
 * reaches the file before a chunk is released to the client, and with that setting H2 runs no background writer,
 * which is also what rewrites sparsely filled chunks: under steady streaming the file grew by gigabytes in minutes
 * (live chunks ~5% full) and H2 kept a metadata object per chunk in the heap, a slow leak. This does the background
 * writer's compaction step from the journal's own schedule: the live pages of the emptiest chunks are rewritten,
 * and the old chunks are dropped once H2's retention time has passed.
 */
final class H2Compaction {
  /** Chunks fuller than this are left alone; H2's background writer aims for 90%. */
  static final int TARGET_FILL_RATE = 80;
  /** At most this much live data is rewritten per run, so one run stays short (milliseconds). */
  static final int MAX_REWRITE_BYTES = 16 * 1024 * 1024;

  private H2Compaction() {}

  /** Compacts the store behind {@code connection} (an H2 connection); true when chunks were rewritten. */
  static boolean compact(Connection connection) throws SQLException {
    return store(connection).compact(TARGET_FILL_RATE, MAX_REWRITE_BYTES);
  }

  /** Compacts the journal's H2 store; false (and nothing done) for a PostgreSQL journal. */
  static boolean compact(JournalSettings settings) throws SQLException {
    if (settings.postgres()) {
      return false;
    }
    try (Connection c = JournalSchema.connect(settings)) {
      return compact(c);
    }
  }

  /** The live data in the store's chunks, as a percentage of their size (100: no dead space). */
  static int chunksFillRate(Connection connection) throws SQLException {
    return store(connection).getFileStore().getChunksFillRate();
  }

  private static MVStore store(Connection connection) throws SQLException {
    JdbcConnection h2 = connection.unwrap(JdbcConnection.class);
    return ((SessionLocal) h2.getSession()).getDatabase().getStore().getMvStore();
  }
}
