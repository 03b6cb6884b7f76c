package io.pekkollm.routing;

import io.pekkollm.provider.ProviderActor;
import org.apache.pekko.actor.typed.ActorRef;

/** Where a {@code provider/model} id goes: the provider's name and actor, and the provider's own model id. */
public record Route(String provider, String model, ActorRef<ProviderActor.Command> actor) {}
