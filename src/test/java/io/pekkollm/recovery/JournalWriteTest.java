package io.pekkollm.recovery;

import io.pekkollm.journal.JournalSettings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.LlmException;
import io.pekkollm.testkit.TestConfig;
import java.nio.file.Files;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * How a journalled stream writes: the upstream runs before anything is persisted, the Started event travels with
 * the first chunks and the end with the last ones, a stream that ends before its first chunk is still recorded,
 * and the number of running streams is bounded.
 */
class JournalWriteTest {
  private static final ChatRequest REQUEST = ChatRequest.builder("x/y").user("hi").build();
  private Config config;
  private ActorSystem<Void> system;
  private RecoveryService service;

  private void start(String extra) throws Exception {
    config = TestConfig.of("pekko-llm.recovery.data-dir = \"" + Files.createTempDirectory("journal-write") + "\"\n"
        + "pekko-llm.recovery.retention.sweep-interval = 0\n" + extra);
    system = ActorSystem.create(Behaviors.empty(), "journal-write", config);
    service = RecoveryService.start(system, JournalSettings.create(config));
  }

  /** The journal as a new process sees it: a fresh actor system on the same database. */
  private Optional<StreamSnapshot> fromDisk(String id) throws Exception {
    ActorSystem<Void> other = ActorSystem.create(Behaviors.empty(), "journal-write-reader", config);
    try {
      return RecoveryService.start(other, JournalSettings.create(config)).snapshot(id)
          .toCompletableFuture().get(30, TimeUnit.SECONDS);
    } finally {
      other.terminate();
      other.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  private StreamSnapshot awaitStatus(String id, Predicate<StreamSnapshot> done) throws Exception {
    for (int i = 0; i < 3000; i++) {
      Optional<StreamSnapshot> s = service.snapshot(id).toCompletableFuture().get(30, TimeUnit.SECONDS);
      if (s.isPresent() && done.test(s.get())) {
        return s.get();
      }
      Thread.sleep(10);
    }
    throw new AssertionError("stream " + id + " never reached the expected state: "
        + service.snapshot(id).toCompletableFuture().get());
  }

  @AfterEach
  void stop() throws Exception {
    if (system != null) {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void aStreamReadyAtOnceTakesTwoWritesWithStartedAndCompletedInThem() throws Exception {
    start("");
    String id = service.newRecoveryId();
    List<ChatChunk> chunks = List.of(ChatChunk.text("Hello"), ChatChunk.text(", world"),
        new ChatChunk(null, null, null, null, List.of(), FinishReason.of("stop"), null));
    long before = service.writes();
    List<JournaledChunk> got = service.journal(id, REQUEST, "x", Source.from(chunks))
        .runWith(Sink.seq(), system).toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertEquals(List.of(1L, 2L, 3L), got.stream().map(JournaledChunk::seq).toList());
    // The first chunk goes at once, with Started (time to first token); the others gather meanwhile and go with
    // Completed. Separate Started and Completed writes would make four.
    assertTrue(service.writes() - before <= 2, "writes: " + (service.writes() - before));
    StreamSnapshot s = fromDisk(id).orElseThrow();
    assertEquals("completed", s.status());
    assertEquals("Hello, world", s.text());
    assertEquals("stop", s.finishReason());
    assertEquals(3, s.lastSeq());
  }

  @Test
  void theUpstreamRunsBeforeTheStreamIsPersistedAndIsAlreadyVisibleAsRunning() throws Exception {
    start("");
    String id = service.newRecoveryId();
    CompletableFuture<Void> upstreamStarted = new CompletableFuture<>();
    CompletableFuture<Optional<ChatChunk>> release = new CompletableFuture<>();
    Source<ChatChunk, NotUsed> upstream = Source.lazySource(() -> {
      upstreamStarted.complete(null);
      return Source.completionStage(release).mapConcat(o -> o.map(List::of).orElse(List.of()));
    }).mapMaterializedValue(m -> NotUsed.getInstance());
    var done = service.journal(id, REQUEST, "x", upstream).runWith(Sink.seq(), system);
    upstreamStarted.get(30, TimeUnit.SECONDS);
    assertEquals(0, service.writes(), "the upstream request waits for no journal write");
    StreamSnapshot running = awaitStatus(id, s -> true);
    assertEquals("streaming", running.status());
    assertEquals("x/y", running.model());
    ExecutionException refused = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> service.resume(id, ResumeStrategy.EXACT, null, null, null).toCompletableFuture().get(30, TimeUnit.SECONDS));
    assertInstanceOf(ResumeConflictException.class, refused.getCause(), "a running stream is not resumed");
    release.complete(Optional.of(ChatChunk.text("late")));
    assertEquals(1, done.toCompletableFuture().get(30, TimeUnit.SECONDS).size());
    assertEquals("late", fromDisk(id).orElseThrow().text());
  }

  @Test
  void aStreamThatFailsBeforeItsFirstChunkIsRecordedAsInterrupted() throws Exception {
    start("");
    String id = service.newRecoveryId();
    ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> service.journal(id, REQUEST, "x", Source.failed(new LlmException(ErrorKind.RATE_LIMITED, "slow down")))
            .runWith(Sink.seq(), system).toCompletableFuture().get(30, TimeUnit.SECONDS));
    assertEquals(ErrorKind.RATE_LIMITED, ((LlmException) e.getCause()).kind());
    assertEquals(1, service.writes(), "Started and Interrupted in one write");
    StreamSnapshot s = fromDisk(id).orElseThrow();
    assertEquals("interrupted", s.status());
    assertEquals("RATE_LIMITED", s.errorKind());
    assertEquals("slow down", s.cause());
    assertTrue(s.recoverable());
    assertEquals("", s.text());
    assertEquals("x", s.provider());
  }

  @Test
  void aFailureAfterChunksIsWrittenWithThemAndTheChunksStillArrive() throws Exception {
    start("");
    String id = service.newRecoveryId();
    Source<ChatChunk, NotUsed> upstream = Source.from(List.of(ChatChunk.text("a"), ChatChunk.text("b")))
        .concatLazy(Source.lazySource(() -> Source.failed(new LlmException(ErrorKind.NETWORK, "reset"))));
    List<Object> got = service.journal(id, REQUEST, "x", upstream).<Object>map(j -> j.chunk().textDelta())
        .recover(new org.apache.pekko.japi.pf.PFBuilder<Throwable, Object>()
            .match(LlmException.class, LlmException::kind).build())
        .runWith(Sink.seq(), system).toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertEquals(List.of("a", "b", ErrorKind.NETWORK), got);
    StreamSnapshot s = fromDisk(id).orElseThrow();
    assertEquals("interrupted", s.status());
    assertEquals("ab", s.text());
    assertEquals("NETWORK", s.errorKind());
  }

  @Test
  void aCallerThatCancelsBeforeTheFirstChunkLeavesAResumableRecord() throws Exception {
    start("");
    String id = service.newRecoveryId();
    CompletableFuture<Void> upstreamStarted = new CompletableFuture<>();
    Source<ChatChunk, NotUsed> upstream = Source.lazySource(() -> {
      upstreamStarted.complete(null);
      return Source.<ChatChunk>never();
    }).mapMaterializedValue(m -> NotUsed.getInstance());
    UniqueKillSwitch kill = service.journal(id, REQUEST, "x", upstream)
        .viaMat(KillSwitches.single(), Keep.right()).to(Sink.ignore()).run(system);
    upstreamStarted.get(30, TimeUnit.SECONDS);
    kill.shutdown();
    awaitStatus(id, s -> s.status().equals("interrupted"));
    StreamSnapshot s = fromDisk(id).orElseThrow();
    assertEquals("interrupted", s.status());
    assertTrue(s.cancelled());
    assertTrue(s.recoverable());
  }

  @Test
  void streamsBeyondMaxStreamsAreRefusedAsOverloadedUntilOneEnds() throws Exception {
    start("pekko-llm.recovery.max-streams = 1");
    UniqueKillSwitch first = service.journal(service.newRecoveryId(), REQUEST, "x",
            Source.single(ChatChunk.text("a")).concat(Source.never()))
        .viaMat(KillSwitches.single(), Keep.right()).to(Sink.ignore()).run(system);
    ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> service.journal(service.newRecoveryId(), REQUEST, "x", Source.single(ChatChunk.text("b")))
            .runWith(Sink.seq(), system).toCompletableFuture().get(30, TimeUnit.SECONDS));
    LlmException le = (LlmException) e.getCause();
    assertEquals(ErrorKind.OVERLOADED, le.kind());
    assertTrue(le.isRetryable());
    assertTrue(le.getMessage().contains("max-streams"), le.getMessage());
    first.shutdown();
    List<JournaledChunk> later = null;
    for (int i = 0; i < 500 && later == null; i++) {
      try {
        later = service.journal(service.newRecoveryId(), REQUEST, "x", Source.single(ChatChunk.text("c")))
            .runWith(Sink.seq(), system).toCompletableFuture().get(30, TimeUnit.SECONDS);
      } catch (ExecutionException retry) {
        assertEquals(ErrorKind.OVERLOADED, ((LlmException) retry.getCause()).kind());
        Thread.sleep(10);
      }
    }
    assertFalse(later == null || later.isEmpty(), "a stream is admitted again once the first ended");
  }
}
