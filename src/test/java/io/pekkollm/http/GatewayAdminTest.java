package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import io.pekkollm.api.LlmClient;
import io.pekkollm.testkit.FakeProvider;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.util.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The admin API over real HTTP: provider templates, runtime providers added, changed and removed while calls run,
 * against fake provider servers on loopback speaking OpenAI's and Ollama's wire formats; persistence across a
 * restart on an H2 journal in a temp dir; secrets never in an answer, the journal's files or a log line
 * (SecretLogGuard checks the logs: the keys here carry its {@code sk-test-key-} prefix or {@code TESTSECRET}).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GatewayAdminTest {
  static final String SECRETS_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
  static final String MASTER = "master-key-for-admin";
  static final String GROQ_KEY = "gsk_TESTSECRET0123456789abc";
  private final List<AutoCloseable> closeLater = new ArrayList<>();
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(10)).build();

  /** A running gateway on its own journal directory. */
  final class Gateway implements AutoCloseable {
    final LlmClient client;
    final ServerBinding binding;
    final String auth;

    Gateway(Path dataDir, String extra) {
      Config config = TestConfig.of("pekko-llm.gateway.port = 0\npekko-llm.gateway.access-log = off\n"
          + "pekko-llm.recovery.data-dir = \"" + dataDir.toString().replace("\\", "/") + "\"\n"
          + "pekko-llm.admin.drain-timeout = 20s\npekko-llm.admin.test-timeout = 30s\n" + extra);
      client = LlmClient.create(config);
      try {
        binding = GatewayServer.start(client, GatewaySettings.create(config)).toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
      } catch (Exception e) {
        client.close();
        throw new IllegalStateException(e);
      }
      auth = config.getString("pekko-llm.gateway.master-key").isEmpty()
          ? config.getString("pekko-llm.gateway.api-key") : config.getString("pekko-llm.gateway.master-key");
    }

    HttpResponse<String> call(String method, String path, String body, String key) throws Exception {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + binding.localAddress().getPort()
          + path)).timeout(Duration.ofSeconds(30)).method(method, body == null ? HttpRequest.BodyPublishers.noBody()
          : HttpRequest.BodyPublishers.ofString(body));
      if (body != null) {
        b.header("Content-Type", "application/json");
      }
      if (key != null && !key.isEmpty()) {
        b.header("Authorization", "Bearer " + key);
      }
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> call(String method, String path, String body) throws Exception {
      return call(method, path, body, auth);
    }

    JsonNode ok(String method, String path, String body) throws Exception {
      HttpResponse<String> r = call(method, path, body);
      assertEquals(200, r.statusCode(), method + " " + path + ": " + r.body());
      assertNoSecret(r.body());
      return Json.parse(r.body());
    }

    @Override
    public void close() {
      binding.unbind();
      client.close();
    }
  }

  private Path tempDir() throws Exception {
    Path dir = Files.createTempDirectory("pekko-llm-admin-test");
    closeLater.add(() -> deleteTree(dir));
    return dir;
  }

  private FakeProvider fake(FakeProvider.Format format, String key, String tag) {
    FakeProvider f = new FakeProvider(format, key, tag);
    closeLater.add(f);
    return f;
  }

  private Gateway gateway(String extra) throws Exception {
    Gateway g = new Gateway(tempDir(), "pekko-llm.admin.secrets-key = \"" + SECRETS_KEY + "\"\n"
        + "pekko-llm.gateway.master-key = \"" + MASTER + "\"\npekko-llm.gateway.api-key = \"sk-test-key-gateway\"\n"
        + extra);
    closeLater.add(g);
    return g;
  }

  @AfterAll
  void closeAll() throws Exception {
    for (int i = closeLater.size() - 1; i >= 0; i--) {
      closeLater.get(i).close();
    }
  }

  static void assertNoSecret(String text) {
    assertFalse(text.contains("TESTSECRET"), "a secret leaked: " + text);
    assertFalse(text.contains(SECRETS_KEY), "the secrets key leaked: " + text);
  }

  static String groq(String name, FakeProvider upstream, String key) {
    return "{\"name\":\"" + name + "\",\"template\":\"groq\",\"config\":{\"api_key\":\"" + key
        + "\",\"base_url\":\"" + upstream.baseUrl() + "\"},\"models\":[\"model-a\"]}";
  }

  @Test
  void templatesNameEveryProviderWithTheirSchemaAndModelFetching() throws Exception {
    Gateway g = gateway("");
    JsonNode data = g.ok("GET", "/v1/admin/provider-templates", null).get("data");
    Set<String> ids = new TreeSet<>();
    for (JsonNode t : data) {
      ids.add(t.get("id").asText());
      for (String f : List.of("id", "name", "description", "category", "difficulty", "docs_url", "config_schema",
          "model_fetching")) {
        assertTrue(t.hasNonNull(f), t.get("id") + " has " + f);
      }
      assertTrue(Set.of("popular_cloud", "enterprise", "local", "custom").contains(t.get("category").asText()));
      assertTrue(Set.of("easy", "medium", "hard").contains(t.get("difficulty").asText()));
      int ttl = t.get("model_fetching").get("ttl_seconds").asInt();
      assertEquals(t.get("category").asText().equals("popular_cloud") || t.get("category").asText().equals("enterprise")
          ? 3600 : 300, ttl, t.get("id") + " ttl");
      assertTrue(t.get("model_fetching").get("fallback_models").isArray());
      for (JsonNode f : t.get("config_schema")) {
        for (String k : List.of("name", "type", "label", "required", "default", "help", "pattern", "options")) {
          assertTrue(f.has(k), t.get("id") + "." + f.get("name") + " has " + k);
        }
        assertTrue(Set.of("text", "password", "url", "select", "number").contains(f.get("type").asText()));
      }
    }
    assertEquals(new TreeSet<>(List.of("openai", "anthropic", "gemini", "groq", "together", "fireworks", "deepseek",
        "xai", "openrouter", "mistral", "perplexity", "llama", "cohere", "bedrock", "ollama", "lmstudio", "vllm",
        "custom")), ids);
  }

  @Test
  void everyTemplatesRequiredFieldsAndPatternsAreCheckedNamingTheField() throws Exception {
    Gateway g = gateway("");
    JsonNode data = g.ok("GET", "/v1/admin/provider-templates", null).get("data");
    int checked = 0;
    for (JsonNode t : data) {
      String id = t.get("id").asText();
      for (JsonNode f : t.get("config_schema")) {
        String field = f.get("name").asText();
        if (f.get("required").asBoolean() && f.get("default").isNull()) {
          HttpResponse<String> r = g.call("POST", "/v1/admin/providers", "{\"name\":\"x-" + id + "\",\"template\":\""
              + id + "\",\"config\":{}}");
          assertEquals(400, r.statusCode(), id + ": " + r.body());
          assertTrue(Json.parse(r.body()).at("/error/param").asText().startsWith("config."), r.body());
          checked++;
        }
        if (!f.get("pattern").isNull() || f.get("type").asText().equals("select")
            || f.get("type").asText().equals("url") || f.get("type").asText().equals("number")) {
          HttpResponse<String> r = g.call("POST", "/v1/admin/provider-templates/" + id + "/models",
              "{\"config\":{\"" + field + "\":\"not a valid value!\"}}");
          assertEquals(400, r.statusCode(), id + "." + field + ": " + r.body());
          assertEquals("config." + field, Json.parse(r.body()).at("/error/param").asText(), r.body());
          checked++;
        }
      }
      HttpResponse<String> unknown = g.call("POST", "/v1/admin/provider-templates/" + id + "/models",
          "{\"config\":{\"nope\":\"1\"}}");
      assertEquals(400, unknown.statusCode());
      assertEquals("config.nope", Json.parse(unknown.body()).at("/error/param").asText());
    }
    assertTrue(checked > 40, "checked " + checked);
  }

  @Test
  void badInputIsA400NamingTheFieldAndTheGatewayKeepsServing() throws Exception {
    Gateway g = gateway("");
    FakeProvider up = fake(FakeProvider.Format.OPENAI, GROQ_KEY, "groq");
    record Case(String body, String param) {}
    for (Case c : List.of(new Case("[1,2]", null), new Case("{\"name\":\"Bad/Name\",\"template\":\"groq\"}", "name"),
        new Case("{\"name\":\"ok\",\"template\":\"nosuch\"}", "template"),
        new Case("{\"name\":\"ok\",\"template\":\"groq\",\"config\":[1]}", "config"),
        new Case("{\"name\":\"ok\",\"template\":\"groq\",\"config\":{\"api_key\":{\"a\":1}}}", "config.api_key"),
        new Case("{\"name\":\"ok\",\"template\":\"groq\",\"config\":{\"api_key\":\"" + GROQ_KEY + "\"},\"models\":7}",
            "models"),
        new Case("{\"name\":\"mock\",\"template\":\"groq\",\"config\":{\"api_key\":\"" + GROQ_KEY + "\"}}", "name"))) {
      HttpResponse<String> r = g.call("POST", "/v1/admin/providers", c.body());
      assertTrue(r.statusCode() == 400 || r.statusCode() == 409, c + ": " + r.statusCode() + " " + r.body());
      if (c.param() != null) {
        assertEquals(c.param(), Json.parse(r.body()).at("/error/param").asText(), r.body());
      }
      assertNoSecret(r.body());
    }
    HttpResponse<String> notJson = g.call("POST", "/v1/admin/providers", "{nope");
    assertEquals(400, notJson.statusCode());
    assertEquals(404, g.call("GET", "/v1/admin/providers/none/models", null).statusCode());
    assertEquals(404, g.call("DELETE", "/v1/admin/providers/none", null).statusCode());
    g.ok("POST", "/v1/admin/providers", groq("still-serving", up, GROQ_KEY));
  }

  @Test
  void adminRoutesNeedTheMasterKeyWhenOneIsSetElseTheGatewayKey() throws Exception {
    Gateway g = gateway("");
    assertEquals(401, g.call("GET", "/v1/admin/providers", null, null).statusCode());
    assertEquals(403, g.call("GET", "/v1/admin/providers", null, "sk-test-key-gateway").statusCode());
    assertEquals(200, g.call("GET", "/v1/admin/providers", null, MASTER).statusCode());
    Gateway noMaster = new Gateway(tempDir(), "pekko-llm.gateway.api-key = \"sk-test-key-only\"");
    closeLater.add(noMaster);
    assertEquals(200, noMaster.call("GET", "/v1/admin/provider-templates", null, "sk-test-key-only").statusCode());
    assertEquals(401, noMaster.call("GET", "/v1/admin/provider-templates", null, "wrong").statusCode());
  }

  @Test
  void addsAGroqProviderThatServesCallsListsModelsAndNeverShowsItsKey() throws Exception {
    Gateway g = gateway("");
    FakeProvider up = fake(FakeProvider.Format.OPENAI, GROQ_KEY, "groq");
    JsonNode created = g.ok("POST", "/v1/admin/providers", groq("mygroq", up, GROQ_KEY));
    assertEquals("mygroq", created.get("id").asText());
    assertEquals("api_key", created.get("secrets_set").get(0).asText());
    assertFalse(created.get("config").has("api_key"));
    JsonNode answer = g.ok("POST", "/v1/chat/completions", "{\"model\":\"mygroq/model-a\",\"messages\":[{\"role\":"
        + "\"user\",\"content\":\"hi\"}]}");
    assertTrue(answer.at("/choices/0/message/content").asText().startsWith("hello from groq"), answer.toString());
    assertTrue(up.seenKeys().contains(GROQ_KEY));
    JsonNode models = g.ok("GET", "/v1/admin/providers/mygroq/models", null);
    assertEquals("api", models.get("source").asText());
    assertEquals(3, models.get("data").size());
    JsonNode list = g.ok("GET", "/v1/admin/providers", null);
    boolean runtime = false;
    boolean config = false;
    for (JsonNode p : list.get("data")) {
      runtime |= p.get("id").asText().equals("mygroq") && !p.get("read_only").asBoolean()
          && p.get("enabled").asBoolean() && p.get("status").has("breaker");
      config |= p.get("id").asText().equals("mock") && p.get("read_only").asBoolean()
          && p.get("source").asText().equals("config");
    }
    assertTrue(runtime && config, list.toString());
    JsonNode test = g.ok("POST", "/v1/admin/providers/mygroq/test", "{}");
    assertTrue(test.get("ok").asBoolean(), test.toString());
    assertEquals(2, test.get("steps").size());
    assertTrue(g.ok("GET", "/v1/models", null).toString().contains("mygroq/model-a"));
  }

  @Test
  void addsAnOllamaProviderInItsOwnWireFormat() throws Exception {
    Gateway g = gateway("");
    FakeProvider up = fake(FakeProvider.Format.OLLAMA, null, "ollama");
    g.ok("POST", "/v1/admin/providers", "{\"name\":\"local\",\"template\":\"ollama\",\"config\":{\"base_url\":\""
        + up.baseUrl() + "\"}}");
    JsonNode answer = g.ok("POST", "/v1/chat/completions", "{\"model\":\"local/model-b\",\"messages\":[{\"role\":"
        + "\"user\",\"content\":\"hi\"}]}");
    assertTrue(answer.at("/choices/0/message/content").asText().startsWith("hello from ollama"), answer.toString());
    JsonNode preview = g.ok("POST", "/v1/admin/provider-templates/ollama/models", "{\"config\":{\"base_url\":\""
        + up.baseUrl() + "\"}}");
    assertEquals("api", preview.get("source").asText());
    assertEquals("model-a", preview.get("data").get(0).get("id").asText());
  }

  @Test
  void modelListingThatFailsFallsBackToTheTemplatesModels() throws Exception {
    Gateway g = gateway("");
    FakeProvider up = fake(FakeProvider.Format.OPENAI, GROQ_KEY, "groq").failModels(true);
    JsonNode preview = g.ok("POST", "/v1/admin/provider-templates/groq/models", "{\"config\":{\"api_key\":\""
        + GROQ_KEY + "\",\"base_url\":\"" + up.baseUrl() + "\"}}");
    assertEquals("fallback", preview.get("source").asText());
    assertTrue(preview.get("error").asText().contains("model listing is broken"), preview.toString());
    assertEquals("llama-3.1-8b-instant", preview.get("data").get(0).get("id").asText());
    g.ok("POST", "/v1/admin/providers", "{\"name\":\"nolist\",\"template\":\"groq\",\"config\":{\"api_key\":\""
        + GROQ_KEY + "\",\"base_url\":\"" + up.baseUrl() + "\"}}");
    JsonNode models = g.ok("GET", "/v1/admin/providers/nolist/models", null);
    assertEquals("fallback", models.get("source").asText());
    assertTrue(models.get("data").toString().contains("nolist/llama-3.1-8b-instant"), models.toString());
    up.failModels(false);
    assertEquals("api", g.ok("POST", "/v1/admin/providers/nolist/refresh-models", null).get("source").asText());
  }

  @Test
  void connectionTestSaysWhichStepFailedAndWhy() throws Exception {
    Gateway g = gateway("");
    FakeProvider up = fake(FakeProvider.Format.OPENAI, GROQ_KEY, "groq");
    String wrongKey = "gsk_TESTSECRETwrongwrongwrong";
    JsonNode bad = g.ok("POST", "/v1/admin/provider-templates/groq/test", "{\"config\":{\"api_key\":\"" + wrongKey
        + "\",\"base_url\":\"" + up.baseUrl() + "\"},\"model\":\"model-a\"}");
    assertFalse(bad.get("ok").asBoolean());
    assertEquals("list_models", bad.get("failed_step").asText());
    assertTrue(bad.at("/steps/0/error").asText().contains("Incorrect API key"), bad.toString());
    assertFalse(bad.at("/steps/1/ok").asBoolean());
    up.failChat(500);
    JsonNode chatFails = g.ok("POST", "/v1/admin/provider-templates/groq/test", "{\"config\":{\"api_key\":\""
        + GROQ_KEY + "\",\"base_url\":\"" + up.baseUrl() + "\"}}");
    assertTrue(chatFails.at("/steps/0/ok").asBoolean(), chatFails.toString());
    assertEquals("completion", chatFails.get("failed_step").asText());
    assertTrue(chatFails.at("/steps/1/error").asText().contains("upstream exploded"), chatFails.toString());
    up.failChat(0);
    JsonNode good = g.ok("POST", "/v1/admin/provider-templates/groq/test", "{\"config\":{\"api_key\":\"" + GROQ_KEY
        + "\",\"base_url\":\"" + up.baseUrl() + "\"}}");
    assertTrue(good.get("ok").asBoolean(), good.toString());
    assertEquals("model-a", good.at("/steps/1/model").asText());
  }

  @Test
  void secretsAreRefusedWithoutASecretsKeyButKeylessProvidersAreStored() throws Exception {
    Gateway g = new Gateway(tempDir(), "pekko-llm.admin.secrets-key = \"\"");
    closeLater.add(g);
    FakeProvider up = fake(FakeProvider.Format.OPENAI, GROQ_KEY, "groq");
    HttpResponse<String> r = g.call("POST", "/v1/admin/providers", groq("g", up, GROQ_KEY));
    assertEquals(400, r.statusCode(), r.body());
    assertTrue(r.body().contains("PEKKO_LLM_SECRETS_KEY"), r.body());
    assertEquals("secrets_key_missing", Json.parse(r.body()).at("/error/code").asText());
    assertNoSecret(r.body());
    FakeProvider ollama = fake(FakeProvider.Format.OLLAMA, null, "ollama");
    g.ok("POST", "/v1/admin/providers", "{\"name\":\"local\",\"template\":\"ollama\",\"config\":{\"base_url\":\""
        + ollama.baseUrl() + "\"}}");
  }

  @Test
  void runtimeProvidersSurviveARestartWithTheirSecretsSealedInTheJournal() throws Exception {
    Path dir = tempDir();
    FakeProvider up = fake(FakeProvider.Format.OPENAI, GROQ_KEY, "groq");
    String extra = "pekko-llm.admin.secrets-key = \"" + SECRETS_KEY + "\"\npekko-llm.gateway.api-key = \"sk-test-key-g\"";
    try (Gateway first = new Gateway(dir, extra)) {
      first.ok("POST", "/v1/admin/providers", groq("kept", up, GROQ_KEY));
      first.ok("PATCH", "/v1/admin/providers/kept", "{\"models\":[\"model-b\"]}");
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        String raw = new String(Files.readAllBytes(f), java.nio.charset.StandardCharsets.ISO_8859_1);
        assertFalse(raw.contains("TESTSECRET"), "secret in clear in " + f);
      }
    }
    try (Gateway second = new Gateway(dir, extra)) {
      JsonNode p = second.ok("GET", "/v1/admin/providers/kept", null);
      assertEquals(2, p.get("version").asInt());
      assertEquals("model-b", p.get("models").get(0).asText());
      assertTrue(p.get("enabled").asBoolean(), p.toString());
      JsonNode answer = second.ok("POST", "/v1/chat/completions", "{\"model\":\"kept/model-a\",\"messages\":[{\"role\":"
          + "\"user\",\"content\":\"hi\"}]}");
      assertTrue(answer.at("/choices/0/message/content").asText().startsWith("hello from groq"));
    }
    // With another secrets key the provider cannot be opened: listed with the reason, not started.
    try (Gateway wrong = new Gateway(dir, "pekko-llm.admin.secrets-key = \"" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIzNDU="
        + "\"\npekko-llm.gateway.api-key = \"sk-test-key-g\"")) {
      JsonNode p = wrong.ok("GET", "/v1/admin/providers/kept", null);
      assertFalse(p.get("enabled").asBoolean());
      assertTrue(p.get("error").asText().contains("PEKKO_LLM_SECRETS_KEY"), p.toString());
    }
  }

  @Test
  void changingAndRemovingAProviderUnderLoadLetsInFlightCallsFinish() throws Exception {
    Gateway g = gateway("");
    FakeProvider a = fake(FakeProvider.Format.OPENAI, GROQ_KEY, "server-a");
    FakeProvider b = fake(FakeProvider.Format.OPENAI, GROQ_KEY, "server-b");
    g.ok("POST", "/v1/admin/providers", groq("live", a, GROQ_KEY));
    a.hold();
    String chat = "{\"model\":\"live/model-a\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      inFlight.add(CompletableFuture.supplyAsync(() -> {
        try {
          return g.call("POST", "/v1/chat/completions", chat);
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }));
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (a.held() < 8 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(8, a.held());
    // New settings: calls from now on go to server b; the 8 held on server a are not cut.
    g.ok("PATCH", "/v1/admin/providers/live", "{\"config\":{\"base_url\":\"" + b.baseUrl() + "\"}}");
    JsonNode viaB = g.ok("POST", "/v1/chat/completions", "{\"model\":\"live/model-a\",\"messages\":[{\"role\":"
        + "\"user\",\"content\":\"hi\"}]}");
    assertTrue(viaB.at("/choices/0/message/content").asText().startsWith("hello from server-b"), viaB.toString());
    b.hold();
    CompletableFuture<HttpResponse<String>> heldOnB = CompletableFuture.supplyAsync(() -> {
      try {
        return g.call("POST", "/v1/chat/completions", chat);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    while (b.held() < 1 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    g.ok("DELETE", "/v1/admin/providers/live", null);
    HttpResponse<String> gone = g.call("POST", "/v1/chat/completions", chat);
    assertEquals(404, gone.statusCode(), gone.body());
    a.release();
    b.release();
    for (CompletableFuture<HttpResponse<String>> f : inFlight) {
      HttpResponse<String> r = f.get(20, TimeUnit.SECONDS);
      assertEquals(200, r.statusCode());
      assertTrue(r.body().contains("server-a") && r.body().contains("[DONE]"), r.body());
    }
    HttpResponse<String> last = heldOnB.get(20, TimeUnit.SECONDS);
    assertTrue(last.body().contains("server-b") && last.body().contains("[DONE]"), last.body());
  }

  @Test
  void theWebUiIsServedWithAStrictContentSecurityPolicy() throws Exception {
    Gateway g = gateway("");
    HttpResponse<String> redirect = g.call("GET", "/ui", null, null);
    assertEquals(301, redirect.statusCode());
    HttpResponse<String> index = g.call("GET", "/ui/", null, null);
    assertEquals(200, index.statusCode(), index.body());
    assertTrue(index.body().contains("<div id=\"app\""), index.body());
    String csp = index.headers().firstValue("Content-Security-Policy").orElse("");
    assertTrue(csp.contains("default-src 'self'") && csp.contains("script-src 'self'"), csp);
    assertNotNull(index.headers().firstValue("X-Content-Type-Options").orElse(null));
  }

  private static void deleteTree(Path dir) throws Exception {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
