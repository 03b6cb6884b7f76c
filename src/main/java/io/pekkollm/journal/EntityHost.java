package io.pekkollm.journal;

import java.util.Optional;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;

/**
 * Where a client's journalled entities run: all on this process ({@link #local}, the default, the single-node
 * gateway) or spread over a Pekko Cluster ({@link #cluster}: each entity on exactly one node, reached from any).
 * It also names the writer of a stream ({@link #incarnation}) and tells whether a writer may still be writing
 * ({@link #writerAlive}), which decides when a stream marked running was in fact orphaned. Thread-safe.
 */
public interface EntityHost {

  /** This process on this host, recorded with the streams it writes (unique per process start). */
  String incarnation();

  /**
   * Whether the process that recorded {@code writer} may still be writing its streams: locally only this process
   * is; in a cluster, any member that has not been downed or removed (an unreachable one still counts, until the
   * Split Brain Resolver downs it).
   */
  boolean writerAlive(String writer);

  /** The entities of kind {@code kind} (a name unique in the actor system), created on demand by {@code factory}. */
  <C> Entities<C> entities(String kind, Class<C> commandType, Entities.Factory<C> factory);

  /** The one entity of kind {@code kind}: one actor on this process, or a Cluster Singleton. Ids are ignored. */
  <C> Entities<C> singleton(String kind, Class<C> commandType, Behavior<C> behavior);

  /**
   * Whether this node runs the journal-wide periodic jobs (the retention sweep), so that N nodes do not each run
   * them: always on a single process; in a cluster, only the oldest Up member (where the Cluster Singletons run).
   * Asked each time such a job is due, as membership changes.
   */
  boolean runsJournalJobs();

  /** Why this node cannot serve yet (a cluster node that is not {@code Up}), or empty when it can. */
  Optional<String> membershipProblem();

  /**
   * Whether the entities are spread over a cluster. Then every kind of entity must be started on every node, at
   * start: a Cluster Singleton runs on the oldest node only if its manager was started there, a shard coordinator
   * likewise, and a leaving oldest node hands them over only to a node that has started them (otherwise its
   * graceful leave waits out its timeout while the other nodes still ask the old coordinator).
   */
  default boolean clustered() {
    return false;
  }

  /** Entities on this process only, in {@link EntityRegistry}s: the single-node default. */
  static EntityHost local(ActorSystem<?> system) {
    return new LocalEntityHost(system);
  }

  /**
   * Entities spread over the cluster {@code system} belongs to (its provider must be {@code cluster}), with Cluster
   * Sharding and Cluster Singleton.
   */
  static EntityHost cluster(ActorSystem<?> system) {
    return new ClusterEntityHost(system);
  }
}
