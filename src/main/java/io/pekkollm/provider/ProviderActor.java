package io.pekkollm.provider;

import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.PreRestart;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * One actor per configured provider. It owns the provider instance (created in {@code setup}, so a restart
 * by its supervisor builds a fresh one), grants admission up to {@code max-in-flight} and keeps the
 * provider's counters. The HTTP stream itself runs outside the actor: a slow stream never blocks it.
 */
public final class ProviderActor extends AbstractBehavior<ProviderActor.Command> {

  public sealed interface Command {}

  /** Ask to start one call. Replies {@link Granted} or {@link Denied}. */
  public record Acquire(ActorRef<Admission> replyTo) implements Command {}

  /** A granted call ended. {@code error} is null on success; {@code cancelled} when the caller stopped. */
  public record Release(long permit, long durationNanos, ErrorKind error, String errorMessage, boolean cancelled)
      implements Command {}

  public record GetStatus(ActorRef<ProviderStatus> replyTo) implements Command {}

  public sealed interface Admission {}

  public record Granted(long permit, ChatProvider provider) implements Admission {}

  public record Denied(LlmException error) implements Admission {}

  private final ProviderSettings settings;
  private final ChatProvider provider;
  private final java.util.Set<Long> open = new java.util.HashSet<>();
  private long nextPermit = 1;
  private long requests;
  private long failures;
  private String lastError;
  private long lastErrorAt;
  private double avgLatencyMillis;

  public static Behavior<Command> create(ProviderSettings settings, ProviderFactory factory) {
    return Behaviors.setup(ctx -> new ProviderActor(ctx, settings, factory));
  }

  private ProviderActor(ActorContext<Command> ctx, ProviderSettings settings, ProviderFactory factory) {
    super(ctx);
    this.settings = settings;
    this.provider = settings.enabled() ? factory.create(settings, ctx.getSystem()) : null;
    ctx.getLog().debug("provider {} started: {}", settings.name(), settings);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Acquire.class, this::onAcquire)
        .onMessage(Release.class, this::onRelease)
        .onMessage(GetStatus.class, this::onGetStatus)
        .onSignal(PreRestart.class, s -> closeProvider())
        .onSignal(PostStop.class, s -> closeProvider())
        .build();
  }

  private Behavior<Command> onAcquire(Acquire msg) {
    if (provider == null) {
      msg.replyTo().tell(new Denied(new LlmException(ErrorKind.AUTHENTICATION, settings.disabledReason())));
    } else if (open.size() >= settings.maxInFlight()) {
      msg.replyTo().tell(new Denied(new LlmException(ErrorKind.RATE_LIMITED, "provider '" + settings.name()
          + "' is at its limit of " + settings.maxInFlight() + " concurrent calls (max-in-flight); retry shortly",
          null, true, null)));
    } else {
      long permit = nextPermit++;
      open.add(permit);
      requests++;
      msg.replyTo().tell(new Granted(permit, provider));
    }
    return this;
  }

  private Behavior<Command> onRelease(Release msg) {
    // Permits from before a restart are unknown here and ignored: the counters started afresh.
    if (!open.remove(msg.permit())) {
      return this;
    }
    double ms = msg.durationNanos() / 1_000_000.0;
    avgLatencyMillis = avgLatencyMillis == 0 ? ms : avgLatencyMillis * 0.9 + ms * 0.1;
    if (msg.error() != null && !msg.cancelled()) {
      failures++;
      lastError = msg.errorMessage();
      lastErrorAt = System.currentTimeMillis();
    }
    return this;
  }

  private Behavior<Command> onGetStatus(GetStatus msg) {
    msg.replyTo().tell(new ProviderStatus(settings.name(), settings.kind(), provider != null, open.size(),
        settings.maxInFlight(), requests, failures, lastError, lastErrorAt, avgLatencyMillis));
    return this;
  }

  private Behavior<Command> closeProvider() {
    if (provider != null) {
      try {
        provider.close();
      } catch (RuntimeException e) {
        getContext().getLog().warn("closing provider {} failed", settings.name(), e);
      }
    }
    return this;
  }
}
