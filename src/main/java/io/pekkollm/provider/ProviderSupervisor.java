package io.pekkollm.provider;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.SupervisorStrategy;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * Parent of the provider actors. Each child is supervised on its own, restarting with backoff when it fails,
 * so a failing provider never affects the others. Replies the child refs, which stay valid across restarts.
 * Children are added ({@link Start}) and stopped ({@link StopChild}) at runtime for providers configured through
 * the admin API; {@link ProviderRegistry} decides when (after draining).
 */
public final class ProviderSupervisor {

  public sealed interface Command {}

  public record GetProviders(ActorRef<Providers> replyTo) implements Command {}

  /** The child refs, and each provider's live {@link ProviderLoad} (kept across restarts), by name. */
  public record Providers(Map<String, ActorRef<ProviderActor.Command>> refs, Map<String, ProviderLoad> loads) {}

  /**
   * Starts one more supervised child for {@code spec} (a runtime provider, or a new version of one) and replies
   * its ref and load. The child's actor name carries a counter, so a new version may start while the old drains.
   */
  public record Start(Spec spec, ActorRef<Started> replyTo) implements Command {}

  /** The child {@link Start} made. */
  public record Started(ActorRef<ProviderActor.Command> ref, ProviderLoad load) {}

  /** Stops the child {@code ref} (its provider is closed when its actor stops). */
  public record StopChild(ActorRef<ProviderActor.Command> ref) implements Command {}

  /** One provider to run: its settings and how to build it. */
  public record Spec(ProviderSettings settings, ProviderFactory factory) {}

  private ProviderSupervisor() {}

  public static Behavior<Command> create(Iterable<Spec> specs, Duration minBackoff, Duration maxBackoff) {
    return Behaviors.setup(ctx -> {
      Map<String, ActorRef<ProviderActor.Command>> refs = new LinkedHashMap<>();
      Map<String, ProviderLoad> loads = new LinkedHashMap<>();
      for (Spec spec : specs) {
        ProviderLoad load = new ProviderLoad(spec.settings().name());
        refs.put(spec.settings().name(), ctx.spawn(child(spec, load, minBackoff, maxBackoff),
            "provider-" + safe(spec.settings().name())));
        loads.put(spec.settings().name(), load);
      }
      Providers reply = new Providers(Map.copyOf(refs), Map.copyOf(loads));
      long[] counter = {0};
      return Behaviors.receive(Command.class)
          .onMessage(GetProviders.class, msg -> {
            msg.replyTo().tell(reply);
            return Behaviors.same();
          })
          .onMessage(Start.class, msg -> {
            ProviderLoad load = new ProviderLoad(msg.spec().settings().name());
            ActorRef<ProviderActor.Command> ref = ctx.spawn(child(msg.spec(), load, minBackoff, maxBackoff),
                "provider-" + safe(msg.spec().settings().name()) + "-" + (++counter[0]));
            msg.replyTo().tell(new Started(ref, load));
            return Behaviors.same();
          })
          .onMessage(StopChild.class, msg -> {
            ctx.stop(msg.ref());
            return Behaviors.same();
          })
          .build();
    });
  }

  private static Behavior<ProviderActor.Command> child(Spec spec, ProviderLoad load, Duration minBackoff,
      Duration maxBackoff) {
    return Behaviors.supervise(ProviderActor.create(spec.settings(), spec.factory(), load, System::nanoTime))
        .onFailure(SupervisorStrategy.restartWithBackoff(minBackoff, maxBackoff, 0.2));
  }

  private static String safe(String name) {
    return java.net.URLEncoder.encode(name, java.nio.charset.StandardCharsets.UTF_8);
  }
}
