package io.pekkollm.journal;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What keeps the journal database usable while a client runs, whoever writes to it (streams, sessions): its
 * tables are created (and an H2 file that went back in time is refused, {@link JournalCheckpoint}) before
 * anything else, a periodic probe keeps the checkpoint current and tells whether the database answers, and an H2
 * file is compacted on a timer (the background writer that would do it is off with {@code WRITE_DELAY=0}). All on
 * the blocking dispatcher, never on a stream's path. Thread-safe.
 */
public final class JournalMaintenance {
  private static final Logger LOG = LoggerFactory.getLogger(JournalMaintenance.class);

  private final JournalSettings settings;
  private final JournalCheckpoint checkpoint;

  private JournalMaintenance(JournalSettings settings) {
    this.settings = settings;
    this.checkpoint = new JournalCheckpoint(settings);
  }

  /**
   * Ensures the schema (failing start-up for a journal behind its checkpoint) and starts the probe and compaction
   * timers in {@code system}, with a last checkpoint as the system stops.
   */
  public static JournalMaintenance start(ActorSystem<?> system, JournalSettings settings) {
    JournalSchema.ensure(settings);
    JournalMaintenance m = new JournalMaintenance(settings);
    var blocking = system.dispatchers().lookup(DispatcherSelector.blocking());
    Duration probe = settings.checkpointInterval();
    if (!probe.isZero()) {
      system.scheduler().scheduleWithFixedDelay(probe, probe, m.checkpoint::probe, blocking);
      // The last checkpoint as the system stops, so a clean stop leaves it exact.
      CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
          "pekko-llm-journal-checkpoint", () -> CompletableFuture.supplyAsync(() -> {
            m.checkpoint.probe();
            return Done.getInstance();
          }, blocking));
    }
    Duration compaction = settings.h2CompactionInterval();
    if (!settings.postgres() && !compaction.isZero()) {
      system.scheduler().scheduleWithFixedDelay(compaction, compaction, () -> {
        try {
          H2Compaction.compact(settings);
        } catch (Exception e) {
          LOG.warn("compacting the H2 journal failed: {}", e.getMessage());
        }
      }, blocking);
    }
    return m;
  }

  /**
   * Why the database cannot be used now, empty when it can: the last scheduled probe must have succeeded and must
   * not be hanging for longer than {@code patience}. Cheap: no database call of its own.
   */
  public Optional<String> problem(Duration patience) {
    return checkpoint.problem(patience);
  }
}
