package io.pekkollm.responses;

import com.typesafe.config.Config;
import io.pekkollm.journal.Entities;
import io.pekkollm.journal.EntityHost;
import io.pekkollm.journal.JournalSchema;
import io.pekkollm.journal.JournalSettings;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.pattern.StatusReply;

/**
 * Stored responses of the Responses API ({@code store: true}), one event-sourced entity per response id on the
 * journal (H2 or PostgreSQL, like streams and sessions), so a conversation continued by
 * {@code previous_response_id} survives restarts. A read of an id whose write is still running waits for that
 * write, so a client that continues a response the moment it was answered finds it. Thread-safe.
 */
public final class ResponseStore {
  private final Entities<ResponseEntity.Command> registry;
  private final Duration askTimeout;
  private final Map<String, CompletableFuture<Done>> writing = new ConcurrentHashMap<>();

  private ResponseStore(Entities<ResponseEntity.Command> registry, Duration askTimeout) {
    this.registry = registry;
    this.askTimeout = askTimeout;
  }

  /**
   * Creates the journal tables if missing and starts the entities on {@code host} (this process, or sharded over
   * the cluster): idle entities leave memory after {@code pekko-llm.responses.passivate-after} of
   * {@code settings}; every call waits at most its {@code ask-timeout}.
   */
  public static ResponseStore start(ActorSystem<?> system, JournalSettings journal, Config settings,
      EntityHost host) {
    JournalSchema.ensure(journal);
    Config plugin = journal.pluginConfig(system.settings().config());
    Duration passivate = settings.getDuration("passivate-after");
    Entities<ResponseEntity.Command> registry = host.entities("response", ResponseEntity.Command.class,
        (id, passivation) -> ResponseEntity.create(id, JournalSettings.PLUGIN_ID, plugin, passivate, passivation));
    return new ResponseStore(registry, settings.getDuration("ask-timeout"));
  }

  /** Stores {@code response}; fails with CONFLICT when its id was deleted. */
  public CompletionStage<Done> put(StoredResponse response) {
    CompletableFuture<Done> done = this.<Done>ask(response.id(), r -> new ResponseEntity.Store(response, r))
        .toCompletableFuture();
    writing.put(response.id(), done);
    done.whenComplete((d, err) -> writing.remove(response.id(), done));
    return done;
  }

  /** The stored response {@code id}; empty when there is none (never stored, deleted, or its write failed). */
  public CompletionStage<Optional<StoredResponse>> get(String id) {
    CompletableFuture<Done> pending = writing.get(id);
    CompletionStage<Done> before = pending == null ? CompletableFuture.completedFuture(Done.getInstance())
        : pending.exceptionally(err -> Done.getInstance());
    return before.thenCompose(d -> ask(id, ResponseEntity.Get::new));
  }

  /** Deletes the response {@code id}; completes with whether there was one. */
  public CompletionStage<Boolean> delete(String id) {
    CompletableFuture<Done> pending = writing.get(id);
    CompletionStage<Done> before = pending == null ? CompletableFuture.completedFuture(Done.getInstance())
        : pending.exceptionally(err -> Done.getInstance());
    long now = System.currentTimeMillis();
    return before.thenCompose(d -> ask(id, r -> new ResponseEntity.Delete(now, r)));
  }

  private <T> CompletionStage<T> ask(String id, Function<ActorRef<StatusReply<T>>, ResponseEntity.Command> command) {
    return registry.<StatusReply<T>>ask(id, command, askTimeout)
        .handle((reply, err) -> {
          if (err != null) {
            throw new LlmException(ErrorKind.INTERNAL, "stored response '" + id + "' did not answer within "
                + askTimeout.toMillis() + " ms", err, true, null);
          }
          if (reply.isError()) {
            throw new LlmException(ErrorKind.CONFLICT, reply.getError().getMessage(), null, false, null);
          }
          return reply.getValue();
        });
  }
}
