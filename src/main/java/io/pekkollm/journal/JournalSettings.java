package io.pekkollm.journal;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Map;

/**
 * Settings of the recovery journal, from {@code pekko-llm.recovery} (reference.conf documents each). The
 * journal is an embedded H2 file database under the data directory, or PostgreSQL when {@code journal-url}
 * is a {@code jdbc:postgresql:} URL. The password is never printed by {@link #toString()}.
 */
public record JournalSettings(boolean enabled, Path dataDir, String url, String user, String password,
    boolean postgres, int batchMaxChunks, Duration askTimeout, Duration passivateAfter, Duration completedRetention,
    Duration abandonedRetention, Duration sweepInterval, int maxTokensFloor, String summarizeModel,
    int overlapMinChars, int overlapWindowChars, int poolSize, int maxStreams, Duration h2CompactionInterval,
    Duration checkpointInterval, boolean acceptRollback, Duration writeDeadline, Duration passivateAfterEnd) {

  /**
   * The id of the journal plugin the stream and session entities use (its config travels with them at runtime:
   * {@link #pluginConfig}).
   */
  public static final String PLUGIN_ID = "pekko-llm.recovery.jdbc-journal";
  /**
   * The id of the snapshot plugin of the entities that take snapshots (a key's spend), on the journal's database
   * (configured in {@link #pluginConfig} too).
   */
  public static final String SNAPSHOT_PLUGIN_ID = "pekko-llm.recovery.jdbc-snapshot-store";
  /** The embedded journal's H2 setting that keeps event payloads of up to 256 KiB in their rows. */
  public static final String IN_ROW_PAYLOADS = "MAX_LENGTH_INPLACE_LOB=262144";

  public static JournalSettings create(Config config) {
    Config c = config.getConfig("pekko-llm.recovery");
    Path dataDir = Paths.get(c.getString("data-dir")).toAbsolutePath().normalize();
    String configured = c.getString("journal-url").trim();
    boolean postgres = configured.startsWith("jdbc:postgresql:");
    if (!configured.isEmpty() && !postgres && !configured.startsWith("jdbc:h2:")) {
      throw new IllegalArgumentException("PEKKO_LLM_JOURNAL_URL must be a jdbc:postgresql: or jdbc:h2: URL, not '"
          + configured + "'");
    }
    // WRITE_DELAY=0: every commit reaches the file (the OS) at once, so a kill -9 loses nothing a client saw
    // (H2 otherwise batches commits for up to a second). DB_CLOSE_DELAY=-1: the database stays open while the
    // JVM runs instead of closing and reopening as connection pools come and go. MAX_LENGTH_INPLACE_LOB: event
    // payloads (BLOBs) of up to 256 KiB are kept in their row; H2's default keeps only 256 bytes there and puts
    // every larger payload (nearly every event: chunk batches, requests) in its separate LOB store, whose maps
    // each commit then writes too: in-row payloads cost a commit 30-45% less CPU and a 30% smaller file
    // (bench/tools/H2Commit.java).
    String url = configured.isEmpty()
        ? "jdbc:h2:file:" + dataDir.resolve("journal") + ";WRITE_DELAY=0;DB_CLOSE_DELAY=-1;" + IN_ROW_PAYLOADS
        : configured;
    return new JournalSettings(c.getBoolean("enabled"), dataDir, url, c.getString("journal-user"),
        c.getString("journal-password"), postgres, c.getInt("batch-max-chunks"), c.getDuration("ask-timeout"),
        c.getDuration("passivate-after"), c.getDuration("retention.completed"), c.getDuration("retention.abandoned"),
        c.getDuration("retention.sweep-interval"), c.getInt("max-tokens-floor"), c.getString("summarize-model").trim(),
        c.getInt("overlap.min-chars"), c.getInt("overlap.window-chars"), c.getInt("pool-size"), c.getInt("max-streams"),
        c.getDuration("h2-compaction-interval"), c.getDuration("checkpoint.interval"),
        c.getBoolean("checkpoint.accept-rollback"), c.getDuration("write-deadline"), positive(c, "passivate-after-end"));
  }

  private static Duration positive(Config c, String name) {
    Duration d = c.getDuration(name);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException("pekko-llm.recovery." + name + " must be > 0, not " + d);
    }
    return d;
  }

  String driver() {
    return postgres ? "org.postgresql.Driver" : "org.h2.Driver";
  }

  /**
   * The JDBC journal plugin's config, placed at {@link #PLUGIN_ID}, and its snapshot store's, at
   * {@link #SNAPSHOT_PLUGIN_ID}, built on the plugins' own defaults.
   */
  public Config pluginConfig(Config systemConfig) {
    Config slick = slick(poolSize, 1);
    Config plugin = ConfigFactory.empty()
        .withValue("use-shared-db", ConfigValueFactory.fromAnyRef(null))
        // The plugin's write queue drops what does not fit, failing the write (and after 10 such failures its
        // circuit breaker fails every write for 30 s). A stream has at most one write waiting, a stream entity
        // or a session at most one, so room for twice max-streams means a burst of new streams waits instead.
        .withValue("bufferSize", ConfigValueFactory.fromAnyRef(Math.max(2 * maxStreams, 8192)))
        .withValue("slick", slick.root())
        .withFallback(systemConfig.getConfig("jdbc-journal"));
    // Snapshots are rare (a key's spend every few hundred writes) and small: one connection of their own, opened
    // when the first is written or read.
    Config snapshots = ConfigFactory.empty()
        .withValue("use-shared-db", ConfigValueFactory.fromAnyRef(null))
        .withValue("slick", slick(1, 0).root())
        .withFallback(systemConfig.getConfig("jdbc-snapshot-store"));
    return ConfigFactory.empty().withValue(PLUGIN_ID, plugin.root()).withValue(SNAPSHOT_PLUGIN_ID, snapshots.root());
  }

  /** Slick's settings for a pool of {@code connections} to the journal's database, keeping {@code idle} open. */
  private Config slick(int connections, int idle) {
    return ConfigFactory.parseMap(Map.of(
        "profile", postgres ? "slick.jdbc.PostgresProfile$" : "slick.jdbc.H2Profile$",
        "db.url", url,
        "db.user", user,
        "db.password", password,
        "db.driver", driver(),
        "db.numThreads", connections,
        "db.maxConnections", connections,
        "db.minConnections", idle,
        "db.connectionTimeout", 30_000));
  }

  @Override
  public String toString() {
    return "JournalSettings{enabled=" + enabled + ", url=" + url + ", user=" + user + ", password="
        + (password.isEmpty() ? "(none)" : "(set)") + "}";
  }
}
