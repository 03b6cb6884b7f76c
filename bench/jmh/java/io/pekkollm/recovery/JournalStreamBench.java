package io.pekkollm.recovery;

import io.pekkollm.journal.JournalSettings;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * A whole journalled stream through {@link RecoveryService#journal} on H2 in a temporary directory: Started, the
 * chunk batches, Completed, with the 100 chunks all ready at once (so they go in large batches), or one at a time
 * (each chunk its own write, as when a model streams slower than the journal writes).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
public class JournalStreamBench {
  private Path dir;
  private ActorSystem<Void> system;
  private RecoveryService service;
  private List<ChatChunk> chunks;
  private ChatRequest request;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    dir = Files.createTempDirectory("pekko-llm-jmh-journal");
    Config config = ConfigFactory.parseString("pekko.loglevel = WARNING\npekko.stdout-loglevel = WARNING\n"
            + "pekko-llm.recovery.data-dir = \"" + dir.toString().replace("\\", "/") + "\"\n"
            + "pekko-llm.recovery.retention.sweep-interval = 0s")
        .withFallback(ConfigFactory.load()).resolve();
    system = ActorSystem.create(Behaviors.empty(), "jmh-journal-stream", config);
    service = RecoveryService.start(system, JournalSettings.create(config));
    chunks = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      chunks.add(ChatChunk.text(" token" + i));
    }
    request = ChatRequest.builder("openai/gpt-4o-mini").user("Write a short story.").build();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    try (var s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  @Benchmark
  public long stream100Ready() throws Exception {
    return service.journal(service.newRecoveryId(), request, "openai", Source.from(chunks))
        .runWith(Sink.fold(0L, (n, c) -> n + 1), system)
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Benchmark
  public long stream100OneByOne() throws Exception {
    // async + buffer 1: each chunk is handed over separately, so the journal's batching sees one at a time.
    return service.journal(service.newRecoveryId(), request, "openai",
            Source.from(chunks).async().buffer(1, org.apache.pekko.stream.OverflowStrategy.backpressure()))
        .runWith(Sink.fold(0L, (n, c) -> n + 1), system)
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
