package io.pekkollm.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ModelInfo;
import io.pekkollm.provider.ProviderSettings;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Model discovery: TTL on manual time, shared listings, catalog and stale fallbacks, local vs cloud TTLs. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ModelDiscoveryTest {
  private final ActorTestKit kit = ActorTestKit.create(ManualTime.config()
      .withFallback(ConfigFactory.parseString("pekko.loglevel = WARNING")));
  private final ManualTime time = ManualTime.get(kit.system());
  private static final DiscoverySettings SETTINGS =
      new DiscoverySettings(Duration.ofHours(1), Duration.ofSeconds(30), Duration.ofSeconds(20), Duration.ofSeconds(5));

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
  }

  /** A provider API the test answers by hand: each listing is a future the test completes. */
  private static final class FakeApi {
    final AtomicInteger calls = new AtomicInteger();
    final AtomicReference<CompletableFuture<List<ModelInfo>>> next = new AtomicReference<>();

    CompletionStage<List<ModelInfo>> list(String provider) {
      CompletableFuture<List<ModelInfo>> f = new CompletableFuture<>();
      // Published before the count, so a test that sees the count completes this listing, not the last one.
      next.set(f);
      calls.incrementAndGet();
      return f;
    }
  }

  private static List<ModelInfo> models(String... ids) {
    return java.util.Arrays.stream(ids).map(id -> new ModelInfo("p/" + id, "p", 0, "p")).toList();
  }

  private ModelDiscovery start(FakeApi api, Duration ttl) {
    return ModelDiscovery.start(kit.system(), SETTINGS, api::list, p -> models("from-catalog"), p -> ttl,
        "discovery-" + System.nanoTime());
  }

  private static ProviderModels await(CompletionStage<ProviderModels> s) throws Exception {
    return s.toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  void listsOncePerTtlAndConcurrentRequestsShareTheListing() throws Exception {
    FakeApi api = new FakeApi();
    ModelDiscovery d = start(api, Duration.ofSeconds(30));
    CompletionStage<ProviderModels> a = d.models("p");
    CompletionStage<ProviderModels> b = d.models("p");
    awaitCalls(api, 1);
    api.next.get().complete(models("one", "two"));
    assertEquals(models("one", "two"), await(a).models());
    assertEquals(ProviderModels.Source.API, await(b).source());
    assertEquals(1, api.calls.get(), "two concurrent requests, one listing");

    time.timePasses(Duration.ofSeconds(29));
    assertEquals(models("one", "two"), await(d.models("p")).models());
    assertEquals(1, api.calls.get(), "within the TTL the kept list is served");

    time.timePasses(Duration.ofSeconds(2));
    CompletionStage<ProviderModels> c = d.models("p");
    awaitCalls(api, 2);
    api.next.get().complete(models("three"));
    assertEquals(models("three"), await(c).models(), "after the TTL the API is asked again");
  }

  @Test
  void aFailingApiFallsBackToTheCatalogThenToItsLastAnswer() throws Exception {
    FakeApi api = new FakeApi();
    ModelDiscovery d = start(api, Duration.ofSeconds(30));
    CompletionStage<ProviderModels> first = d.models("p");
    awaitCalls(api, 1);
    api.next.get().completeExceptionally(new RuntimeException("connection refused"));
    ProviderModels fallback = await(first);
    assertEquals(ProviderModels.Source.CATALOG, fallback.source());
    assertEquals(models("from-catalog"), fallback.models());
    assertEquals("connection refused", fallback.error());

    await(d.models("p"));
    assertEquals(1, api.calls.get(), "a failure is not retried on every request");
    time.timePasses(Duration.ofSeconds(21));
    CompletionStage<ProviderModels> retried = d.models("p");
    awaitCalls(api, 2);
    api.next.get().complete(models("live"));
    assertEquals(ProviderModels.Source.API, await(retried).source());

    d.invalidate("p");
    CompletionStage<ProviderModels> afterFailure = d.models("p");
    awaitCalls(api, 3);
    api.next.get().completeExceptionally(new RuntimeException("503"));
    ProviderModels stale = await(afterFailure);
    assertEquals(ProviderModels.Source.STALE, stale.source());
    assertEquals(models("live"), stale.models(), "the last API answer beats the catalog");
  }

  private static void awaitCalls(FakeApi api, int n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (api.calls.get() < n) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the API was called " + api.calls.get() + " times, expected " + n);
      }
      Thread.onSpinWait();
      Thread.yield();
    }
  }

  @Test
  void localServersGetTheShortTtlAndCloudProvidersTheLongOne() {
    Map<String, String> urls = Map.of(
        "http://127.0.0.1:8000/v1", "local", "http://localhost:11434", "local", "http://192.168.1.20:8000/v1", "local",
        "http://[::1]:8000/v1", "local", "http://gpu-box.local:8000/v1", "local",
        "https://api.openai.com/v1", "cloud", "https://api.groq.com/openai/v1", "cloud", "http://8.8.8.8/v1", "cloud");
    urls.forEach((url, where) -> {
      ProviderSettings ps = provider("openai", url, "");
      assertEquals(where.equals("local"), DiscoverySettings.isLocal(ps), url);
      assertEquals(where.equals("local") ? Duration.ofSeconds(30) : Duration.ofHours(1), SETTINGS.ttlFor(ps), url);
    });
    assertTrue(DiscoverySettings.isLocal(provider("ollama", "https://ollama.example.com", "")));
    assertEquals(Duration.ofMinutes(7), SETTINGS.ttlFor(provider("openai", "https://api.openai.com/v1", "7m")),
        "a provider's own models-ttl wins");
  }

  private static ProviderSettings provider(String kind, String url, String ttl) {
    var cfg = ConfigFactory.parseMap(Map.of("kind", kind, "base-url", url, "api-key", "k"))
        .withFallback(ttl.isEmpty() ? ConfigFactory.empty() : ConfigFactory.parseMap(Map.of("models-ttl", ttl)))
        .withFallback(ConfigFactory.defaultReference().getConfig("pekko-llm.provider-defaults"));
    return ProviderSettings.create("p", cfg);
  }

  @Test
  void theClientListsALocalUpstreamOncePerTtlAndFallsBackToTheCatalogWhenItFails() throws Exception {
    try (Upstream upstream = new Upstream();
        LlmClient client = LlmClient.create(TestConfig.openAiCompatible("openai", upstream,
            "pekko-llm.providers.ollama.enabled = off"))) {
      upstream.enqueue(Reply.json(500, "{\"error\":{\"message\":\"down\",\"type\":\"server_error\"}}"));
      List<ModelInfo> failed = client.discoverModels().toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertTrue(failed.stream().anyMatch(m -> m.id().equals("openai/gpt-4o-mini")), "catalog models stand in");
      assertTrue(failed.stream().anyMatch(m -> m.id().equals("mock/echo")));
      ProviderModels openai = client.modelDiscovery().models("openai").toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertEquals(ProviderModels.Source.CATALOG, openai.source());
      assertEquals(1, upstream.requestCount());

      client.modelDiscovery().invalidate("openai");
      upstream.enqueue(Reply.fixtureJson(200, "openai/models-list.json"));
      List<ModelInfo> listed = client.discoverModels().toCompletableFuture().get(10, TimeUnit.SECONDS);
      List<ModelInfo> again = client.discoverModels().toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertEquals(listed, again);
      assertEquals(2, upstream.requestCount(), "the second request is served from the kept list");
      assertEquals("/v1/models", upstream.requests().get(1).path());
      assertEquals(List.of("openai/gpt-4o", "openai/gpt-4o-mini"), listed.stream().map(ModelInfo::id)
          .filter(id -> id.startsWith("openai/")).toList(), "the API's list replaces the catalog's");
      assertEquals(1721172741L, listed.stream().filter(m -> m.id().equals("openai/gpt-4o-mini")).findFirst()
          .orElseThrow().created());
    }
  }
}
