package io.pekkollm.keys;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.pekkollm.api.LlmClient;
import io.pekkollm.util.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
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
 * The key check a virtual key adds to every gateway request, on H2 in a temporary directory: {@code authenticate}
 * (secret to key, answered from the in-memory cache: id from the secret, salted SHA-256, constant-time compare,
 * revocation and expiry), {@code authenticateAndAdmit} for a key with an rpm limit (plus the model list and the
 * per-node rate counters) settled at once, and {@code authenticateAndAdmitWithBudget} for a key with a
 * max_budget (its reservation is an ask of the key's spend entity: an actor round trip). Average time per call.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Benchmark)
public class KeyCheckBench {
  private Path dir;
  private LlmClient client;
  private KeyService keys;
  private String plain;
  private String limited;
  private String budgeted;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    dir = Files.createTempDirectory("pekko-llm-jmh-keys");
    Config config = ConfigFactory.parseString("pekko.loglevel = WARNING\npekko.stdout-loglevel = WARNING\n"
            + "pekko-llm.recovery.data-dir = \"" + dir.toString().replace("\\", "/") + "\"\n"
            // The bench measures the cached check; the TTL only bounds how late another node's change is seen.
            + "pekko-llm.keys.cache-ttl = 1h\n"
            + "pekko-llm.providers.openai { kind = openai, base-url = \"http://127.0.0.1:9/v1\", api-key = x }\n")
        .withFallback(ConfigFactory.load()).resolve();
    client = LlmClient.builder().config(config).build();
    keys = client.keys();
    plain = keys.create(Json.parse("{}"), "bench").toCompletableFuture().get(30, TimeUnit.SECONDS).secret();
    limited = keys.create(Json.parse("{\"models\":[\"openai/gpt-4o-mini\"],\"rpm_limit\":2000000000}"), "bench")
        .toCompletableFuture().get(30, TimeUnit.SECONDS).secret();
    budgeted = keys.create(Json.parse("{\"max_budget\":1000000}"), "bench")
        .toCompletableFuture().get(30, TimeUnit.SECONDS).secret();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    client.close();
  }

  @Benchmark
  public VirtualKey authenticate() {
    return keys.authenticate(plain).toCompletableFuture().join();
  }

  @Benchmark
  public VirtualKey authenticateAndAdmit() {
    VirtualKey k = keys.authenticate(limited).toCompletableFuture().join();
    KeyService.Ticket t = keys.admit(k, "openai/gpt-4o-mini").toCompletableFuture().join();
    t.settle("openai/gpt-4o-mini", null, 0);
    return k;
  }

  @Benchmark
  public VirtualKey authenticateAndAdmitWithBudget() {
    VirtualKey k = keys.authenticate(budgeted).toCompletableFuture().join();
    KeyService.Ticket t = keys.admit(k, "openai/gpt-4o-mini").toCompletableFuture().join();
    t.settle("openai/gpt-4o-mini", null, 0);
    return k;
  }
}
