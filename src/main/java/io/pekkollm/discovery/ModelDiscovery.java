package io.pekkollm.discovery;

import io.pekkollm.model.ModelInfo;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;

/**
 * Model discovery: each provider's model list from its API, kept for a TTL (long for cloud providers, short for
 * local servers, see {@link DiscoverySettings#ttlFor}), with the static catalog's models for a provider whose
 * API fails and has never answered (and its last answer when it has). Concurrent requests share one listing
 * call per provider. Thread-safe; one per {@code LlmClient}, stopped with its actor system or {@link #stop()}.
 */
public final class ModelDiscovery {
  private final ActorSystem<?> system;
  private final DiscoverySettings settings;
  private final ActorRef<ModelListActor.Command> actor;

  private ModelDiscovery(ActorSystem<?> system, DiscoverySettings settings, ActorRef<ModelListActor.Command> actor) {
    this.system = system;
    this.settings = settings;
    this.actor = actor;
  }

  /**
   * Starts discovery as a system actor named {@code name}. {@code fetch} lists a provider's models from its API,
   * {@code catalog} gives its catalog models, {@code ttl} how long its list is kept.
   */
  public static ModelDiscovery start(ActorSystem<?> system, DiscoverySettings settings,
      Function<String, CompletionStage<List<ModelInfo>>> fetch, Function<String, List<ModelInfo>> catalog,
      Function<String, Duration> ttl, String name) {
    return new ModelDiscovery(system, settings, system.systemActorOf(
        ModelListActor.create(settings, fetch, catalog, ttl, Clock.systemUTC()), name, Props.empty()));
  }

  public DiscoverySettings settings() {
    return settings;
  }

  /** The models of {@code provider}: from the kept list, else listed now; never fails for a failing API. */
  public CompletionStage<ProviderModels> models(String provider) {
    // The listing itself is bounded by settings.timeout(); the ask only needs to outlast it.
    return AskPattern.ask(actor, r -> new ModelListActor.Get(provider, r), settings.timeout().plusSeconds(5),
        system.scheduler());
  }

  /** The models of each of {@code providers}, in their order, listed concurrently. */
  public CompletionStage<List<ProviderModels>> models(Collection<String> providers) {
    List<CompletableFuture<ProviderModels>> parts = new ArrayList<>();
    providers.forEach(p -> parts.add(models(p).toCompletableFuture()));
    return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new))
        .thenApply(v -> parts.stream().map(CompletableFuture::join).toList());
  }

  /** Forgets the kept list of {@code provider} (null: of every provider); the next request lists again. */
  public void invalidate(String provider) {
    actor.tell(new ModelListActor.Invalidate(provider));
  }

  public void stop() {
    system.classicSystem().stop(org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(actor));
  }
}
