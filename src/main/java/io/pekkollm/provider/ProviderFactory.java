package io.pekkollm.provider;

import org.apache.pekko.actor.typed.ActorSystem;

/** Creates a provider from its settings. Called again when the provider's actor restarts. */
@FunctionalInterface
public interface ProviderFactory {
  ChatProvider create(ProviderSettings settings, ActorSystem<?> system);
}
