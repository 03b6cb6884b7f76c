package io.pekkollm.recovery;

import io.pekkollm.journal.JournalSettings;
import io.pekkollm.journal.JournalSchema;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.pekkollm.model.ChatChunk;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import io.pekkollm.journal.Entities;
import io.pekkollm.journal.EntityHost;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.pattern.StatusReply;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The recovery journal on H2 in a temporary directory (the gateway's default): one {@code Append} of a batch of
 * chunks to a stream entity, persisted and acknowledged (what {@code RecoveryService.journalChunks} waits for before
 * it releases a batch). One caller at a time, so ops/s is the inverse of the write latency; chunks/s = batch x
 * ops/s.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
public class JournalAppendBench {
  @Param({"1", "16", "256"})
  public int batch;

  private Path dir;
  private Entities<StreamEntity.Command> streams;
  private ActorSystem<Void> serviceSystem;
  private RecoveryService service;
  private List<StreamEvent.StoredChunk> chunks;
  private String streamId;
  private long appends;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    dir = Files.createTempDirectory("pekko-llm-jmh-journal");
    Config config = ConfigFactory.parseString("pekko.loglevel = WARNING\npekko.stdout-loglevel = WARNING\n"
            + "pekko-llm.recovery.data-dir = \"" + dir.toString().replace("\\", "/") + "\"\n"
            + "pekko-llm.recovery.retention.sweep-interval = 0s")
        .withFallback(ConfigFactory.load()).resolve();
    JournalSettings settings = JournalSettings.create(config);
    JournalSchema.ensure(settings);
    Config plugin = settings.pluginConfig(config);
    serviceSystem = ActorSystem.create(Behaviors.empty(), "jmh-journal-service", config);
    streams = EntityHost.local(serviceSystem).entities("jmh-stream", StreamEntity.Command.class, (id, passivation) ->
        StreamEntity.create(id, JournalSettings.PLUGIN_ID, plugin, Duration.ofMinutes(2), Duration.ofMinutes(2),
            passivation, inc -> true));
    service = RecoveryService.start(serviceSystem, settings);
    chunks = new ArrayList<>();
    for (int i = 0; i < batch; i++) {
      chunks.add(Chunks.store(0, ChatChunk.text(" token" + i)));
    }
    newStream();
  }

  private String writer;
  private long write;

  private void newStream() throws Exception {
    streamId = service.newRecoveryId();
    StreamEntity.Begin begin = new StreamEntity.Begin("openai", "openai/gpt-4o-mini", "{}", "jmh",
        System.currentTimeMillis(), null, null);
    // One writer per stream, its writes numbered 1, 2, 3, ... (what lets a repeated write be recognised).
    writer = "jmh-" + streamId;
    write = 0;
    long first = ++write;
    streams.<StatusReply<StreamEntity.Seqs>>ask(streamId, r -> new StreamEntity.Write(begin, List.of(), null, writer,
            first, r),
            Duration.ofSeconds(10))
        .toCompletableFuture().get(10, TimeUnit.SECONDS).getValue();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    serviceSystem.terminate();
    serviceSystem.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    try (var s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** One persisted, acknowledged batch of {@code batch} chunks. A fresh stream every 500 batches bounds its state. */
  @Benchmark
  public StreamEntity.Seqs appendBatch() throws Exception {
    if (++appends % 500 == 0) {
      newStream();
    }
    long n = ++write;
    return streams.<StatusReply<StreamEntity.Seqs>>ask(streamId, r -> new StreamEntity.Write(null, chunks, null, writer,
            n, r),
            Duration.ofSeconds(10))
        .toCompletableFuture().get(10, TimeUnit.SECONDS).getValue();
  }
}
