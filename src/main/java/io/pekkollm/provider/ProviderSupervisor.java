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
 */
public final class ProviderSupervisor {

  public sealed interface Command {}

  public record GetProviders(ActorRef<Providers> replyTo) implements Command {}

  /** The child refs, and each provider's live {@link ProviderLoad} (kept across restarts), by name. */
  public record Providers(Map<String, ActorRef<ProviderActor.Command>> refs, Map<String, ProviderLoad> loads) {}

  /** One provider to run: its settings and how to build it. */
  public record Spec(ProviderSettings settings, ProviderFactory factory) {}

  private ProviderSupervisor() {}

  public static Behavior<Command> create(Iterable<Spec> specs, Duration minBackoff, Duration maxBackoff) {
    return Behaviors.setup(ctx -> {
      Map<String, ActorRef<ProviderActor.Command>> refs = new LinkedHashMap<>();
      Map<String, ProviderLoad> loads = new LinkedHashMap<>();
      for (Spec spec : specs) {
        ProviderLoad load = new ProviderLoad(spec.settings().name());
        Behavior<ProviderActor.Command> child = Behaviors.supervise(
                ProviderActor.create(spec.settings(), spec.factory(), load, System::nanoTime))
            .onFailure(SupervisorStrategy.restartWithBackoff(minBackoff, maxBackoff, 0.2));
        refs.put(spec.settings().name(), ctx.spawn(child, "provider-" + safe(spec.settings().name())));
        loads.put(spec.settings().name(), load);
      }
      Providers reply = new Providers(Map.copyOf(refs), Map.copyOf(loads));
      return Behaviors.receive(Command.class)
          .onMessage(GetProviders.class, msg -> {
            msg.replyTo().tell(reply);
            return Behaviors.same();
          })
          .build();
    });
  }

  private static String safe(String name) {
    return java.net.URLEncoder.encode(name, java.nio.charset.StandardCharsets.UTF_8);
  }
}
