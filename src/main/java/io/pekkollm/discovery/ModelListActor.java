package io.pekkollm.discovery;

import io.pekkollm.model.ModelInfo;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * Each provider's model list, kept for the provider's TTL (a timer marks it stale, so expiry follows the actor
 * system's scheduler). Concurrent requests for a stale or missing list share one listing call. A failed listing
 * is answered with the last API answer (STALE) or the catalog's models (CATALOG), and is retried after
 * {@code failure-ttl} rather than on every request.
 */
final class ModelListActor extends AbstractBehavior<ModelListActor.Command> {

  sealed interface Command {}

  record Get(String provider, ActorRef<ProviderModels> replyTo) implements Command {}

  /** Marks the lists of {@code provider} (null: every provider) stale, so the next request lists again. */
  record Invalidate(String provider) implements Command {}

  private record WrappedListing(String provider, List<ModelInfo> models, Throwable error) implements Command {}

  private record WrappedListingExpiry(String provider) implements Command {}

  private static final class Slot {
    ProviderModels current;
    ProviderModels lastFromApi;
    boolean fresh;
    final List<ActorRef<ProviderModels>> waiting = new ArrayList<>();
  }

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final DiscoverySettings settings;
  private final Function<String, CompletionStage<List<ModelInfo>>> fetch;
  private final Function<String, List<ModelInfo>> catalog;
  private final Function<String, Duration> ttl;
  private final Clock clock;
  private final Map<String, Slot> slots = new HashMap<>();

  static Behavior<Command> create(DiscoverySettings settings, Function<String, CompletionStage<List<ModelInfo>>> fetch,
      Function<String, List<ModelInfo>> catalog, Function<String, Duration> ttl, Clock clock) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new ModelListActor(ctx, timers, settings, fetch, catalog, ttl, clock)));
  }

  private ModelListActor(ActorContext<Command> ctx, TimerScheduler<Command> timers, DiscoverySettings settings,
      Function<String, CompletionStage<List<ModelInfo>>> fetch, Function<String, List<ModelInfo>> catalog,
      Function<String, Duration> ttl, Clock clock) {
    super(ctx);
    this.ctx = ctx;
    this.timers = timers;
    this.settings = settings;
    this.fetch = fetch;
    this.catalog = catalog;
    this.ttl = ttl;
    this.clock = clock;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Get.class, this::onGet)
        .onMessage(WrappedListing.class, this::onListing)
        .onMessage(WrappedListingExpiry.class, this::onExpired)
        .onMessage(Invalidate.class, this::onInvalidate)
        .build();
  }

  private Behavior<Command> onGet(Get g) {
    Slot slot = slots.computeIfAbsent(g.provider(), p -> new Slot());
    if (slot.fresh) {
      g.replyTo().tell(slot.current);
      return this;
    }
    slot.waiting.add(g.replyTo());
    if (slot.waiting.size() == 1) {
      CompletionStage<List<ModelInfo>> listing;
      try {
        listing = fetch.apply(g.provider()).toCompletableFuture()
            .orTimeout(settings.timeout().toMillis(), TimeUnit.MILLISECONDS);
      } catch (RuntimeException e) {
        listing = CompletableFuture.failedFuture(e);
      }
      String provider = g.provider();
      ctx.pipeToSelf(listing, (models, err) -> new WrappedListing(provider, models, err));
    }
    return this;
  }

  private Behavior<Command> onListing(WrappedListing l) {
    Slot slot = slots.get(l.provider());
    if (l.error() == null) {
      slot.current = new ProviderModels(l.provider(), l.models(), ProviderModels.Source.API, clock.instant(), null);
      slot.lastFromApi = slot.current;
      timers.startSingleTimer(l.provider(), new WrappedListingExpiry(l.provider()), ttl.apply(l.provider()));
    } else {
      Throwable cause = io.pekkollm.util.Futures.cause(l.error());
      String error = cause instanceof java.util.concurrent.TimeoutException
          ? "listing took longer than " + settings.timeout().toMillis() + " ms" : String.valueOf(cause.getMessage());
      ctx.getLog().info("listing the models of {} failed ({}); serving {}", l.provider(), error,
          slot.lastFromApi != null ? "its last listing" : "its catalog models");
      slot.current = slot.lastFromApi != null
          ? new ProviderModels(l.provider(), slot.lastFromApi.models(), ProviderModels.Source.STALE,
              slot.lastFromApi.fetchedAt(), error)
          : new ProviderModels(l.provider(), catalog.apply(l.provider()), ProviderModels.Source.CATALOG,
              clock.instant(), error);
      timers.startSingleTimer(l.provider(), new WrappedListingExpiry(l.provider()), settings.failureTtl());
    }
    slot.fresh = true;
    slot.waiting.forEach(r -> r.tell(slot.current));
    slot.waiting.clear();
    return this;
  }

  private Behavior<Command> onExpired(WrappedListingExpiry e) {
    Slot slot = slots.get(e.provider());
    if (slot != null) {
      slot.fresh = false;
    }
    return this;
  }

  private Behavior<Command> onInvalidate(Invalidate i) {
    slots.forEach((provider, slot) -> {
      if (i.provider() == null || i.provider().equals(provider)) {
        slot.fresh = false;
        timers.cancel(provider);
      }
    });
    return this;
  }
}
