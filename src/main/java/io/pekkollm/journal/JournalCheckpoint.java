package io.pekkollm.journal;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices an embedded H2 journal that went back in time. H2 opens a truncated file, or an older copy put in its
 * place, without a word and serves what it still holds, so streams and sessions would be gone silently. The
 * highest ordering number the journal has handed out (its identity counter, which deletions do not lower) is kept
 * in {@code <journal file>.checkpoint}, outside the database, and a journal found behind it at start is refused
 * unless {@code pekko-llm.recovery.checkpoint.accept-rollback} is on.
 *
 * <p>An instance is also the journal's health probe: {@link #probe()} runs on a schedule (off the streams' path),
 * refreshes the checkpoint and records whether the database answered, which {@link #problem} reports. Thread-safe.
 */
final class JournalCheckpoint {
  private static final Logger LOG = LoggerFactory.getLogger(JournalCheckpoint.class);
  private static final String KEY = "ordering";

  private final JournalSettings settings;
  private volatile String problem;
  /** When the running probe started (System.nanoTime), 0 when none runs. */
  private final AtomicLong probeStarted = new AtomicLong();

  JournalCheckpoint(JournalSettings settings) {
    this.settings = settings;
  }

  /**
   * The checkpoint file of the journal's H2 file database: the database file's path with {@code .checkpoint}
   * ({@code data/journal.checkpoint} by default); empty for PostgreSQL and for in-memory or remote H2.
   */
  static Optional<Path> file(JournalSettings settings) {
    if (settings.postgres() || !settings.url().startsWith("jdbc:h2:")) {
      return Optional.empty();
    }
    String rest = settings.url().substring("jdbc:h2:".length());
    int semi = rest.indexOf(';');
    String path = semi < 0 ? rest : rest.substring(0, semi);
    if (path.startsWith("file:")) {
      path = path.substring("file:".length());
    } else if (path.matches("^(mem|tcp|ssl|zip|split|nio\\w*|async|memFS|memLZF|retry):.*")) {
      return Optional.empty();
    }
    if (path.startsWith("~")) {
      path = System.getProperty("user.home") + path.substring(1);
    }
    return Optional.of(Paths.get(path + ".checkpoint").toAbsolutePath().normalize());
  }

  /**
   * Compares the journal behind {@code connection} with its checkpoint; throws IllegalStateException naming the
   * file and both numbers when the journal is behind (unless accept-rollback is on: then logged as an error), and
   * writes the journal's current number as the new checkpoint. Does nothing without a checkpoint file or interval.
   */
  static void verify(JournalSettings settings, Connection connection) throws SQLException {
    Optional<Path> file = file(settings);
    if (file.isEmpty() || settings.checkpointInterval().isZero()) {
      return;
    }
    long now = highest(connection);
    OptionalLong saved = read(file.get());
    if (saved.isPresent() && now < saved.getAsLong()) {
      String what = "the stream journal " + settings.url() + " went back in time: it has handed out orderings up to "
          + now + ", but its checkpoint " + file.get() + " records " + saved.getAsLong() + " (the database file "
          + "was truncated or replaced by an older copy); the streams and sessions written since are lost.";
      if (!settings.acceptRollback()) {
        throw new IllegalStateException(what + " Refusing to start. Restore the newer database file, or to start "
            + "on this one set PEKKO_LLM_ACCEPT_JOURNAL_ROLLBACK=true (pekko-llm.recovery.checkpoint.accept-rollback)"
            + " or delete " + file.get());
      }
      LOG.error("{} Starting anyway (pekko-llm.recovery.checkpoint.accept-rollback = on).", what);
    }
    write(file.get(), now);
  }

  /** One probe of the journal: asks it for its highest ordering, writes the checkpoint, records the outcome. */
  void probe() {
    if (!probeStarted.compareAndSet(0, Math.max(1, System.nanoTime()))) {
      return;
    }
    try (Connection c = JournalSchema.connect(settings)) {
      Optional<Path> file = file(settings);
      if (file.isPresent()) {
        write(file.get(), highest(c));
      } else {
        try (Statement st = c.createStatement()) {
          st.execute("SELECT 1");
        }
      }
      problem = null;
    } catch (SQLException | RuntimeException e) {
      String message = "the stream journal " + settings.url() + " failed its probe: " + e.getMessage();
      if (!message.equals(problem)) {
        LOG.warn("{}", message);
      }
      problem = message;
    } finally {
      probeStarted.set(0);
    }
  }

  /** Why the journal is not usable now, judging by the last probe; a probe running longer than {@code patience} counts. */
  Optional<String> problem(Duration patience) {
    long started = probeStarted.get();
    if (started != 0 && System.nanoTime() - started > patience.toNanos()) {
      return Optional.of("the stream journal " + settings.url() + " has not answered for "
          + Duration.ofNanos(System.nanoTime() - started).toMillis() + " ms");
    }
    return Optional.ofNullable(problem);
  }

  /** The highest ordering the H2 journal has handed out: its identity counter's next value less one. */
  static long highest(Connection connection) throws SQLException {
    try (Statement st = connection.createStatement(); ResultSet r = st.executeQuery("SELECT IDENTITY_BASE FROM "
        + "INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = 'PUBLIC' AND TABLE_NAME = 'event_journal' "
        + "AND COLUMN_NAME = 'ordering'")) {
      return r.next() ? r.getLong(1) - 1 : 0;
    }
  }

  static OptionalLong read(Path file) {
    Properties p = new Properties();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(in);
    } catch (NoSuchFileException e) {
      return OptionalLong.empty();
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the journal checkpoint " + file + ": " + e.getMessage(), e);
    }
    String v = p.getProperty(KEY);
    try {
      return v == null ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(v.trim()));
    } catch (NumberFormatException e) {
      throw new IllegalStateException("the journal checkpoint " + file + " is damaged ('" + KEY + "=" + v
          + "'); delete it to start afresh", e);
    }
  }

  /** Writes {@code ordering} to {@code file} atomically: a temporary file beside it, then a move over it. */
  static void write(Path file, long ordering) {
    try {
      Path dir = file.getParent();
      Files.createDirectories(dir);
      Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
      try {
        try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
          w.write("# pekko-llm: the highest ordering the journal beside this file has handed out; a journal found\n"
              + "# behind it at start is refused (pekko-llm.recovery.checkpoint in reference.conf)\n"
              + KEY + "=" + ordering + "\n");
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } finally {
        Files.deleteIfExists(tmp);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot write the journal checkpoint " + file + ": " + e.getMessage(), e);
    }
  }
}
