package io.pekkollm.journal;

import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/** {@link EntityHost#local}: every entity in an {@link EntityRegistry} (or one actor) of this process. */
final class LocalEntityHost implements EntityHost {
  private static final AtomicLong HOSTS = new AtomicLong();

  private final ActorSystem<?> system;
  private final String incarnation = UUID.randomUUID().toString();
  /** Actor names are per host: several clients may share one actor system. */
  private final String suffix = "-" + HOSTS.incrementAndGet();

  LocalEntityHost(ActorSystem<?> system) {
    this.system = system;
  }

  @Override
  public String incarnation() {
    return incarnation;
  }

  @Override
  public boolean writerAlive(String writer) {
    return incarnation.equals(writer);
  }

  @Override
  public boolean runsJournalJobs() {
    return true;
  }

  @Override
  public Optional<String> membershipProblem() {
    return Optional.empty();
  }

  @Override
  public <C> Entities<C> entities(String kind, Class<C> commandType, Entities.Factory<C> factory) {
    ActorRef<EntityRegistry.Command<C>> registry = system.systemActorOf(EntityRegistry.<C>create(kind + "-",
            (id, reg) -> factory.create(id, self -> reg.tell(new EntityRegistry.Passivate<>(id, self)))),
        "pekko-llm-" + kind + suffix, Props.empty());
    return new Entities<>() {
      @Override
      public void tell(String id, C command) {
        registry.tell(new EntityRegistry.Envelope<>(id, command));
      }

      @Override
      public <R> CompletionStage<R> ask(String id, Function<ActorRef<R>, C> command, Duration timeout) {
        return AskPattern.<EntityRegistry.Command<C>, R>ask(registry,
            r -> new EntityRegistry.Envelope<>(id, command.apply(r)), timeout, system.scheduler());
      }

      @Override
      public CompletionStage<Optional<String>> problem(Duration patience) {
        return AskPattern.<EntityRegistry.Command<C>, Done>ask(registry, EntityRegistry.Ping::new, patience,
                system.scheduler())
            .handle((done, err) -> err == null ? Optional.<String>empty()
                : Optional.of("the " + kind + " entity registry did not answer within " + patience.toMillis()
                    + " ms: " + err.getMessage()));
      }

      @Override
      public void stop() {
        system.classicSystem().stop(Adapter.toClassic(registry));
      }
    };
  }

  @Override
  public <C> Entities<C> singleton(String kind, Class<C> commandType, Behavior<C> behavior) {
    ActorRef<C> ref = system.systemActorOf(behavior, "pekko-llm-" + kind + suffix, Props.empty());
    return new SingleRef<>(system, ref, () -> system.classicSystem().stop(Adapter.toClassic(ref)));
  }

  /** The one entity behind {@code ref}, whatever id it is asked by. */
  record SingleRef<C>(ActorSystem<?> system, ActorRef<C> ref, Runnable stopper) implements Entities<C> {
    @Override
    public void tell(String id, C command) {
      ref.tell(command);
    }

    @Override
    public <R> CompletionStage<R> ask(String id, Function<ActorRef<R>, C> command, Duration timeout) {
      return AskPattern.ask(ref, command::apply, timeout, system.scheduler());
    }

    @Override
    public CompletionStage<Optional<String>> problem(Duration patience) {
      return java.util.concurrent.CompletableFuture.completedFuture(Optional.empty());
    }

    @Override
    public void stop() {
      stopper.run();
    }
  }
}
