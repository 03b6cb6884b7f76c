package io.pekkollm.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.errors.PermissionDeniedException;
import com.openai.errors.RateLimitException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.typesafe.config.Config;
import io.pekkollm.api.LlmClient;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Virtual keys over HTTP: the admin API with the master key, the official openai-java client calling with a
 * virtual key, limits, budgets (exact costs: the upstream reports 1000 input and 1000 output tokens of
 * gpt-4o-mini, $0.15 and $0.60 per million, so $0.00075 a call), a manual clock for periods and expiry.
 */
class GatewayKeysTest {
  static final String MASTER = "test-master-key-0123456789";
  static final String API_KEY = "test-plain-api-key";
  static final BigDecimal CALL = new BigDecimal("0.00075");
  static final String ANSWER = "{\"id\":\"c1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"gpt-4o-mini\","
      + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}],"
      + "\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":1000,\"total_tokens\":2000}}";

  /** A clock the test moves. */
  static final class ManualClock extends Clock {
    final AtomicLong millis = new AtomicLong(Instant.parse("2030-01-15T10:00:00Z").toEpochMilli());

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis.get());
    }

    void advance(Duration d) {
      millis.addAndGet(d.toMillis());
    }
  }

  /** One gateway on {@code config}'s journal. */
  static final class Gw implements AutoCloseable {
    final LlmClient client;
    final ServerBinding binding;

    Gw(Config config, Clock clock) throws Exception {
      this(config, clock, null);
    }

    Gw(Config config, Clock clock, io.pekkollm.callback.LlmCallback callback) throws Exception {
      LlmClient.Builder b = LlmClient.builder().config(config).clock(clock);
      client = (callback == null ? b : b.callback(callback)).build();
      binding = GatewayServer.start(client, GatewaySettings.create(config)).toCompletableFuture()
          .get(20, TimeUnit.SECONDS);
    }

    String url(String path) {
      return "http://127.0.0.1:" + binding.localAddress().getPort() + path;
    }

    @Override
    public void close() {
      binding.unbind().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS).join();
      client.close();
    }
  }

  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  final ManualClock clock = new ManualClock();
  Upstream upstream;
  Path dataDir;
  Gw gw;

  static Config config(Upstream upstream, String journal) {
    return TestConfig.openAiCompatible("openai", upstream, "pekko-llm.gateway.port = 0\n"
        + "pekko-llm.gateway.access-log = off\npekko-llm.gateway.master-key = \"" + MASTER + "\"\n"
        + "pekko-llm.gateway.api-key = \"" + API_KEY + "\"\n" + journal);
  }

  @BeforeEach
  void start() throws Exception {
    upstream = new Upstream();
    upstream.always(Reply.json(200, ANSWER));
    dataDir = Files.createTempDirectory("keys-test");
    gw = new Gw(config(upstream, h2(dataDir)), clock);
  }

  static String h2(Path dir) {
    return "pekko-llm.recovery.data-dir = \"" + dir.toString().replace("\\", "/") + "\"\n";
  }

  @AfterEach
  void stop() throws Exception {
    gw.close();
    upstream.close();
  }

  // ---------------------------------------------------------------- helpers

  HttpResponse<String> send(String method, String path, String key, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(gw.url(path))).timeout(Duration.ofSeconds(30))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .header("Content-Type", "application/json");
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  JsonNode admin(String method, String path, String body, int expectStatus) throws Exception {
    HttpResponse<String> r = send(method, path, MASTER, body);
    assertEquals(expectStatus, r.statusCode(), r.body());
    return Json.parse(r.body());
  }

  JsonNode createKey(String body) throws Exception {
    JsonNode k = admin("POST", "/v1/keys", body, 200);
    assertTrue(k.path("key").asText().startsWith("sk-" + k.path("id").asText() + "-"), k.toString());
    return k;
  }

  OpenAIClient openai(String key) {
    return OpenAIOkHttpClient.builder().baseUrl(gw.url("/v1")).apiKey(key).maxRetries(0).build();
  }

  static ChatCompletionCreateParams ask(String model) {
    return ChatCompletionCreateParams.builder().model(model).addUserMessage("hello").build();
  }

  String chatBody(String model) {
    return "{\"model\":\"" + model + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}";
  }

  BigDecimal spend(String id) throws Exception {
    return admin("GET", "/v1/keys/" + id, null, 200).path("spend").decimalValue();
  }

  // ---------------------------------------------------------------- tests

  @Test
  void createdKeyCallsItsModelsAndIsRefusedOthersNamingTheModel() throws Exception {
    JsonNode k = createKey("{\"name\":\"app-1\",\"team\":\"search\",\"models\":[\"openai/gpt-4o-mini\"],"
        + "\"metadata\":{\"owner\":\"ana\"}}");
    String id = k.path("id").asText();
    assertEquals("search", k.path("team").asText());
    OpenAIClient c = openai(k.path("key").asText());
    try {
      ChatCompletion r = c.chat().completions().create(ask("openai/gpt-4o-mini"));
      assertEquals("hi", r.choices().get(0).message().content().orElseThrow());
      PermissionDeniedException denied = assertThrows(PermissionDeniedException.class,
          () -> c.chat().completions().create(ask("openai/gpt-4o")));
      assertTrue(denied.getMessage().contains("openai/gpt-4o"), denied.getMessage());
    } finally {
      c.close();
    }
    assertEquals(1, upstream.requestCount(), "the refused call never reached the upstream");
    JsonNode one = admin("GET", "/v1/keys/" + id, null, 200);
    assertEquals(0, CALL.compareTo(one.path("spend").decimalValue()), one.toString());
    assertFalse(one.has("key"), "the secret is shown only once");
    assertEquals("ana", one.path("metadata").path("owner").asText());
    JsonNode list = admin("GET", "/v1/keys", null, 200);
    assertFalse(list.toString().contains(k.path("key").asText()), "listings never hold the secret");
    assertEquals(id, list.path("data").get(0).path("id").asText());
    // The gateway's own api-key still works, with no limits.
    assertEquals(200, send("POST", "/v1/chat/completions", API_KEY, chatBody("openai/gpt-4o")).statusCode());
  }

  @Test
  void budgetIsEnforcedWithItsCodeAndResetsAtThePeriodBoundary() throws Exception {
    JsonNode k = createKey("{\"max_budget\":0.0015,\"budget_duration\":\"1d\",\"soft_budget\":0.001}");
    String id = k.path("id").asText();
    OpenAIClient c = openai(k.path("key").asText());
    try {
      c.chat().completions().create(ask("openai/gpt-4o-mini"));
      c.chat().completions().create(ask("openai/gpt-4o-mini"));
      RateLimitException over = assertThrows(RateLimitException.class,
          () -> c.chat().completions().create(ask("openai/gpt-4o-mini")));
      assertEquals("budget_exceeded", over.code().orElseThrow(), over.getMessage());
      assertTrue(over.getMessage().contains("resets at 2030-01-16T10:00:00Z"), over.getMessage());
      JsonNode one = admin("GET", "/v1/keys/" + id, null, 200);
      assertEquals(0, new BigDecimal("0.0015").compareTo(one.path("spend").decimalValue()), one.toString());
      assertTrue(one.path("soft_budget_exceeded").asBoolean(), one.toString());
      assertEquals("2030-01-16T10:00:00Z", one.path("budget_reset_at").asText());

      clock.advance(Duration.ofHours(23).plusMinutes(59));
      assertThrows(RateLimitException.class, () -> c.chat().completions().create(ask("openai/gpt-4o-mini")));
      clock.advance(Duration.ofMinutes(1));
      c.chat().completions().create(ask("openai/gpt-4o-mini"));
    } finally {
      c.close();
    }
    JsonNode one = admin("GET", "/v1/keys/" + id, null, 200);
    assertEquals(0, new BigDecimal("0.00225").compareTo(one.path("spend").decimalValue()), one.toString());
    assertEquals(0, CALL.compareTo(one.path("period_spend").decimalValue()), one.toString());
    assertEquals(3, upstream.requestCount());
  }

  @Test
  void overBudgetSaysWhenItResetsWithRetryAfterAndTheSoftBudgetAlertsOnce() throws Exception {
    List<io.pekkollm.callback.CallEvent.SoftBudgetExceeded> alerts = new java.util.concurrent.CopyOnWriteArrayList<>();
    gw.close();
    gw = new Gw(config(upstream, h2(dataDir)), clock, new io.pekkollm.callback.LlmCallback() {
      @Override
      public void onSoftBudgetExceeded(io.pekkollm.callback.CallEvent.SoftBudgetExceeded event) {
        alerts.add(event);
      }
    });
    ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
        io.pekkollm.keys.KeyService.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> seen =
        new ch.qos.logback.core.read.ListAppender<>();
    seen.start();
    log.addAppender(seen);
    try {
      // Three calls' budget, an alert after the second; the period is 1h, the clock at 10:00.
      JsonNode k = createKey("{\"team\":\"ops\",\"max_budget\":0.00225,\"budget_duration\":\"1h\",\"soft_budget\":0.0015}");
      String id = k.path("id").asText();
      String key = k.path("key").asText();
      assertEquals(200, send("POST", "/v1/chat/completions", key, chatBody("openai/gpt-4o-mini")).statusCode());
      waitForKeySpend(id, CALL);
      assertFalse(admin("GET", "/v1/keys/" + id, null, 200).path("soft_budget_exceeded").asBoolean());
      assertTrue(alerts.isEmpty());
      assertEquals(200, send("POST", "/v1/chat/completions", key, chatBody("openai/gpt-4o-mini")).statusCode());
      waitForKeySpend(id, CALL.multiply(BigDecimal.valueOf(2)));
      for (int i = 0; i < 500 && alerts.isEmpty(); i++) {
        Thread.sleep(10);
      }
      assertEquals(1, alerts.size(), alerts.toString());
      assertEquals(id, alerts.get(0).keyId());
      assertEquals("ops", alerts.get(0).team());
      assertEquals(0, new BigDecimal("0.0015").compareTo(alerts.get(0).spend()));
      assertEquals(Instant.parse("2030-01-15T11:00:00Z"), alerts.get(0).periodEndsAt());
      JsonNode one = admin("GET", "/v1/keys/" + id, null, 200);
      assertTrue(one.path("soft_budget_exceeded").asBoolean(), one.toString());
      assertEquals("2030-01-15T10:00:00Z", one.path("soft_budget_exceeded_at").asText(), one.toString());
      List<String> warns = seen.list.stream().filter(e -> e.getLevel() == ch.qos.logback.classic.Level.WARN)
          .map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage).toList();
      assertEquals(1, warns.size(), warns.toString());
      assertTrue(warns.get(0).contains(id) && warns.get(0).contains("soft_budget"), warns.get(0));
      assertFalse(warns.get(0).contains(key.substring(20)), "never the secret: " + warns.get(0));

      // The third call crosses nothing new: no second alert. The fourth is over the budget.
      assertEquals(200, send("POST", "/v1/chat/completions", key, chatBody("openai/gpt-4o-mini")).statusCode());
      waitForKeySpend(id, CALL.multiply(BigDecimal.valueOf(3)));
      clock.advance(Duration.ofMinutes(15));
      HttpResponse<String> over = send("POST", "/v1/chat/completions", key, chatBody("openai/gpt-4o-mini"));
      assertEquals(429, over.statusCode(), over.body());
      JsonNode err = Json.parse(over.body()).path("error");
      assertEquals("budget_exceeded", err.path("code").asText());
      assertTrue(err.path("message").asText().contains("it resets at 2030-01-15T11:00:00Z"), err.toString());
      assertEquals(String.valueOf(45 * 60), over.headers().firstValue("Retry-After").orElseThrow());
      assertEquals(1, alerts.size(), "one alert per period");

      // The next period: a fresh budget, and a fresh alert when its soft budget is reached again.
      clock.advance(Duration.ofMinutes(45));
      assertEquals(200, send("POST", "/v1/chat/completions", key, chatBody("openai/gpt-4o-mini")).statusCode());
      assertFalse(admin("GET", "/v1/keys/" + id, null, 200).path("soft_budget_exceeded").asBoolean());
      assertEquals(200, send("POST", "/v1/chat/completions", key, chatBody("openai/gpt-4o-mini")).statusCode());
      for (int i = 0; i < 500 && alerts.size() < 2; i++) {
        Thread.sleep(10);
      }
      assertEquals(2, alerts.size(), alerts.toString());
      assertEquals(Instant.parse("2030-01-15T12:00:00Z"), alerts.get(1).periodEndsAt());
    } finally {
      log.detachAppender(seen);
    }
  }

  @Test
  void aBudgetWithoutPeriodSaysItNeverResetsAndSendsNoRetryAfter() throws Exception {
    String key = createKey("{\"max_budget\":0.0005}").path("key").asText();
    assertEquals(200, send("POST", "/v1/chat/completions", key, chatBody("openai/gpt-4o-mini")).statusCode());
    HttpResponse<String> over = null;
    for (int i = 0; i < 200; i++) {
      over = send("POST", "/v1/chat/completions", key, chatBody("openai/gpt-4o-mini"));
      if (over.statusCode() != 200) {
        break;
      }
    }
    assertEquals(429, over.statusCode(), over.body());
    assertTrue(over.body().contains("does not reset"), over.body());
    assertTrue(over.headers().firstValue("Retry-After").isEmpty(), over.headers().toString());
  }

  @Test
  void accessLogAndMetricsCarryKeyIdTeamAndModelNeverTheSecretWithBoundedKeyLabels() throws Exception {
    gw.close();
    gw = new Gw(TestConfig.openAiCompatible("openai", upstream, "pekko-llm.gateway.port = 0\n"
        + "pekko-llm.gateway.access-log = on\npekko-llm.gateway.master-key = \"" + MASTER + "\"\n"
        + "pekko-llm.keys.metrics-max-keys = 1\n" + h2(dataDir)), clock);
    ch.qos.logback.classic.Logger access = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
        "io.pekkollm.access");
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> seen =
        new ch.qos.logback.core.read.ListAppender<>();
    seen.start();
    access.addAppender(seen);
    try {
      JsonNode a = createKey("{\"team\":\"search\"}");
      JsonNode b = createKey("{\"team\":\"ads\",\"models\":[\"openai/gpt-4o-mini\"]}");
      assertEquals(200, send("POST", "/v1/chat/completions", a.path("key").asText(), chatBody("openai/gpt-4o-mini"))
          .statusCode());
      assertEquals(200, send("POST", "/v1/chat/completions", b.path("key").asText(), chatBody("openai/gpt-4o-mini"))
          .statusCode());
      assertEquals(403, send("POST", "/v1/chat/completions", b.path("key").asText(), chatBody("openai/gpt-4o"))
          .statusCode());
      List<String> lines;
      synchronized (seen.list) {
        lines = seen.list.stream().map(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
            .filter(l -> l.startsWith("POST /v1/chat/completions")).toList();
      }
      assertEquals(3, lines.size(), lines.toString());
      assertTrue(lines.get(0).endsWith(" key=" + a.path("id").asText() + " team=search model=openai/gpt-4o-mini"),
          lines.get(0));
      assertTrue(lines.get(2).matches("POST /v1/chat/completions 403 .* key=" + b.path("id").asText()
          + " team=ads model=openai/gpt-4o"), lines.get(2));
      for (String l : lines) {
        assertFalse(l.contains(a.path("key").asText()) || l.contains(b.path("key").asText()), l);
      }
      waitForKeySpend(b.path("id").asText(), CALL);
      String metrics = send("GET", "/metrics", MASTER, null).body();
      // One key label of its own (metrics-max-keys = 1): the first key seen; the second is "other".
      assertTrue(metrics.contains("pekko_llm_key_requests_total{key=\"" + a.path("id").asText()
          + "\",model=\"openai/gpt-4o-mini\",team=\"search\"} 1.0"), metrics);
      assertTrue(metrics.contains("pekko_llm_key_requests_total{key=\"other\",model=\"openai/gpt-4o-mini\",team=\"other\"} 1.0"),
          metrics);
      assertTrue(metrics.contains("pekko_llm_key_refusals_total{key=\"other\",reason=\"model_not_allowed\",team=\"other\"} 1.0"),
          metrics);
      assertTrue(metrics.contains("pekko_llm_key_spend_usd_total{key=\"" + a.path("id").asText()), metrics);
      assertFalse(metrics.contains(b.path("id").asText()), "beyond metrics-max-keys a key has no label of its own");
      assertFalse(metrics.contains(a.path("key").asText()), "never the secret");
    } finally {
      access.detachAppender(seen);
    }
  }

  @Test
  void streamedCallsAreChargedWhenTheStreamEnds() throws Exception {
    String chunk = "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",";
    String sse = "data: " + chunk + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}]}\n\n"
        + "data: " + chunk + "\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
        + "data: " + chunk + "\"choices\":[],\"usage\":{\"prompt_tokens\":1000,\"completion_tokens\":1000,"
        + "\"total_tokens\":2000}}\n\ndata: [DONE]\n\n";
    upstream.reset();
    upstream.always(Reply.sse(sse.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    JsonNode k = createKey("{\"max_parallel_requests\":1}");
    HttpResponse<String> r = send("POST", "/v1/chat/completions", k.path("key").asText(),
        "{\"model\":\"openai/gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertEquals(200, r.statusCode(), r.body());
    assertTrue(r.body().contains("[DONE]"), r.body());
    waitForKeySpend(k.path("id").asText(), CALL);
    // The stream's end released its parallel slot: the next call runs.
    assertEquals(200, send("POST", "/v1/chat/completions", k.path("key").asText(),
        "{\"model\":\"openai/gpt-4o-mini\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
        .statusCode());
  }

  @Test
  void rateLimitAnswers429WithRetryAfter() throws Exception {
    String key = createKey("{\"rpm_limit\":2}").path("key").asText();
    assertEquals(200, send("POST", "/v1/chat/completions", key, chatBody("openai/gpt-4o-mini")).statusCode());
    assertEquals(200, send("POST", "/v1/chat/completions", key, chatBody("openai/gpt-4o-mini")).statusCode());
    HttpResponse<String> limited = send("POST", "/v1/chat/completions", key, chatBody("openai/gpt-4o-mini"));
    assertEquals(429, limited.statusCode(), limited.body());
    // The clock is at 10:00:00 exactly: the next minute starts in 60 s.
    assertEquals("60", limited.headers().firstValue("Retry-After").orElseThrow());
    assertEquals("rate_limit_exceeded", Json.parse(limited.body()).path("error").path("code").asText());
    clock.advance(Duration.ofSeconds(45));
    HttpResponse<String> again = send("POST", "/v1/chat/completions", key, chatBody("openai/gpt-4o-mini"));
    assertEquals("15", again.headers().firstValue("Retry-After").orElseThrow());
    clock.advance(Duration.ofSeconds(15));
    assertEquals(200, send("POST", "/v1/chat/completions", key, chatBody("openai/gpt-4o-mini")).statusCode());
  }

  @Test
  void rotateRefusesTheOldSecretAndRevokeAndExpiryRefuseTheKey() throws Exception {
    JsonNode k = createKey("{\"duration\":\"1h\"}");
    String id = k.path("id").asText();
    String old = k.path("key").asText();
    JsonNode rotated = admin("POST", "/v1/keys/" + id + "/rotate", null, 200);
    String fresh = rotated.path("key").asText();
    assertFalse(fresh.equals(old));
    OpenAIClient oldClient = openai(old);
    OpenAIClient freshClient = openai(fresh);
    try {
      assertThrows(UnauthorizedException.class, () -> oldClient.chat().completions().create(ask("openai/gpt-4o-mini")));
      freshClient.chat().completions().create(ask("openai/gpt-4o-mini"));
      clock.advance(Duration.ofMinutes(61));
      UnauthorizedException expired = assertThrows(UnauthorizedException.class,
          () -> freshClient.chat().completions().create(ask("openai/gpt-4o-mini")));
      assertTrue(expired.getMessage().contains("expired"), expired.getMessage());
    } finally {
      oldClient.close();
      freshClient.close();
    }
    String other = createKey("{}").path("key").asText();
    String otherId = other.substring(3, 19);
    assertEquals(200, send("POST", "/v1/chat/completions", other, chatBody("openai/gpt-4o-mini")).statusCode());
    assertTrue(admin("DELETE", "/v1/keys/" + otherId, null, 200).path("revoked").asBoolean());
    HttpResponse<String> revoked = send("POST", "/v1/chat/completions", other, chatBody("openai/gpt-4o-mini"));
    assertEquals(401, revoked.statusCode());
    assertTrue(revoked.body().contains("revoked"), revoked.body());
    assertEquals(401, send("POST", "/v1/chat/completions", "sk-" + otherId + "-"
        + "A".repeat(43), chatBody("openai/gpt-4o-mini")).statusCode(), "a guessed secret of a known id");
  }

  @Test
  void anthropicRouteTakesXApiKeyAndAnswersInAnthropicsShape() throws Exception {
    String key = createKey("{\"models\":[\"openai/gpt-4o-mini\"]}").path("key").asText();
    HttpRequest req = HttpRequest.newBuilder(URI.create(gw.url("/v1/messages"))).header("x-api-key", key)
        .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
            "{\"model\":\"openai/gpt-4o\",\"max_tokens\":10,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"))
        .build();
    HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
    assertEquals(403, r.statusCode(), r.body());
    JsonNode body = Json.parse(r.body());
    assertEquals("error", body.path("type").asText());
    assertEquals("permission_error", body.path("error").path("type").asText());
    assertTrue(body.path("error").path("message").asText().contains("openai/gpt-4o"));
    HttpRequest bad = HttpRequest.newBuilder(URI.create(gw.url("/v1/messages"))).header("x-api-key", "sk-nope")
        .header("content-type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")).build();
    HttpResponse<String> unauth = http.send(bad, HttpResponse.BodyHandlers.ofString());
    assertEquals(401, unauth.statusCode());
    assertEquals("authentication_error", Json.parse(unauth.body()).path("error").path("type").asText());
  }

  @Test
  void embeddingsAreRefusedOutsideTheModelList() throws Exception {
    String key = createKey("{\"models\":[\"openai/gpt-4o-mini\"]}").path("key").asText();
    HttpResponse<String> r = send("POST", "/v1/embeddings", key,
        "{\"model\":\"openai/text-embedding-3-small\",\"input\":\"hi\"}");
    assertEquals(403, r.statusCode(), r.body());
    assertEquals("model_not_allowed", Json.parse(r.body()).path("error").path("code").asText());
    assertEquals(0, upstream.requestCount());
  }

  @Test
  void adminRoutesNeedTheMasterKey() throws Exception {
    String key = createKey("{}").path("key").asText();
    assertEquals(403, send("GET", "/v1/keys", key, null).statusCode());
    assertEquals(403, send("POST", "/v1/keys", API_KEY, "{}").statusCode());
    assertEquals(401, send("GET", "/v1/audit", null, null).statusCode());
    assertEquals(401, send("GET", "/v1/spend", "sk-wrong", null).statusCode());
    assertEquals(404, send("GET", "/v1/keys/0000000000000000", MASTER, null).statusCode());
  }

  @Test
  void badFieldsAre400NamingTheFieldAndCreateNothing() throws Exception {
    createKey("{\"name\":\"taken\"}");
    String[][] cases = {
        {"{\"max_budget\":-1}", "max_budget"},
        {"{\"max_budget\":\"ten\"}", "max_budget"},
        {"{\"budget_duration\":\"1y\"}", "budget_duration"},
        {"{\"budget_duration\":\"0d\"}", "budget_duration"},
        {"{\"rpm_limit\":-5}", "rpm_limit"},
        {"{\"tpm_limit\":1.5}", "tpm_limit"},
        {"{\"max_parallel_requests\":0}", "max_parallel_requests"},
        {"{\"models\":[\"nowhere/model-x\"]}", "models"},
        {"{\"models\":\"openai/gpt-4o\"}", "models"},
        {"{\"name\":\"taken\"}", "name"},
        {"{\"expires_at\":\"tomorrow\"}", "expires_at"},
        {"{\"duration\":\"forever\"}", "duration"},
        {"{\"metadata\":[1]}", "metadata"},
        {"{\"max_budgt\":5}", "max_budgt"},
    };
    for (String[] c : cases) {
      JsonNode err = admin("POST", "/v1/keys", c[0], 400);
      assertEquals(c[1], err.path("error").path("param").asText(), c[0] + " -> " + err);
    }
    assertEquals(400, send("POST", "/v1/keys", MASTER, "not json").statusCode());
    assertEquals(1, admin("GET", "/v1/keys", null, 200).path("data").size(), "nothing half-created");
    String id = admin("GET", "/v1/keys", null, 200).path("data").get(0).path("id").asText();
    assertEquals("rpm_limit", admin("PATCH", "/v1/keys/" + id, "{\"rpm_limit\":-1}", 400)
        .path("error").path("param").asText());
    assertEquals(1, admin("GET", "/v1/audit", null, 200).path("data").size(), "failed changes leave no audit entry");
    assertEquals(400, send("GET", "/v1/spend?group_by=week", MASTER, null).statusCode());
  }

  @Test
  void auditLogRecordsEveryAdminActionWithoutSecrets() throws Exception {
    JsonNode k = createKey("{\"name\":\"audited\",\"rpm_limit\":10}");
    String id = k.path("id").asText();
    admin("PATCH", "/v1/keys/" + id, "{\"rpm_limit\":20,\"team\":\"ops\"}", 200);
    String rotated = admin("POST", "/v1/keys/" + id + "/rotate", null, 200).path("key").asText();
    admin("DELETE", "/v1/keys/" + id, null, 200);
    HttpResponse<String> raw = send("GET", "/v1/audit", MASTER, null);
    JsonNode audit = Json.parse(raw.body());
    List<String> actions = new ArrayList<>();
    audit.path("data").forEach(e -> actions.add(e.path("action").asText()));
    assertEquals(List.of("create", "update", "rotate", "revoke"), actions);
    JsonNode update = audit.path("data").get(1);
    assertEquals("master_key", update.path("actor").asText());
    assertEquals(10, update.path("before").path("rpm_limit").asInt());
    assertEquals(20, update.path("after").path("rpm_limit").asInt());
    assertEquals("2030-01-15T10:00:00Z", update.path("at").asText());
    assertFalse(raw.body().contains(k.path("key").asText()) || raw.body().contains(rotated), "no secret in the audit");
    assertFalse(raw.body().contains("hash") || raw.body().contains("salt"), raw.body());
    assertEquals(2, admin("GET", "/v1/audit?after=2", null, 200).path("data").size());
  }

  @Test
  void spendIsReportedByDayModelAndTeam() throws Exception {
    String a = createKey("{\"team\":\"red\"}").path("key").asText();
    String b = createKey("{\"team\":\"blue\"}").path("key").asText();
    send("POST", "/v1/chat/completions", a, chatBody("openai/gpt-4o-mini"));
    send("POST", "/v1/chat/completions", a, chatBody("openai/gpt-4o-mini"));
    send("POST", "/v1/chat/completions", b, chatBody("openai/gpt-4o-mini"));
    JsonNode byDay = waitForSpend("/v1/spend?group_by=day", new BigDecimal("0.00225"));
    assertEquals("2030-01-15", byDay.path("data").get(0).path("date").asText());
    JsonNode red = admin("GET", "/v1/spend?team=red&group_by=team", null, 200);
    assertEquals(0, new BigDecimal("0.0015").compareTo(red.path("total_spend").decimalValue()), red.toString());
    JsonNode byKey = admin("GET", "/v1/spend?key=" + b.substring(3, 19) + "&model=openai/gpt-4o-mini", null, 200);
    assertEquals(0, CALL.compareTo(byKey.path("total_spend").decimalValue()), byKey.toString());
    JsonNode none = admin("GET", "/v1/spend?from=2030-01-16", null, 200);
    assertEquals(0, none.path("total_spend").decimalValue().signum(), none.toString());
  }

  /** The spend report once it reaches {@code total} (settlement is off the request's path). */
  JsonNode waitForSpend(String path, BigDecimal total) throws Exception {
    JsonNode r = null;
    for (int i = 0; i < 200; i++) {
      r = admin("GET", path, null, 200);
      if (total.compareTo(r.path("total_spend").decimalValue()) == 0) {
        return r;
      }
      Thread.onSpinWait();
    }
    throw new AssertionError("spend never reached " + total + ": " + r);
  }

  @Test
  void twoHundredParallelCallsSpendAtMostOneCallOverABudgetForOneHundred() throws Exception {
    JsonNode k = createKey("{\"max_budget\":0.075}");
    String key = k.path("key").asText();
    List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      calls.add(http.sendAsync(HttpRequest.newBuilder(URI.create(gw.url("/v1/chat/completions")))
          .timeout(Duration.ofSeconds(60)).header("Authorization", "Bearer " + key)
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(chatBody("openai/gpt-4o-mini"))).build(),
          HttpResponse.BodyHandlers.ofString()));
    }
    int ok = 0;
    int budget = 0;
    for (CompletableFuture<HttpResponse<String>> c : calls) {
      HttpResponse<String> r = c.get(90, TimeUnit.SECONDS);
      if (r.statusCode() == 200) {
        ok++;
      } else {
        assertEquals(429, r.statusCode(), r.body());
        assertEquals("budget_exceeded", Json.parse(r.body()).path("error").path("code").asText());
        budget++;
      }
    }
    assertEquals(200, ok + budget);
    assertTrue(ok >= 100 && ok <= 101, ok + " calls ran");
    BigDecimal spent = waitForKeySpend(k.path("id").asText(), CALL.multiply(BigDecimal.valueOf(ok)));
    assertTrue(spent.compareTo(new BigDecimal("0.075").add(CALL)) <= 0, "spent " + spent);
    assertEquals(ok, upstream.requestCount());
  }

  BigDecimal waitForKeySpend(String id, BigDecimal expected) throws Exception {
    BigDecimal s = null;
    for (int i = 0; i < 200; i++) {
      s = spend(id);
      if (s.compareTo(expected) == 0) {
        return s;
      }
      Thread.onSpinWait();
    }
    throw new AssertionError("spend " + s + ", expected " + expected);
  }

  @Test
  void keysSpendAndAuditSurviveARestartOnH2() throws Exception {
    restartKeepsKeys(h2(dataDir));
  }

  @Test
  void keysSpendAndAuditSurviveARestartOnPostgreSql() throws Exception {
    String url = System.getenv("PEKKO_LLM_TEST_PG_URL");
    org.junit.jupiter.api.Assumptions.assumeTrue(url != null,
        "SKIPPED: PEKKO_LLM_TEST_PG_URL/_USER/_PASSWORD are not set (see .ci/run)");
    gw.close();
    gw = new Gw(config(upstream, "pekko-llm.recovery { journal-url = \"" + url + "\", journal-user = \""
        + System.getenv("PEKKO_LLM_TEST_PG_USER") + "\", journal-password = \""
        + System.getenv("PEKKO_LLM_TEST_PG_PASSWORD") + "\" }\n"), clock);
    restartKeepsKeys("pekko-llm.recovery { journal-url = \"" + url + "\", journal-user = \""
        + System.getenv("PEKKO_LLM_TEST_PG_USER") + "\", journal-password = \""
        + System.getenv("PEKKO_LLM_TEST_PG_PASSWORD") + "\" }\n");
  }

  private void restartKeepsKeys(String journal) throws Exception {
    JsonNode k = createKey("{\"name\":\"persist-" + System.nanoTime() + "\",\"max_budget\":0.0015}");
    String id = k.path("id").asText();
    String key = k.path("key").asText();
    assertEquals(200, send("POST", "/v1/chat/completions", key, chatBody("openai/gpt-4o-mini")).statusCode());
    waitForKeySpend(id, CALL);
    for (int i = 0; i < 500 && admin("GET", "/v1/keys/" + id, null, 200).path("spend_unwritten").asInt() > 0; i++) {
      Thread.onSpinWait();
    }
    assertEquals(0, admin("GET", "/v1/keys/" + id, null, 200).path("spend_unwritten").asInt());
    long auditBefore = admin("GET", "/v1/audit?limit=1000", null, 200).path("data").size();
    gw.close();
    gw = new Gw(config(upstream, journal), clock);
    assertEquals(0, CALL.compareTo(spend(id)), "spend survives");
    assertEquals(auditBefore, admin("GET", "/v1/audit?limit=1000", null, 200).path("data").size());
    assertEquals(200, send("POST", "/v1/chat/completions", key, chatBody("openai/gpt-4o-mini")).statusCode());
    HttpResponse<String> over = send("POST", "/v1/chat/completions", key, chatBody("openai/gpt-4o-mini"));
    assertEquals(429, over.statusCode(), "the budget counts the spend from before the restart: " + over.body());
    assertNotNull(Json.parse(over.body()).path("error").path("message").asText());
  }
}
