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

  public record Providers(Map<String, ActorRef<ProviderActor.Command>> refs) {}

  /** One provider to run: its settings and how to build it. */
  public record Spec(ProviderSettings settings, ProviderFactory factory) {}

  private ProviderSupervisor() {}

  public static Behavior<Command> create(Iterable<Spec> specs, Duration minBackoff, Duration maxBackoff) {
    return Behaviors.setup(ctx -> {
      Map<String, ActorRef<ProviderActor.Command>> refs = new LinkedHashMap<>();
      for (Spec spec : specs) {
        Behavior<ProviderActor.Command> child = Behaviors.supervise(ProviderActor.create(spec.settings(), spec.factory()))
            .onFailure(SupervisorStrategy.restartWithBackoff(minBackoff, maxBackoff, 0.2));
        refs.put(spec.settings().name(), ctx.spawn(child, "provider-" + safe(spec.settings().name())));
      }
      Providers reply = new Providers(Map.copyOf(refs));
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
