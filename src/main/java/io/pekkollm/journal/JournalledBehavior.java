package io.pekkollm.journal;

import com.typesafe.config.Config;
import io.pekkollm.journal.JournalSettings;
import java.util.Optional;
import org.apache.pekko.actor.typed.BackoffSupervisorStrategy;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehaviorWithEnforcedReplies;

/**
 * The base of every entity on pekko-llm's journal (stream recovery, sessions, the session index): it persists
 * through the journal's own JDBC plugin, whose configuration it carries (so it works inside a host's
 * ActorSystem that does not configure it), and takes no snapshots unless it is given a snapshot plugin (most of
 * these entities are short or replay fast; one that keeps growing, such as a key's spend, snapshots its state).
 * Subclasses write only their commands, events and state.
 */
public abstract class JournalledBehavior<C, E, S> extends EventSourcedBehaviorWithEnforcedReplies<C, E, S> {
  private static final String NO_SNAPSHOTS = "pekko.persistence.no-snapshot-store";

  private final String pluginId;
  private final Config pluginConfig;
  private final String snapshotPluginId;

  /**
   * An entity {@code id} on the journal plugin {@code pluginId} ({@link JournalSettings#PLUGIN_ID}; a test kit's
   * in tests) whose configuration is {@code pluginConfig} ({@link JournalSettings#pluginConfig}).
   */
  protected JournalledBehavior(PersistenceId id, String pluginId, Config pluginConfig) {
    super(id);
    this.pluginId = pluginId;
    this.pluginConfig = pluginConfig;
    this.snapshotPluginId = NO_SNAPSHOTS;
  }

  /** As above, restarting with {@code onPersistFailure} when a write fails. */
  protected JournalledBehavior(PersistenceId id, String pluginId, Config pluginConfig,
      BackoffSupervisorStrategy onPersistFailure) {
    this(id, pluginId, pluginConfig, null, onPersistFailure);
  }

  /**
   * As above, with snapshots on {@code snapshotPluginId} (null: none), configured in {@code pluginConfig} too
   * ({@link JournalSettings#SNAPSHOT_PLUGIN_ID}; a test kit's in tests). The subclass says when to take them
   * ({@link #retentionCriteria} or {@link #shouldSnapshot}); its state must then be serializable.
   */
  protected JournalledBehavior(PersistenceId id, String pluginId, Config pluginConfig, String snapshotPluginId,
      BackoffSupervisorStrategy onPersistFailure) {
    super(id, onPersistFailure);
    this.pluginId = pluginId;
    this.pluginConfig = pluginConfig;
    this.snapshotPluginId = snapshotPluginId == null ? NO_SNAPSHOTS : snapshotPluginId;
  }

  @Override
  public final String journalPluginId() {
    return pluginId;
  }

  @Override
  public final Optional<Config> journalPluginConfig() {
    return Optional.of(pluginConfig);
  }

  @Override
  public final String snapshotPluginId() {
    return snapshotPluginId;
  }

  @Override
  public final Optional<Config> snapshotPluginConfig() {
    return NO_SNAPSHOTS.equals(snapshotPluginId) ? Optional.empty() : Optional.of(pluginConfig);
  }
}
