package io.pekkollm.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.typesafe.config.Config;
import io.pekkollm.api.LlmClient;
import io.pekkollm.testkit.FakeProvider;
import io.pekkollm.testkit.TestConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A node follows the runtime-provider entity: a provider added, changed or removed in the journal by someone else
 * (another gateway node of a cluster, which shares the entity) starts, changes and stops here within the sync
 * interval.
 */
class RuntimeProvidersSyncTest {

  @Test
  void providersChangedThroughAnotherNodeApplyHere() throws Exception {
    Path dir = Files.createTempDirectory("pekko-llm-sync-test");
    Config config = TestConfig.of("pekko-llm.recovery.data-dir = \"" + dir.toString().replace("\\", "/") + "\"\n"
        + "pekko-llm.admin.sync-interval = 100ms");
    try (FakeProvider a = new FakeProvider(FakeProvider.Format.OLLAMA, null, "a");
        FakeProvider b = new FakeProvider(FakeProvider.Format.OLLAMA, null, "b");
        LlmClient client = LlmClient.create(config)) {
      RuntimeProviders rp = RuntimeProviders.start(client, AdminSettings.create(config));
      rp.restored().toCompletableFuture().get(10, TimeUnit.SECONDS);
      long now = System.currentTimeMillis();
      StoredProvider p1 = new StoredProvider("elsewhere", "ollama", Map.of("base_url", a.baseUrl()), Map.of(),
          List.of(), 1, now, now);
      ProviderDirectory.Reply created = rp.directory().<ProviderDirectory.Reply>ask("runtime-providers",
          r -> new ProviderDirectory.Create(p1, r), Duration.ofSeconds(5)).toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertNull(created.error());
      await(() -> client.providerSettings("elsewhere") != null);
      assertEquals(a.baseUrl(), client.providerSettings("elsewhere").baseUrl());
      StoredProvider p2 = new StoredProvider("elsewhere", "ollama", Map.of("base_url", b.baseUrl()), Map.of(),
          List.of(), 2, now, now);
      rp.directory().<ProviderDirectory.Reply>ask("runtime-providers", r -> new ProviderDirectory.Update(p2, 1, r),
          Duration.ofSeconds(5)).toCompletableFuture().get(10, TimeUnit.SECONDS);
      await(() -> b.baseUrl().equals(client.providerSettings("elsewhere").baseUrl()));
      rp.directory().<ProviderDirectory.Reply>ask("runtime-providers",
          r -> new ProviderDirectory.Delete("elsewhere", now, r), Duration.ofSeconds(5))
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
      await(() -> client.providerSettings("elsewhere") == null);
      assertNotNull(client.providerSettings("mock"));
    } finally {
      try (Stream<Path> s = Files.walk(dir)) {
        for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not reached within 10 s");
      }
      Thread.sleep(20);
    }
  }
}
