package io.pekkollm.recovery;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * Routes commands to stream entities by recovery id on this node, starting them on demand and stopping idle
 * ones. Passivation is safe: commands that arrive while an entity is stopping are held and delivered to its
 * successor, so nothing is lost between the two. (In a cluster, Cluster Sharding plays this role.)
 */
final class RecoveryRegistry extends AbstractBehavior<RecoveryRegistry.Command> {

  interface Command {}

  record Envelope(String recoveryId, StreamEntity.Command command) implements Command {}

  record Passivate(String recoveryId, ActorRef<StreamEntity.Command> entity) implements Command {}

  private record EntityStopped(String recoveryId) implements Command {}

  private final String pluginId;
  private final Config pluginConfig;
  private final Duration passivateAfter;
  private final Map<String, ActorRef<StreamEntity.Command>> entities = new HashMap<>();
  private final Map<String, List<StreamEntity.Command>> stopping = new HashMap<>();
  private long counter;

  static Behavior<Command> create(String pluginId, Config pluginConfig, Duration passivateAfter) {
    return Behaviors.setup(ctx -> new RecoveryRegistry(ctx, pluginId, pluginConfig, passivateAfter));
  }

  private RecoveryRegistry(ActorContext<Command> ctx, String pluginId, Config pluginConfig, Duration passivateAfter) {
    super(ctx);
    this.pluginId = pluginId;
    this.pluginConfig = pluginConfig;
    this.passivateAfter = passivateAfter;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Envelope.class, this::onEnvelope)
        .onMessage(Passivate.class, this::onPassivate)
        .onMessage(EntityStopped.class, this::onStopped)
        .build();
  }

  private Behavior<Command> onEnvelope(Envelope e) {
    List<StreamEntity.Command> held = stopping.get(e.recoveryId());
    if (held != null) {
      held.add(e.command());
      return this;
    }
    entityFor(e.recoveryId()).tell(e.command());
    return this;
  }

  private ActorRef<StreamEntity.Command> entityFor(String id) {
    ActorRef<StreamEntity.Command> ref = entities.get(id);
    if (ref == null) {
      // A unique name per incarnation: the previous one's name may still be reserved while it stops.
      Behavior<StreamEntity.Command> behavior = Behaviors.supervise(
              StreamEntity.create(id, pluginId, pluginConfig, passivateAfter, getContext().getSelf()))
          .onFailure(SupervisorStrategy.restartWithBackoff(Duration.ofMillis(100), Duration.ofSeconds(5), 0.2));
      ref = getContext().spawn(behavior, "stream-" + id + "-" + (++counter));
      getContext().watchWith(ref, new EntityStopped(id));
      entities.put(id, ref);
    }
    return ref;
  }

  private Behavior<Command> onPassivate(Passivate p) {
    ActorRef<StreamEntity.Command> current = entities.get(p.recoveryId());
    if (current != null && current.equals(p.entity()) && !stopping.containsKey(p.recoveryId())) {
      stopping.put(p.recoveryId(), new ArrayList<>());
      getContext().stop(current);
    }
    return this;
  }

  private Behavior<Command> onStopped(EntityStopped s) {
    entities.remove(s.recoveryId());
    List<StreamEntity.Command> held = stopping.remove(s.recoveryId());
    if (held != null && !held.isEmpty()) {
      ActorRef<StreamEntity.Command> fresh = entityFor(s.recoveryId());
      held.forEach(fresh::tell);
    }
    return this;
  }

}
