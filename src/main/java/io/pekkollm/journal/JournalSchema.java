package io.pekkollm.journal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Creates the journal tables when they are missing, from the schema scripts pekko-persistence-jdbc ships
 * (it does not create tables itself). Idempotent: the scripts' index statements lack {@code IF NOT EXISTS},
 * which is added here, so a second start changes nothing; any SQL error is a real one and is reported. Then checks
 * that an H2 journal has not gone back in time ({@link JournalCheckpoint}).
 */
public final class JournalSchema {
  private JournalSchema() {}

  /** Schema set-ups started by {@link #prepare} and not yet claimed by {@link #ensure}, by database and user. */
  private static final ConcurrentHashMap<String, CompletableFuture<Void>> PENDING = new ConcurrentHashMap<>();

  /**
   * Creates the journal tables at {@code settings.url()} unless they exist. Blocking; call at start. When
   * {@link #prepare} started this set-up in the background, waits for it and throws what it threw.
   */
  public static void ensure(JournalSettings settings) {
    CompletableFuture<Void> pending = PENDING.remove(key(settings));
    if (pending == null) {
      create(settings);
      return;
    }
    try {
      pending.join();
    } catch (CompletionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof RuntimeException re) {
        throw re;
      }
      if (cause instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException("creating the journal schema at " + settings.url() + " failed", cause);
    }
  }

  /**
   * Starts {@link #ensure}'s work (opening the database, which loads its driver, and creating the tables) on a
   * background thread, so that start-up can do other work meanwhile; the next {@link #ensure} for the same
   * database and user waits for it and reports its failure. Does nothing when one is already pending.
   */
  public static void prepare(JournalSettings settings) {
    CompletableFuture<Void> f = new CompletableFuture<>();
    if (PENDING.putIfAbsent(key(settings), f) != null) {
      return;
    }
    Thread t = new Thread(() -> {
      try {
        create(settings);
        f.complete(null);
      } catch (Throwable e) {
        f.completeExceptionally(e);
      }
    }, "pekko-llm-journal-schema");
    t.setDaemon(true);
    t.start();
  }

  /** Drops a set-up {@link #prepare} started that no {@link #ensure} will claim (start-up failed meanwhile). */
  public static void forget(JournalSettings settings) {
    PENDING.remove(key(settings));
  }

  private static String key(JournalSettings settings) {
    return settings.url() + '\n' + settings.user() + '\n' + settings.password();
  }

  /** The PostgreSQL advisory lock key of the schema set-up (any constant; released when the session closes). */
  private static final long SCHEMA_LOCK = 0x70656b6b6f6c6cL;

  private static void create(JournalSettings settings) {
    String script = settings.postgres() ? "schema/postgres/postgres-create-schema.sql" : "schema/h2/h2-create-schema.sql";
    List<String> statements = statements(read(script));
    try (Connection c = connect(settings); Statement st = c.createStatement()) {
      if (settings.postgres()) {
        // Several gateways of a cluster start at once: CREATE ... IF NOT EXISTS is not atomic in PostgreSQL (two
        // sessions may both try, one failing on pg_type's unique index), so the set-up holds a session lock. Tried,
        // not waited for: a session blocked in pg_advisory_lock would hold a snapshot that the holder's CREATE INDEX
        // CONCURRENTLY waits for (a deadlock).
        lockSchema(settings, st);
      }
      for (String sql : statements) {
        try {
          st.execute(sql);
        } catch (SQLException e) {
          throw new IllegalStateException("creating the journal schema at " + settings.url() + " failed on: "
              + firstLine(sql) + " -- SQL state " + e.getSQLState() + ": " + e.getMessage(), e);
        }
      }
      JournalCheckpoint.verify(settings, c);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot open the journal database " + settings.url() + ": " + e.getMessage(), e);
    }
  }

  private static void lockSchema(JournalSettings settings, Statement st) throws SQLException {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try (var rs = st.executeQuery("SELECT pg_try_advisory_lock(" + SCHEMA_LOCK + ")")) {
        if (rs.next() && rs.getBoolean(1)) {
          return;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("another process has been creating the journal schema at " + settings.url()
            + " for 60 s (PostgreSQL advisory lock " + SCHEMA_LOCK + ")");
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting to create the journal schema", e);
      }
    }
  }

  /** A new connection to the journal database; the caller closes it. */
  public static Connection connect(JournalSettings settings) throws SQLException {
    return DriverManager.getConnection(settings.url(), settings.user(), settings.password());
  }

  static List<String> statements(String script) {
    List<String> out = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : script.split("\n")) {
      String trimmed = line.strip();
      if (trimmed.startsWith("--") || trimmed.startsWith("//")) {
        continue;
      }
      current.append(line).append('\n');
      if (trimmed.endsWith(";")) {
        String sql = current.toString().strip();
        out.add(idempotent(sql.substring(0, sql.length() - 1)));
        current.setLength(0);
      }
    }
    if (!current.toString().isBlank()) {
      out.add(idempotent(current.toString().strip()));
    }
    return out;
  }

  static String idempotent(String sql) {
    String s = sql;
    if (s.startsWith("CREATE INDEX CONCURRENTLY ") && !s.startsWith("CREATE INDEX CONCURRENTLY IF NOT EXISTS")) {
      // PostgreSQL's order: CREATE INDEX CONCURRENTLY IF NOT EXISTS name ...
      s = "CREATE INDEX CONCURRENTLY IF NOT EXISTS " + s.substring("CREATE INDEX CONCURRENTLY ".length());
    } else if (s.startsWith("CREATE UNIQUE INDEX ") && !s.startsWith("CREATE UNIQUE INDEX IF NOT EXISTS")) {
      s = "CREATE UNIQUE INDEX IF NOT EXISTS " + s.substring("CREATE UNIQUE INDEX ".length());
    } else if (s.startsWith("CREATE INDEX ") && !s.startsWith("CREATE INDEX IF NOT EXISTS")) {
      s = "CREATE INDEX IF NOT EXISTS " + s.substring("CREATE INDEX ".length());
    }
    return s;
  }

  private static String read(String resource) {
    try (InputStream in = JournalSchema.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("schema script " + resource + " is missing from the classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + resource, e);
    }
  }

  private static String firstLine(String sql) {
    int nl = sql.indexOf('\n');
    return nl < 0 ? sql : sql.substring(0, nl) + " ...";
  }
}
