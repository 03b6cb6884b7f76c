package io.pekkollm.journal;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.SingletonActor;

/**
 * {@link EntityHost#cluster}: entities in Cluster Sharding (each on exactly one node, moved to another when
 * its node leaves or is downed, and recovered there from the journal), one-entity kinds as Cluster Singletons.
 * A writer is a member's unique address (host, port and a random uid per start).
 */
final class ClusterEntityHost implements EntityHost {
  private final ActorSystem<?> system;
  private final Cluster cluster;
  private final ClusterSharding sharding;

  ClusterEntityHost(ActorSystem<?> system) {
    this.system = system;
    this.cluster = Cluster.get(system);
    this.sharding = ClusterSharding.get(system);
  }

  @Override
  public String incarnation() {
    return cluster.selfMember().uniqueAddress().toString();
  }

  @Override
  public boolean writerAlive(String writer) {
    if (incarnation().equals(writer)) {
      return true;
    }
    for (Member m : cluster.state().getMembers()) {
      if (m.uniqueAddress().toString().equals(writer)) {
        return m.status() != MemberStatus.down() && m.status() != MemberStatus.removed();
      }
    }
    // Not a member (any more): removed after it was downed or left, or a process from before the cluster.
    return false;
  }

  @Override
  public boolean runsJournalJobs() {
    Member self = cluster.selfMember();
    if (self.status() != MemberStatus.up()) {
      return false;
    }
    for (Member m : cluster.state().getMembers()) {
      if (m.status() == MemberStatus.up() && m.isOlderThan(self)) {
        return false;
      }
    }
    return true;
  }

  @Override
  public boolean clustered() {
    return true;
  }

  @Override
  public Optional<String> membershipProblem() {
    MemberStatus status = cluster.selfMember().status();
    if (status == MemberStatus.up() || status == MemberStatus.weaklyUp()) {
      return Optional.empty();
    }
    return Optional.of("this cluster node is " + status + ", not Up (seed nodes: "
        + system.settings().config().getStringList("pekko.cluster.seed-nodes") + ")");
  }

  @Override
  public <C> Entities<C> entities(String kind, Class<C> commandType, Entities.Factory<C> factory) {
    EntityTypeKey<C> key = EntityTypeKey.create(commandType, "pekko-llm-" + kind);
    sharding.init(Entity.of(key, ctx -> factory.create(ctx.getEntityId(),
        self -> ctx.getShard().tell(new ClusterSharding.Passivate<>(self)))));
    return new Entities<>() {
      @Override
      public void tell(String id, C command) {
        sharding.entityRefFor(key, id).tell(command);
      }

      @Override
      public <R> CompletionStage<R> ask(String id, Function<ActorRef<R>, C> command, Duration timeout) {
        return sharding.entityRefFor(key, id).<R>ask(command::apply, timeout);
      }

      @Override
      public CompletionStage<Optional<String>> problem(Duration patience) {
        return CompletableFuture.completedFuture(membershipProblem());
      }

      @Override
      public void stop() {
        // The entities belong to the cluster: this node hands its shards over as it leaves (coordinated shutdown).
      }
    };
  }

  @Override
  public <C> Entities<C> singleton(String kind, Class<C> commandType, Behavior<C> behavior) {
    ActorRef<C> proxy = ClusterSingleton.get(system).init(SingletonActor.of(behavior, "pekko-llm-" + kind));
    return new LocalEntityHost.SingleRef<>(system, proxy, () -> { });
  }
}
