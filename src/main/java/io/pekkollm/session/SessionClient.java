package io.pekkollm.session;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.stream.ChatStream;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.Cost;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Message;
import io.pekkollm.model.TruncationStrategy;
import io.pekkollm.model.Usage;
import io.pekkollm.journal.JournalSchema;
import io.pekkollm.journal.JournalSettings;
import io.pekkollm.recovery.JournaledChunk;
import io.pekkollm.session.SessionEvent.SessionImported;
import io.pekkollm.session.SessionEvent.StoredMessage;
import io.pekkollm.stream.ChatAccumulator;
import io.pekkollm.journal.Entities;
import io.pekkollm.journal.EntityHost;
import io.pekkollm.session.SessionState.Active;
import io.pekkollm.util.Json;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Conversations kept by the library: each session is an event-sourced entity on the recovery journal (H2 or
 * PostgreSQL), holding its history, model, metadata, and usage and cost totals; idle sessions leave memory and
 * come back on demand, and sessions survive restarts. Get it from {@code LlmClient.sessions()}.
 *
 * <p>A turn ({@link #chat}, {@link #stream}) sends the session's history plus the turn's new user or tool
 * messages to the session's model (or the turn's own), shortened by the session's context strategy when it
 * outgrows the model's window (the stored history is never shortened). When the answer is complete, the turn's
 * messages and the reply are recorded together; a failed or cancelled call records nothing. One turn runs at a
 * time per session; a second is refused with CONFLICT (409).
 *
 * <p>A turn is a {@link ChatRequest} whose messages are the new ones and whose options (temperature, max tokens,
 * tools, response format, cache, ...) apply to that call; its model is {@link #SESSION_MODEL} to use the
 * session's, or a {@code provider/model} for this turn only. {@link #turn()} starts one.
 *
 * <p>Listing reads a small event-sourced index of live sessions (not the sessions themselves). Deleting persists a
 * tombstone and then removes the session's earlier events from the journal. Thread-safe.
 */
public final class SessionClient {
  private static final Logger LOG = LoggerFactory.getLogger(SessionClient.class);

  /** The model of a turn that uses its session's model. */
  public static final String SESSION_MODEL = "session";

  private static final java.time.Duration INDEX_ATTEMPT = java.time.Duration.ofSeconds(2);

  /** Largest page {@link #list} returns. */
  public static final int MAX_PAGE = 1000;

  /** What sessions need from their client: calls, prices, and model checks. */
  public interface Runtime {
    CompletionStage<ChatResponse> chat(ChatRequest request);

    Source<JournaledChunk, ChatStream> streamJournaled(ChatRequest request);

    Optional<Cost> cost(String model, Usage usage);

    /** Throws {@link LlmException} (MODEL_NOT_FOUND, INVALID_REQUEST) when {@code model} cannot be called. */
    void checkModel(String model);
  }

  private final ActorSystem<?> system;
  private final SessionSettings settings;
  private final JournalSettings journal;
  private final Runtime runtime;
  private final Clock clock;
  private final Entities<SessionEntity.Command> registry;
  private final Entities<SessionIndex.Command> index;

  private SessionClient(ActorSystem<?> system, SessionSettings settings, JournalSettings journal, Runtime runtime,
      Clock clock, Entities<SessionEntity.Command> registry, Entities<SessionIndex.Command> index) {
    this.system = system;
    this.settings = settings;
    this.journal = journal;
    this.runtime = runtime;
    this.clock = clock;
    this.registry = registry;
    this.index = index;
  }

  /**
   * Creates the journal tables if missing and starts the session entities and index on {@code host} (on this
   * process, or sharded over the cluster with the index a Cluster Singleton).
   */
  public static SessionClient start(ActorSystem<?> system, SessionSettings settings, JournalSettings journal,
      Runtime runtime, EntityHost host) {
    JournalSchema.ensure(journal);
    var plugin = journal.pluginConfig(system.settings().config());
    Entities<SessionEntity.Command> registry = host.entities("session", SessionEntity.Command.class,
        (id, passivation) -> SessionEntity.create(id, JournalSettings.PLUGIN_ID, plugin, settings.passivateAfter(),
            settings.turnTimeout(), passivation));
    Entities<SessionIndex.Command> index = host.singleton("session-index", SessionIndex.Command.class,
        org.apache.pekko.actor.typed.javadsl.Behaviors.supervise(SessionIndex.create(JournalSettings.PLUGIN_ID, JournalSettings.SNAPSHOT_PLUGIN_ID, plugin))
            .onFailure(org.apache.pekko.actor.typed.SupervisorStrategy.restartWithBackoff(
                java.time.Duration.ofMillis(200), java.time.Duration.ofSeconds(10), 0.2)));
    return new SessionClient(system, settings, journal, runtime, Clock.systemUTC(), registry, index);
  }

  public SessionSettings settings() {
    return settings;
  }

  /** A new turn for {@link #chat(String, ChatRequest)}: add user (or tool) messages and options, then build. */
  public static ChatRequest.Builder turn() {
    return ChatRequest.builder(SESSION_MODEL);
  }

  // ------------------------------------------------------------------ sessions

  /** Creates a session; fails with INVALID_REQUEST, MODEL_NOT_FOUND, or CONFLICT when the id is taken. */
  public CompletionStage<Session> create(NewSession spec) {
    String id;
    String model;
    try {
      id = spec.id() == null ? SessionIds.newId() : checkId(spec.id());
      model = spec.model() != null && !spec.model().isBlank() ? spec.model() : settings.defaultModel();
      if (model.isEmpty()) {
        throw LlmException.invalidRequest("'model' is required (no pekko-llm.sessions.default-model is set)", "model");
      }
      runtime.checkModel(model);
    } catch (LlmException e) {
      return CompletableFuture.failedFuture(e);
    }
    TruncationStrategy strategy = spec.contextStrategySet() ? spec.contextStrategy() : settings.contextStrategy();
    long now = clock.millis();
    List<StoredMessage> initial = spec.system() == null || spec.system().isEmpty() ? List.of()
        : List.of(Stored.message(SessionMessage.of(Message.system(spec.system()), Instant.ofEpochMilli(now))));
    return this.<Active>ask(id, r -> new SessionEntity.Create(spec.name() == null ? "" : spec.name(), model,
            strategy == null ? null : strategy.wireName(), spec.metadata(), initial, now, spec.owner(), r))
        .thenApply(Active::toSession).thenCompose(this::listed);
  }

  /** The session {@code id}, empty when there is none. */
  public CompletionStage<Optional<Session>> get(String id) {
    if (!SessionIds.isValid(id)) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    return this.<Active>ask(id, SessionEntity.Get::new).handle((s, err) -> {
      if (err == null) {
        return Optional.of(s.toSession());
      }
      LlmException e = unwrap(err);
      if (e.kind() == ErrorKind.NOT_FOUND) {
        return Optional.empty();
      }
      throw e;
    });
  }

  /**
   * Live sessions, newest first: at most {@code limit} (1 to {@value #MAX_PAGE}), after the session {@code after}
   * (null: from the newest).
   */
  public CompletionStage<SessionPage> list(int limit, String after) {
    return list(limit, after, null);
  }

  /** As {@link #list(int, String)}, only the sessions of {@code owner} (a virtual key id; null: every session). */
  public CompletionStage<SessionPage> list(int limit, String after, String owner) {
    int n = Math.max(1, Math.min(MAX_PAGE, limit));
    return index.<SessionIndex.Page>ask("all", r -> new SessionIndex.ListSessions(n, after, owner, r),
            settings.askTimeout())
        .thenApply(p -> new SessionPage(p.sessions(), p.hasMore()));
  }

  /** Changes the session's name, model, metadata or context strategy. */
  public CompletionStage<Session> update(String id, SessionUpdate update) {
    try {
      checkId(id);
      update.model().ifPresent(runtime::checkModel);
    } catch (LlmException e) {
      return CompletableFuture.failedFuture(e);
    }
    String strategy = !update.changesContextStrategy() ? null
        : update.contextStrategy() == null ? "" : update.contextStrategy().wireName();
    return this.<Active>ask(id, r -> new SessionEntity.Update(update.name().orElse(null),
            update.model().orElse(null), update.metadata().orElse(null), strategy, clock.millis(), r))
        .thenApply(Active::toSession).thenCompose(this::listed);
  }

  /** Deletes the session; completes with false when there was none. */
  public CompletionStage<Boolean> delete(String id) {
    if (!SessionIds.isValid(id)) {
      return CompletableFuture.completedFuture(false);
    }
    long now = clock.millis();
    return this.<Long>ask(id, r -> new SessionEntity.Delete(now, r)).handle((seq, err) -> {
      if (err != null) {
        LlmException e = unwrap(err);
        if (e.kind() == ErrorKind.NOT_FOUND) {
          return CompletableFuture.completedFuture(false);
        }
        throw e;
      }
      purgeBefore(id, seq);
      return this.<Done>askIndex(r -> new SessionIndex.Remove(id, r)).thenApply(d -> true);
    }).thenCompose(Function.identity());
  }

  /** Removes the deleted session's events before its tombstone, off the actor threads. */
  private void purgeBefore(String id, long tombstoneSeq) {
    String pid = SessionEntity.persistenceId(id).id();
    CompletableFuture.runAsync(() -> {
      try (Connection c = JournalSchema.connect(journal);
          PreparedStatement del = c.prepareStatement(
              "DELETE FROM \"event_journal\" WHERE \"persistence_id\" = ? AND \"sequence_number\" < ?")) {
        del.setString(1, pid);
        del.setLong(2, tombstoneSeq);
        del.executeUpdate();
      } catch (Exception e) {
        LOG.warn("could not remove the events of deleted session {} from the journal: {}", id, e.getMessage());
      }
    }, system.dispatchers().lookup(DispatcherSelector.blocking()));
  }

  // ------------------------------------------------------------------ turns

  /** Sends a user message in the session and records the turn. */
  public CompletionStage<ChatResponse> chat(String id, String userText) {
    return chat(id, turn().user(userText).build());
  }

  /**
   * Runs one turn: the history plus {@code turn}'s messages go to the model; when the answer is complete the
   * turn is recorded and the answer returned (with its truncation report when history was shortened).
   */
  public CompletionStage<ChatResponse> chat(String id, ChatRequest turn) {
    List<Message> inputs;
    try {
      checkId(id);
      inputs = inputs(turn);
    } catch (LlmException e) {
      return CompletableFuture.failedFuture(e);
    }
    long begunAt = clock.millis();
    return begin(id, begunAt).thenCompose(started -> {
      ChatRequest request;
      try {
        request = request(started.session().toSession(), turn);
      } catch (LlmException e) {
        abort(id, started.turnId());
        return CompletableFuture.failedFuture(e);
      }
      return runtime.chat(request).handle((resp, err) -> {
        if (err != null) {
          abort(id, started.turnId());
          throw unwrap(err);
        }
        return record(id, started.turnId(), inputs, begunAt, request.model(), resp).thenApply(s -> resp);
      }).thenCompose(Function.identity());
    });
  }

  /**
   * Runs one streamed turn. Completes once the session is reserved with the stream of the answer (journalled,
   * with sequence numbers, as {@code LlmClient.streamJournaled}) and the model it comes from; the turn is
   * recorded when the stream completes, before it signals completion. Run the source, or the session stays
   * reserved until {@code turn-timeout}.
   */
  public CompletionStage<SessionStream> streamJournaled(String id, ChatRequest turn) {
    List<Message> inputs;
    try {
      checkId(id);
      inputs = inputs(turn);
    } catch (LlmException e) {
      return CompletableFuture.failedFuture(e);
    }
    long begunAt = clock.millis();
    return begin(id, begunAt).thenApply(started -> {
      ChatRequest request;
      try {
        request = request(started.session().toSession(), turn);
      } catch (LlmException e) {
        abort(id, started.turnId());
        throw e;
      }
      ChatAccumulator acc = new ChatAccumulator();
      AtomicReference<ChatStream> handle = new AtomicReference<>();
      return new SessionStream(id, request.model(), runtime.streamJournaled(request)
          .mapMaterializedValue(h -> {
            handle.set(h);
            return h;
          })
          .map(j -> {
            if (j.chunk() != null) {
              acc.add(j.chunk());
            }
            return j;
          })
          .concatLazy(Source.lazyCompletionStageSource(() -> {
            ChatResponse r = acc.toResponse(request.model());
            ChatStream h = handle.get();
            if (h != null && h.cacheStatus().isPresent()) {
              r = r.withCacheStatus(h.cacheStatus().get());
            }
            if (r.usage() != null) {
              r = r.withCost(runtime.cost(request.model(), r.usage()).orElse(null));
            }
            return record(id, started.turnId(), inputs, begunAt, request.model(), r)
                .thenApply(s -> Source.<JournaledChunk>empty());
          }).mapMaterializedValue(m -> NotUsed.getInstance()))
          .watchTermination((mat, done) -> {
            // After a recorded turn this is a no-op (the turn is no longer the running one).
            done.whenComplete((d, e) -> abort(id, started.turnId()));
            return mat;
          }));
    });
  }

  /** {@link #streamJournaled} without sequence numbers. */
  public CompletionStage<Source<ChatChunk, ChatStream>> stream(String id, ChatRequest turn) {
    return streamJournaled(id, turn).thenApply(s -> s.chunks().map(JournaledChunk::chunk));
  }

  private static List<Message> inputs(ChatRequest turn) {
    if (turn.messages().isEmpty()) {
      throw LlmException.invalidRequest("a turn needs at least one new message (user, or tool results)", "messages");
    }
    for (int i = 0; i < turn.messages().size(); i++) {
      Message m = turn.messages().get(i);
      if (!(m instanceof Message.User || m instanceof Message.Tool)) {
        throw LlmException.invalidRequest("messages[" + i + "] is a " + m.role() + " message: a turn adds user or tool "
            + "messages, the history is the session's (set a system prompt when creating the session)",
            "messages[" + i + "].role");
      }
    }
    return turn.messages();
  }

  private ChatRequest request(Session session, ChatRequest turn) {
    String model = turn.model().isBlank() || turn.model().equals(SESSION_MODEL) ? session.model() : turn.model();
    runtime.checkModel(model);
    List<Message> messages = new ArrayList<>(session.history());
    messages.addAll(turn.messages());
    TruncationStrategy strategy = turn.truncation() != null ? turn.truncation() : session.contextStrategy();
    return turn.toBuilder().model(model).messages(messages).truncation(strategy).build();
  }

  /**
   * Reserves the session for a new turn (a random id). An ask that got no answer (in a cluster: the session's
   * shard was moving, say while the node hosting the shard coordinator left, or a rebalance after a node joined)
   * is sent again until sessions.retry-deadline: safe, since the turn that holds the session is granted it again,
   * and a BeginTurn that reaches the entity after its own deadline reserves nothing.
   */
  private CompletionStage<SessionEntity.TurnStarted> begin(String id, long now) {
    String turnId = java.util.UUID.randomUUID().toString();
    return retried(id, timeout -> {
      // The deadline is this node's wall clock, compared on the entity's node: cluster nodes keep clocks in sync.
      long notAfter = System.currentTimeMillis() + timeout.toMillis();
      return registry.<StatusReply<SessionEntity.TurnStarted>>ask(id,
          r -> new SessionEntity.BeginTurn(turnId, now, notAfter, r), timeout);
    });
  }

  private void abort(String id, String turnId) {
    registry.tell(id, new SessionEntity.AbortTurn(turnId));
  }

  /** Records the turn; sent again as {@link #begin} is (a turn already recorded is acknowledged, not recorded twice). */
  private CompletionStage<Session> record(String id, String turnId, List<Message> inputs, long begunAt, String model,
      ChatResponse resp) {
    List<StoredMessage> stored = new ArrayList<>(inputs.size());
    for (Message m : inputs) {
      stored.add(Stored.message(SessionMessage.of(m, Instant.ofEpochMilli(begunAt))));
    }
    boolean fromCache = resp.cacheStatus().map(c -> c.servedWithoutUpstreamCall()).orElse(false);
    Message.Assistant reply = new Message.Assistant(resp.text().isEmpty() && !resp.toolCalls().isEmpty() ? null
        : resp.text(), resp.toolCalls(), resp.reasoning());
    StoredMessage replyStored = Stored.message(new SessionMessage(reply, clock.instant(), model, resp.usage(),
        resp.cost().orElse(null), fromCache));
    return this.<Active>retried(id, timeout -> registry.<StatusReply<Active>>ask(id,
            r -> new SessionEntity.CompleteTurn(turnId, stored, replyStored, r), timeout))
        .thenApply(Active::toSession);
  }

  /**
   * {@code attempt} (an ask of an idempotent command, given its timeout) sent again when it gets no answer, until
   * sessions.retry-deadline; as {@link #ask} it fails with the entity's error, or INTERNAL when none answered.
   */
  private <T> CompletionStage<T> retried(String id,
      Function<java.time.Duration, CompletionStage<StatusReply<T>>> attempt) {
    return io.pekkollm.journal.Retries.untilDeadline(system, settings.askTimeout(), settings.retryDeadline(), attempt)
        .handle((reply, err) -> {
          if (err != null) {
            throw new LlmException(ErrorKind.INTERNAL, "session '" + id + "' did not answer within "
                + settings.askTimeout().toMillis() + " ms per attempt, retried for "
                + settings.retryDeadline().toMillis() + " ms (pekko-llm.sessions.retry-deadline)", err, true, null);
          }
          if (reply.isError()) {
            throw unwrap(reply.getError());
          }
          return reply.getValue();
        });
  }

  // ------------------------------------------------------------------ export and import

  /** The session as a JSON document ({@link SessionJson}); fails with NOT_FOUND when there is none. */
  public CompletionStage<String> export(String id) {
    return get(id).thenApply(s -> Json.write(SessionJson.write(s.orElseThrow(() -> new LlmException(
        ErrorKind.NOT_FOUND, "no session with id '" + id + "'", null, false, "session_id")))));
  }

  /**
   * Imports a session file ({@link SessionJson}) as one event: all or nothing. Keeps the file's id unless
   * {@code newId} (or the file has none). Fails with INVALID_REQUEST naming the defect of a malformed file, and
   * with CONFLICT when the id is taken; either way nothing changes.
   */
  public CompletionStage<Session> importJson(String json, boolean newId) {
    JsonNode root;
    try {
      root = Json.parse(json);
    } catch (java.io.IOException e) {
      return CompletableFuture.failedFuture(new LlmException(ErrorKind.INVALID_REQUEST,
          "invalid session file: not JSON: " + e.getMessage(), null, false, null));
    }
    return importJson(root, newId);
  }

  /** As {@link #importJson(String, boolean)}, from a parsed document. */
  public CompletionStage<Session> importJson(JsonNode root, boolean newId) {
    return importJson(root, newId, null);
  }

  /**
   * As {@link #importJson(JsonNode, boolean)}, the session owned by {@code owner} (a virtual key id, null: none;
   * a file's own owner is never taken, so a file cannot hand a session to another key).
   */
  public CompletionStage<Session> importJson(JsonNode root, boolean newId, String owner) {
    Session parsed;
    try {
      parsed = SessionJson.read(root, clock.instant());
    } catch (LlmException e) {
      return CompletableFuture.failedFuture(e);
    }
    String id = newId || parsed.id() == null ? SessionIds.newId() : parsed.id();
    SessionImported event = new SessionImported(id, parsed.name(), parsed.model(),
        parsed.contextStrategy() == null ? null : parsed.contextStrategy().wireName(), parsed.metadata(),
        parsed.messages().stream().map(Stored::message).toList(), Stored.usage(parsed.usage()),
        Stored.cost(parsed.cost()), parsed.createdAt().toEpochMilli(), clock.millis(), owner);
    return this.<Active>ask(id, r -> new SessionEntity.Import(event, r)).thenApply(Active::toSession).thenCompose(this::listed);
  }

  // ------------------------------------------------------------------ plumbing

  /** Stops the session actors (sessions stay in the journal). */
  public void stop() {
    registry.stop();
    index.stop();
  }

  private CompletionStage<Session> listed(Session s) {
    return this.<Done>askIndex(r -> new SessionIndex.Put(s.summary(), r)).thenApply(d -> s);
  }

  private static String checkId(String id) {
    if (!SessionIds.isValid(id)) {
      throw new LlmException(ErrorKind.INVALID_REQUEST, "session id '" + id + "' is not valid: use " + SessionIds.RULE
          + " (not \"import\")", null, false, "id");
    }
    return id;
  }

  private <T> CompletionStage<T> ask(String id, Function<ActorRef<StatusReply<T>>, SessionEntity.Command> command) {
    return registry.<StatusReply<T>>ask(id, command, settings.askTimeout())
        .handle((reply, err) -> {
          if (err != null) {
            throw new LlmException(ErrorKind.INTERNAL, "session '" + id + "' did not answer within "
                + settings.askTimeout().toMillis() + " ms", err, true, null);
          }
          if (reply.isError()) {
            throw unwrap(reply.getError());
          }
          return reply.getValue();
        });
  }

  /**
   * Asks the index, retrying twice: a write that conflicted with another writer restarts the index (losing the
   * command), and the retry finds it caught up. Writes are idempotent.
   */
  private <T> CompletionStage<T> askIndex(Function<ActorRef<StatusReply<T>>, SessionIndex.Command> command) {
    return askIndex(command, 2);
  }

  private <T> CompletionStage<T> askIndex(Function<ActorRef<StatusReply<T>>, SessionIndex.Command> command,
      int retries) {
    java.time.Duration timeout = settings.askTimeout().compareTo(INDEX_ATTEMPT) < 0 ? settings.askTimeout()
        : INDEX_ATTEMPT;
    return index.<StatusReply<T>>ask("all", command, timeout)
        .handle((reply, err) -> {
          if (err != null) {
            if (retries > 0) {
              return askIndex(command, retries - 1);
            }
            return CompletableFuture.<T>failedFuture(new LlmException(ErrorKind.INTERNAL,
                "the session index did not answer: " + err.getMessage(), err, true, null));
          }
          if (reply.isError()) {
            return CompletableFuture.<T>failedFuture(unwrap(reply.getError()));
          }
          return CompletableFuture.completedFuture(reply.getValue());
        })
        .thenCompose(Function.identity());
  }

  private static LlmException unwrap(Throwable err) {
    Throwable t = io.pekkollm.util.Futures.cause(err);
    return t instanceof LlmException le ? le
        : new LlmException(ErrorKind.INTERNAL, String.valueOf(t.getMessage()), t, false, null);
  }
}
