package io.pekkollm.journal;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * Routes commands to entities by id on this node, starting them on demand (restarted with backoff when they
 * fail) and stopping idle ones. Passivation is safe: an entity asks to stop with {@link Passivate}, and commands
 * that arrive while it stops are held and delivered to its successor, so nothing is lost between the two. Used
 * for the stream entities of recovery and for session entities; in a cluster, Cluster Sharding plays this role.
 *
 * <p>Any string is a valid id (it is encoded into the entity's actor name), and the registry is restarted when
 * it fails: its entities are stopped and start again on their next command, so one bad command never leaves the
 * registry stopped. {@link Ping} tells whether it is answering.
 *
 * @param <C> the entities' command type
 */
public final class EntityRegistry<C> extends AbstractBehavior<EntityRegistry.Command<C>> {

  /** The registry's protocol. */
  public sealed interface Command<C> {}

  /** Deliver {@code command} to the entity {@code id}, starting it when it is not running. */
  public record Envelope<C>(String id, C command) implements Command<C> {}

  /** Sent by an idle entity: stop it (commands for it are held until it has stopped, then go to a new one). */
  public record Passivate<C>(String id, ActorRef<C> entity) implements Command<C> {}

  /** Replies {@link Done} to {@code replyTo}: the registry is running and answering (for health checks). */
  public record Ping<C>(ActorRef<Done> replyTo) implements Command<C> {}

  /** Creates the behavior of entity {@code id}; {@code registry} is where it sends {@link Passivate}. */
  @FunctionalInterface
  public interface EntityFactory<C> {
    Behavior<C> create(String id, ActorRef<Command<C>> registry);
  }

  private final String namePrefix;
  private final EntityFactory<C> factory;
  private final Map<String, ActorRef<C>> entities = new HashMap<>();
  /** The id of every running or stopping incarnation, by its ref: what a Terminated signal names. */
  private final Map<ActorRef<?>, String> ids = new HashMap<>();
  private final Map<String, List<C>> stopping = new HashMap<>();
  private long counter;

  /**
   * A registry whose entities are named {@code <namePrefix><encoded id>-<n>}, the id URL-encoded (every string
   * is an id); restarted on any failure. {@code namePrefix} must itself be valid in an actor name and not start
   * with {@code $}.
   */
  public static <C> Behavior<Command<C>> create(String namePrefix, EntityFactory<C> factory) {
    // Restart (which stops the entities first; they start again on demand) rather than the default stop: a
    // stopped registry would fail every later command of every entity until the process restarts.
    return Behaviors.supervise(Behaviors.<Command<C>>setup(ctx -> new EntityRegistry<>(ctx, namePrefix, factory)))
        .onFailure(SupervisorStrategy.restart());
  }

  /**
   * The actor name of incarnation {@code n} of entity {@code id}: URL-encoding leaves letters, digits and
   * {@code .-*_} and writes every other character as {@code %XX} (a space as {@code +}), all of which Pekko
   * allows in actor names, so no id can make the spawn fail ({@code InvalidActorNameException}).
   */
  static String actorName(String namePrefix, String id, long n) {
    return namePrefix + URLEncoder.encode(id, StandardCharsets.UTF_8) + "-" + n;
  }

  private EntityRegistry(ActorContext<Command<C>> ctx, String namePrefix, EntityFactory<C> factory) {
    super(ctx);
    this.namePrefix = namePrefix;
    this.factory = factory;
  }

  @Override
  @SuppressWarnings("unchecked")
  public Receive<Command<C>> createReceive() {
    return newReceiveBuilder()
        .onMessage(Envelope.class, e -> onEnvelope((Envelope<C>) e))
        .onMessage(Passivate.class, p -> onPassivate((Passivate<C>) p))
        .onMessage(Ping.class, p -> {
          ((Ping<C>) p).replyTo().tell(Done.getInstance());
          return this;
        })
        // ChildFailed (an entity that failed) is a Terminated too.
        .onSignal(Terminated.class, t -> onStopped(((Terminated) t).getRef()))
        .build();
  }

  private Behavior<Command<C>> onEnvelope(Envelope<C> e) {
    List<C> held = stopping.get(e.id());
    if (held != null) {
      held.add(e.command());
      return this;
    }
    entityFor(e.id()).tell(e.command());
    return this;
  }

  private ActorRef<C> entityFor(String id) {
    ActorRef<C> ref = entities.get(id);
    if (ref == null) {
      Behavior<C> behavior = Behaviors.supervise(factory.create(id, getContext().getSelf()))
          .onFailure(SupervisorStrategy.restartWithBackoff(Duration.ofMillis(100), Duration.ofSeconds(5), 0.2));
      // A unique name per incarnation: the previous one's name may still be reserved while it stops.
      ref = getContext().spawn(behavior, actorName(namePrefix, id, ++counter));
      // watch, not watchWith: Pekko keeps a failed child's exception (with its stack trace, 2-5 KB) in the
      // parent until the child's Terminated reaches the parent, and watchWith replaces that Terminated by the
      // custom message, so every entity that ever failed (a journal write timing out, say) stayed in memory.
      getContext().watch(ref);
      ids.put(ref, id);
      entities.put(id, ref);
    }
    return ref;
  }

  private Behavior<Command<C>> onPassivate(Passivate<C> p) {
    ActorRef<C> current = entities.get(p.id());
    if (current != null && current.equals(p.entity()) && !stopping.containsKey(p.id())) {
      stopping.put(p.id(), new ArrayList<>());
      getContext().stop(current);
    }
    return this;
  }

  private Behavior<Command<C>> onStopped(ActorRef<?> ref) {
    String id = ids.remove(ref);
    if (id == null) {
      return this;
    }
    entities.remove(id);
    List<C> held = stopping.remove(id);
    if (held != null && !held.isEmpty()) {
      ActorRef<C> fresh = entityFor(id);
      held.forEach(fresh::tell);
    }
    return this;
  }
}
