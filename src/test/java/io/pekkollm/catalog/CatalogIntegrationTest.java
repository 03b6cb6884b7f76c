package io.pekkollm.catalog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.api.ChatStreamHandler;
import io.pekkollm.api.LlmClient;
import io.pekkollm.http.GatewayServer;
import io.pekkollm.http.GatewaySettings;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Message;
import io.pekkollm.model.TruncationReport;
import io.pekkollm.model.TruncationStrategy;
import io.pekkollm.model.Usage;
import io.pekkollm.provider.mock.MockProvider;
import io.pekkollm.provider.mock.MockReply;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.util.Json;
import java.io.IOException;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The catalog wired into the client and the gateway, through public APIs only: costs on responses and in
 * {@code usage.cost}, model metadata on {@code GET /v1/models} and {@code GET /v1/models/{id}}, and the context
 * window check (400 {@code context_length_exceeded}) or truncation ({@code X-Truncated-Messages}) before a
 * request is sent. The {@code openai} provider is a mock here, so nothing leaves the machine.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CatalogIntegrationTest {
  private Path modelsDir;
  private MockProvider openai;
  private LlmClient client;
  private ServerBinding binding;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeAll
  void start() throws Exception {
    modelsDir = Files.createTempDirectory("models");
    // Extends the bundled catalog: a small-window model to truncate for, and an id with a slash.
    Files.writeString(modelsDir.resolve("openai.yml"), """
        provider: openai
        models:
          gpt-4o-small-window:
            mode: chat
            context_window: 1000
            pricing:
              input: 2.5
              output: 10
            capabilities: [streaming, tools]
        """);
    Files.writeString(modelsDir.resolve("mock.yml"), """
        provider: mock
        models:
          org/slashed-model:
            mode: chat
            context_window: 4096
        """);
    openai = MockProvider.builder("openai")
        .handler(r -> new MockReply("answer to " + r.messages().size() + " messages", List.of(), FinishReason.STOP,
            Usage.of(1000, 500)))
        .models(List.of("gpt-4o-mini", "gpt-unlisted"))
        .build();
    var config = TestConfig.of("pekko-llm.catalog.models-dir = \"" + modelsDir.toString().replace("\\", "\\\\")
        + "\"\npekko-llm.models-timeout = 3s\n"
        // An enabled provider whose model listing fails: /v1/models falls back to its catalog models.
        + "pekko-llm.providers.groq { api-key = \"gsk-test\", base-url = \"http://127.0.0.1:1/openai/v1\" }\n"
        + "pekko-llm.gateway.access-log = off");
    client = LlmClient.builder().config(config).provider(openai).build();
    binding = GatewayServer.start(client, GatewaySettings.create(config).withPort(0))
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterAll
  void stop() throws IOException {
    if (client != null) {
      client.close();
    }
    try (Stream<Path> files = Files.walk(modelsDir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  @BeforeEach
  void clear() {
    openai.clearRequests();
  }

  private static ChatResponse await(java.util.concurrent.CompletionStage<ChatResponse> stage) throws Exception {
    return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  // ------------------------------------------------------------------ Java API

  @Test
  void clientExposesTheLoadedCatalog() {
    assertEquals(1000, client.catalog().find("openai/gpt-4o-small-window").orElseThrow().contextWindow().getAsInt());
    assertTrue(client.catalog().find("openai/gpt-4o").isPresent(), "bundled entries stay");
  }

  @Test
  void responsesCarryTheirCost() throws Exception {
    ChatResponse r = await(client.chat(ChatRequest.builder("openai/gpt-4o-mini").user("hi").build()));
    assertEquals(new BigDecimal("0.00045"), r.cost().orElseThrow().total());
    assertTrue(r.truncation().isEmpty());
    ChatResponse free = await(client.chat(ChatRequest.builder("mock/echo").user("hi").build()));
    assertEquals(BigDecimal.ZERO, free.cost().orElseThrow().total(), "a known zero price is a zero cost");
    ChatResponse unknown = await(client.chat(ChatRequest.builder("openai/gpt-unlisted").user("hi").build()));
    assertTrue(unknown.cost().isEmpty(), "a model the catalog lacks has no cost");
    assertEquals("answer to 1 messages", unknown.text(), "and is still routed");
  }

  @Test
  void finishedStreamsCarryTheirCost() throws Exception {
    CompletableFuture<ChatResponse> done = new CompletableFuture<>();
    client.stream(ChatRequest.builder("openai/gpt-4o-mini").user("hi").build(), new ChatStreamHandler() {
      @Override
      public void onChunk(ChatChunk chunk) {}

      @Override
      public void onComplete(ChatResponse response) {
        done.complete(response);
      }

      @Override
      public void onError(Throwable error) {
        done.completeExceptionally(error);
      }
    });
    assertEquals(new BigDecimal("0.00045"), done.get(10, TimeUnit.SECONDS).cost().orElseThrow().total());
    assertEquals(new BigDecimal("0.00045"), client.cost("openai/gpt-4o-mini", Usage.of(1000, 500)).orElseThrow()
        .total());
  }

  @Test
  void aRequestThatCannotFitIsRejectedBeforeSending() throws Exception {
    ChatRequest r = ChatRequest.builder("openai/gpt-4o-mini").user("hi").maxTokens(200_000).build();
    ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> await(client.chat(r)));
    LlmException le = assertInstanceOf(LlmException.class, e.getCause());
    assertEquals(ErrorKind.CONTEXT_LENGTH_EXCEEDED, le.kind());
    assertTrue(le.getMessage().contains("context window of 128000 tokens"), le.getMessage());
    assertTrue(openai.requests().isEmpty(), "nothing was sent");
  }

  private static ChatRequest longConversation(String model, TruncationStrategy strategy) {
    ChatRequest.Builder b = ChatRequest.builder(model).system("Be brief.");
    for (int i = 0; i < 6; i++) {
      b.user("question " + i + " " + "word ".repeat(150));
      b.assistant("answer " + i + " " + "word ".repeat(150));
    }
    return b.user("last question").maxTokens(100).truncation(strategy).build();
  }

  @Test
  void aRequestAskingForTruncationIsShortenedAndReportsIt() throws Exception {
    ChatRequest r = longConversation("openai/gpt-4o-small-window", TruncationStrategy.SMART);
    ChatResponse resp = await(client.chat(r));
    TruncationReport t = resp.truncation().orElseThrow();
    List<Message> sent = openai.requests().get(0).messages();
    assertEquals(r.messages().size() - t.messagesDropped(), sent.size());
    assertEquals("Be brief.", sent.get(0).text());
    assertTrue(sent.get(1).text().startsWith("question 0 "), "smart keeps the first user message");
    assertEquals("last question", sent.get(sent.size() - 1).text());
    assertTrue(t.tokensAfter() + 100 <= 1000, t.toString());
    assertTrue(t.tokensBefore() > 1000, t.toString());
    assertEquals("gpt-4o-small-window", openai.requests().get(0).model(), "the provider gets its own model id");
  }

  // ------------------------------------------------------------------ gateway

  private String url(String path) {
    return "http://127.0.0.1:" + binding.localAddress().getPort() + path;
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(15)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url("/v1/chat/completions"))).timeout(Duration.ofSeconds(15))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static JsonNode json(HttpResponse<String> r) throws IOException {
    return Json.parse(r.body());
  }

  @Test
  void modelListCarriesCatalogMetadata() throws Exception {
    HttpResponse<String> r = get("/v1/models");
    assertEquals(200, r.statusCode(), r.body());
    Map<String, JsonNode> byId = new HashMap<>();
    json(r).get("data").forEach(m -> byId.put(m.get("id").asText(), m));

    JsonNode mini = byId.get("openai/gpt-4o-mini");
    assertEquals(128000, mini.get("context_window").asInt());
    assertEquals(16384, mini.get("max_output_tokens").asInt());
    assertEquals("chat", mini.get("mode").asText());
    assertEquals(new BigDecimal("0.15"), mini.get("pricing").get("input").decimalValue());
    assertEquals(new BigDecimal("0.6"), mini.get("pricing").get("output").decimalValue());
    assertEquals(new BigDecimal("0.075"), mini.get("pricing").get("cache_read").decimalValue());
    assertTrue(mini.get("pricing").get("cache_write").isNull(), "unknown prices are null");
    List<String> caps = new ArrayList<>();
    mini.get("capabilities").forEach(c -> caps.add(c.asText()));
    assertEquals(List.of("json_schema", "parallel_tools", "pdf", "prompt_caching", "streaming", "system_messages",
        "tools", "vision"), caps);
    assertEquals("model", mini.get("object").asText());

    JsonNode echo = byId.get("mock/echo");
    assertEquals(128000, echo.get("context_window").asInt());
    assertEquals(0, echo.get("pricing").get("input").decimalValue().signum());

    JsonNode unlisted = byId.get("openai/gpt-unlisted");
    assertTrue(unlisted.get("context_window").isNull(), "a model the catalog lacks has unknown metadata");
    assertTrue(unlisted.get("pricing").isNull());
    assertTrue(unlisted.get("capabilities").isNull());

    assertFalse(byId.containsKey("openai/gpt-4o"), "a provider that lists its models is not padded from the catalog");
    JsonNode groq = byId.get("groq/llama-3.1-8b-instant");
    assertEquals(128000, groq.get("context_window").asInt(), "a provider whose listing failed shows its catalog");
    assertFalse(byId.keySet().stream().anyMatch(id -> id.startsWith("anthropic/")), "only enabled providers");
  }

  @Test
  void oneModelByIdWithMetadata() throws Exception {
    JsonNode mini = json(get("/v1/models/openai/gpt-4o-mini"));
    assertEquals("openai/gpt-4o-mini", mini.get("id").asText());
    assertEquals(128000, mini.get("context_window").asInt());
    assertEquals("openai/gpt-4o-mini-2024-07-18", mini.get("aliases").get(0).asText());
    assertEquals(4096, json(get("/v1/models/mock/org/slashed-model")).get("context_window").asInt(),
        "model ids may contain slashes");
    assertEquals(4096, json(get("/v1/models/mock/org%2Fslashed-model")).get("context_window").asInt());
    HttpResponse<String> listedOnly = get("/v1/models/openai/gpt-unlisted");
    assertEquals(200, listedOnly.statusCode(), listedOnly.body());
    assertTrue(json(listedOnly).get("context_window").isNull());
  }

  @Test
  void unknownModelIdIs404InOpenAiShape() throws Exception {
    for (String path : new String[] {"/v1/models/openai/no-such-model",
        "/v1/models/anthropic/claude-3-5-haiku-20241022", "/v1/models/nosuch/model", "/v1/models/justone"}) {
      HttpResponse<String> r = get(path);
      assertEquals(404, r.statusCode(), path + ": " + r.body());
      JsonNode err = json(r).get("error");
      assertEquals("model_not_found", err.get("code").asText(), path);
      assertEquals("model", err.get("param").asText(), path);
      assertTrue(err.get("message").asText().contains("does not exist"), err.toString());
      assertTrue(err.has("type"), path);
    }
  }

  @Test
  void chatResponsesReportTheirCostInUsage() throws Exception {
    HttpResponse<String> r = post("{\"model\":\"openai/gpt-4o-mini\",\"messages\":[{\"role\":\"user\","
        + "\"content\":\"hi\"}]}");
    assertEquals(200, r.statusCode(), r.body());
    JsonNode usage = json(r).get("usage");
    assertEquals(1000, usage.get("prompt_tokens").asInt());
    assertEquals(new BigDecimal("0.00045"), usage.get("cost").decimalValue());
    assertTrue(r.body().contains("\"cost\":0.00045"), r.body());
    HttpResponse<String> unknown = post("{\"model\":\"openai/gpt-unlisted\",\"messages\":[{\"role\":\"user\","
        + "\"content\":\"hi\"}]}");
    assertFalse(json(unknown).get("usage").has("cost"), "no cost when the price is unknown");
  }

  @Test
  void streamedUsageChunkReportsTheCost() throws Exception {
    HttpResponse<String> r = post("{\"model\":\"openai/gpt-4o-mini\",\"stream\":true,\"stream_options\":"
        + "{\"include_usage\":true},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertEquals(200, r.statusCode(), r.body());
    String usageEvent = r.body().lines().filter(l -> l.contains("\"usage\"")).findFirst().orElseThrow();
    assertEquals(new BigDecimal("0.00045"),
        Json.parse(usageEvent.substring("data: ".length())).get("usage").get("cost").decimalValue());
  }

  @Test
  void contextWindowRejectionIs400ContextLengthExceeded() throws Exception {
    for (String stream : new String[] {"false", "true"}) {
      HttpResponse<String> r = post("{\"model\":\"openai/gpt-4o-mini\",\"stream\":" + stream + ",\"max_tokens\":"
          + "200000,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
      assertEquals(400, r.statusCode(), r.body());
      JsonNode err = json(r).get("error");
      assertEquals("context_length_exceeded", err.get("code").asText());
      assertEquals("invalid_request_error", err.get("type").asText());
      assertEquals("messages", err.get("param").asText());
      assertTrue(err.get("message").asText().contains("200000 max_tokens"), err.toString());
    }
    assertTrue(openai.requests().isEmpty(), "nothing was sent upstream");
  }

  private static String longBody(String truncation, boolean stream) throws IOException {
    ChatRequest r = longConversation("openai/gpt-4o-small-window", null);
    var body = Json.object().put("model", r.model()).put("max_tokens", 100).put("stream", stream);
    if (truncation != null) {
      body.put("truncation", truncation);
    }
    var msgs = body.putArray("messages");
    r.messages().forEach(m -> msgs.addObject().put("role", m.role()).put("content", m.text()));
    return Json.write(body);
  }

  @Test
  void truncationIsAskedInTheBodyAndReportedInHeaders() throws Exception {
    HttpResponse<String> rejected = post(longBody(null, false));
    assertEquals(400, rejected.statusCode(), rejected.body());
    for (boolean stream : new boolean[] {false, true}) {
      openai.clearRequests();
      HttpResponse<String> r = post(longBody("sliding_window", stream));
      assertEquals(200, r.statusCode(), r.body());
      int dropped = Integer.parseInt(r.headers().firstValue("X-Truncated-Messages").orElseThrow());
      assertTrue(dropped > 0);
      int before = Integer.parseInt(r.headers().firstValue("X-Truncation-Tokens-Before").orElseThrow());
      int after = Integer.parseInt(r.headers().firstValue("X-Truncation-Tokens-After").orElseThrow());
      assertTrue(before > after && after + 100 <= 1000, before + " -> " + after);
      ChatRequest sent = openai.requests().get(0);
      assertEquals(14 - dropped, sent.messages().size());
      assertEquals(null, sent.truncation(), "the option is not passed upstream");
      assertFalse(sent.extraBody().containsKey("truncation"));
      if (!stream) {
        assertEquals("answer to " + (14 - dropped) + " messages",
            json(r).get("choices").get(0).get("message").get("content").asText());
      }
    }
    HttpResponse<String> small = post("{\"model\":\"openai/gpt-4o-small-window\",\"truncation\":\"smart\","
        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertEquals(200, small.statusCode());
    assertTrue(small.headers().firstValue("X-Truncated-Messages").isEmpty(), "nothing truncated, no header");
  }

  @Test
  void anUnknownTruncationStrategyIs400() throws Exception {
    HttpResponse<String> r = post("{\"model\":\"mock/echo\",\"truncation\":\"summarize\","
        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    assertEquals(400, r.statusCode(), r.body());
    assertEquals("truncation", json(r).get("error").get("param").asText());
  }
}
