package io.pekkollm.recovery;

import io.pekkollm.journal.JournalSettings;
import io.pekkollm.journal.JournalSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes the journal of streams nobody will resume: completed ones whose last write is older than
 * {@code retention.completed}, and any other (interrupted, abandoned) older than {@code retention.abandoned}.
 * Runs at start and then every {@code retention.sweep-interval}, off the actor threads.
 */
final class RetentionSweeper {
  private static final Logger LOG = LoggerFactory.getLogger(RetentionSweeper.class);

  private RetentionSweeper() {}

  /** Returns how many streams were deleted. */
  static int sweep(JournalSettings settings, long nowMillis) throws SQLException {
    long completedCutoff = nowMillis - settings.completedRetention().toMillis();
    long abandonedCutoff = nowMillis - settings.abandonedRetention().toMillis();
    List<String> doomed = new ArrayList<>();
    try (Connection c = JournalSchema.connect(settings)) {
      String candidates = "SELECT j.\"persistence_id\", j.\"write_timestamp\", j.\"event_ser_manifest\" "
          + "FROM \"event_journal\" j JOIN (SELECT \"persistence_id\", MAX(\"sequence_number\") AS \"seq\" "
          + "FROM \"event_journal\" WHERE \"persistence_id\" LIKE 'stream|%' GROUP BY \"persistence_id\") last "
          + "ON j.\"persistence_id\" = last.\"persistence_id\" AND j.\"sequence_number\" = last.\"seq\" "
          + "WHERE j.\"write_timestamp\" < ?";
      try (PreparedStatement ps = c.prepareStatement(candidates)) {
        ps.setLong(1, Math.max(completedCutoff, abandonedCutoff));
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            long last = rs.getLong(2);
            boolean completed = rs.getString(3).endsWith("Completed");
            if ((completed && last < completedCutoff) || last < abandonedCutoff) {
              doomed.add(rs.getString(1));
            }
          }
        }
      }
      try (PreparedStatement del = c.prepareStatement("DELETE FROM \"event_journal\" WHERE \"persistence_id\" = ?")) {
        for (String pid : doomed) {
          del.setString(1, pid);
          del.addBatch();
        }
        if (!doomed.isEmpty()) {
          del.executeBatch();
        }
      }
    }
    if (!doomed.isEmpty()) {
      LOG.info("retention: deleted the journal of {} finished or abandoned streams", doomed.size());
    }
    return doomed.size();
  }
}
