package io.pekkollm.journal;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;

/**
 * Where the entities of one kind live and how to reach them by id, whether on this node
 * ({@link EntityHost#local}: an {@link EntityRegistry}) or anywhere in a cluster ({@link EntityHost#cluster}:
 * Cluster Sharding, or a Cluster Singleton for a kind with one entity). The services (stream recovery, sessions)
 * talk to their entities only through this, so they do not know which it is. Thread-safe.
 *
 * @param <C> the entities' command type
 */
public interface Entities<C> {

  /** Creates the behavior of entity {@code id}; an idle entity stops through {@code passivation}. */
  @FunctionalInterface
  interface Factory<C> {
    Behavior<C> create(String id, Passivation<C> passivation);
  }

  /** How an idle entity asks to stop: commands that arrive meanwhile go to its next incarnation. */
  @FunctionalInterface
  interface Passivation<C> {
    void passivate(ActorRef<C> self);
  }

  /** Sends {@code command} to entity {@code id}, starting it (on whichever node owns it) when it is not running. */
  void tell(String id, C command);

  /** Asks entity {@code id}; fails with a {@code TimeoutException} when no reply comes within {@code timeout}. */
  <R> CompletionStage<R> ask(String id, Function<ActorRef<R>, C> command, Duration timeout);

  /** Why the entities cannot be reached now (their registry not answering within {@code patience}), or empty. */
  CompletionStage<Optional<String>> problem(Duration patience);

  /** Stops this node's entities of this kind (a local registry); a cluster's entities live on without this node. */
  void stop();
}
