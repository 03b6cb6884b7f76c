package io.pekkollm.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.testkit.TestConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

class JournalSchemaTest {
  private static JournalSettings h2(Path dir) {
    return JournalSettings.create(TestConfig.of("pekko-llm.recovery.data-dir = \"" + dir + "\""));
  }

  private static boolean hasJournal(JournalSettings s) throws Exception {
    try (Connection c = JournalSchema.connect(s);
        ResultSet rs = c.getMetaData().getTables(null, null, "event_journal", null)) {
      return rs.next();
    }
  }

  @Test
  void aPreparedSetUpIsWaitedForByEnsure() throws Exception {
    JournalSettings s = h2(Files.createTempDirectory("journal-prepare"));
    JournalSchema.prepare(s);
    JournalSchema.prepare(s); // already pending: nothing more
    JournalSchema.ensure(s);
    assertTrue(hasJournal(s));
    // Claimed: the next ensure checks again rather than trusting the earlier result.
    try (Connection c = JournalSchema.connect(s); Statement st = c.createStatement()) {
      st.execute("DROP TABLE \"event_journal\" CASCADE");
    }
    JournalSchema.ensure(s);
    assertTrue(hasJournal(s));
  }

  @Test
  void aPreparedSetUpsFailureIsThrownByEnsure() {
    JournalSettings bad = JournalSettings.create(TestConfig.of(
        "pekko-llm.recovery.journal-url = \"jdbc:postgresql://127.0.0.1:1/none\""));
    JournalSchema.prepare(bad);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> JournalSchema.ensure(bad));
    assertTrue(e.getMessage().contains("cannot open the journal database jdbc:postgresql://127.0.0.1:1/none"),
        e.getMessage());
  }

  @Test
  void aForgottenSetUpIsNotClaimed() throws Exception {
    JournalSettings bad = JournalSettings.create(TestConfig.of(
        "pekko-llm.recovery.journal-url = \"jdbc:postgresql://127.0.0.1:1/none\""));
    JournalSchema.prepare(bad);
    JournalSchema.forget(bad);
    // ensure runs afresh (and fails afresh, with the same report).
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> JournalSchema.ensure(bad));
    assertTrue(e.getMessage().contains("cannot open the journal database"), e.getMessage());
  }

  @Test
  void indexStatementsOfBothShippedScriptsBecomeIdempotent() {
    assertEquals("CREATE UNIQUE INDEX IF NOT EXISTS x ON t(a)", JournalSchema.idempotent("CREATE UNIQUE INDEX x ON t(a)"));
    assertEquals("CREATE INDEX IF NOT EXISTS x ON t(a)", JournalSchema.idempotent("CREATE INDEX x ON t(a)"));
    assertEquals("CREATE INDEX CONCURRENTLY IF NOT EXISTS x ON t(a)",
        JournalSchema.idempotent("CREATE INDEX CONCURRENTLY x ON t(a)"));
    assertEquals("CREATE TABLE IF NOT EXISTS t (a INT)", JournalSchema.idempotent("CREATE TABLE IF NOT EXISTS t (a INT)"));
  }

  @Test
  void theEmbeddedJournalKeepsEventPayloadsInTheirRows() throws Exception {
    // H2 keeps only 256 bytes of a BLOB in its row by default; the journal's own URL raises that, so a commit does
    // not also write H2's separate LOB store for nearly every event.
    JournalSettings s = h2(Files.createTempDirectory("journal-inrow"));
    assertTrue(s.url().contains(JournalSettings.IN_ROW_PAYLOADS), s.url());
    JournalSchema.ensure(s);
    try (Connection c = JournalSchema.connect(s); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT SETTING_VALUE FROM INFORMATION_SCHEMA.SETTINGS "
            + "WHERE SETTING_NAME = 'MAX_LENGTH_INPLACE_LOB'")) {
      assertTrue(rs.next());
      assertEquals("262144", rs.getString(1));
    }
    // A journal URL given by the operator is used as given.
    JournalSettings own = JournalSettings.create(TestConfig.of(
        "pekko-llm.recovery.journal-url = \"jdbc:h2:file:/srv/x/j;WRITE_DELAY=0\""));
    assertEquals("jdbc:h2:file:/srv/x/j;WRITE_DELAY=0", own.url());
  }
}
