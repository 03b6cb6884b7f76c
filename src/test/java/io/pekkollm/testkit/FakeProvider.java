package io.pekkollm.testkit;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * A fake provider server on 127.0.0.1 that answers by route, in one of two real wire formats: OpenAI's
 * ({@code GET /v1/models}, {@code POST /v1/chat/completions}, streamed as SSE or whole) or Ollama's ({@code GET
 * /api/tags}, {@code POST /api/chat}, NDJSON). It checks the Bearer key when one is expected (401 in the format's
 * error shape otherwise), can fail its model list ({@link #failModels}), fail completions with a 401 or 500, cut a
 * stream after some chunks ({@link #cutStreamsAfter}), and hold completions until {@link #release} (to keep calls in
 * flight). Records the keys and paths it saw. For tests and the browser IT; thread-safe; close it.
 */
public final class FakeProvider implements AutoCloseable {
  /** The wire format. */
  public enum Format { OPENAI, OLLAMA }

  private final ActorSystem<Void> system;
  private final ServerBinding binding;
  private final Format format;
  private final String expectedKey;
  private final String tag;
  private volatile List<String> models = List.of("model-a", "model-b", "model-c");
  private volatile boolean failModels;
  private volatile int failChatStatus;
  private volatile int cutAfter = -1;
  private final AtomicInteger cutBudget = new AtomicInteger(Integer.MAX_VALUE);
  private volatile Duration chunkDelay = Duration.ZERO;
  private volatile CompletableFuture<Void> gate = CompletableFuture.completedFuture(null);
  private final AtomicInteger held = new AtomicInteger();
  private final AtomicInteger chats = new AtomicInteger();
  private final ConcurrentLinkedQueue<String> seenKeys = new ConcurrentLinkedQueue<>();

  /**
   * A server in {@code format} expecting {@code expectedKey} as its Bearer key (null: none checked); {@code tag}
   * goes into its answers' text ({@code "hello from <tag>"}), so a test sees which server answered.
   */
  public FakeProvider(Format format, String expectedKey, String tag) {
    this.format = format;
    this.expectedKey = expectedKey;
    this.tag = tag;
    this.system = ActorSystem.create(Behaviors.empty(), "fake-provider", com.typesafe.config.ConfigFactory
        .parseString("pekko.loglevel = WARNING").withFallback(io.pekkollm.api.LlmConfig.load()));
    try {
      this.binding = Http.get(system).newServerAt("127.0.0.1", 0).bind(this::handle)
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      system.terminate();
      throw new IllegalStateException("fake provider did not bind", e);
    }
  }

  public int port() {
    return binding.localAddress().getPort();
  }

  /** The base URL a provider of this format is configured with: {@code .../v1} for OpenAI, the root for Ollama. */
  public String baseUrl() {
    return "http://127.0.0.1:" + port() + (format == Format.OPENAI ? "/v1" : "");
  }

  public FakeProvider models(List<String> ids) {
    this.models = List.copyOf(ids);
    return this;
  }

  public FakeProvider failModels(boolean value) {
    this.failModels = value;
    return this;
  }

  /** Completions fail with {@code status} (401 or 500); 0 lets them succeed. */
  public FakeProvider failChat(int status) {
    this.failChatStatus = status;
    return this;
  }

  /** Streams stop (the connection is cut) after {@code n} content chunks; -1: they complete. */
  public FakeProvider cutStreamsAfter(int n) {
    this.cutAfter = n;
    return this;
  }

  /** Only the next {@code n} streams are cut (see {@link #cutStreamsAfter}); later ones complete. */
  public FakeProvider cutOnly(int n) {
    cutBudget.set(n);
    return this;
  }

  public FakeProvider chunkDelay(Duration value) {
    this.chunkDelay = value;
    return this;
  }

  /** From now on completions wait until {@link #release()}. */
  public FakeProvider hold() {
    this.gate = new CompletableFuture<>();
    return this;
  }

  /** Lets held completions answer. */
  public FakeProvider release() {
    gate.complete(null);
    return this;
  }

  /** Completions waiting at the gate now. */
  public int held() {
    return held.get();
  }

  /** Completion requests received. */
  public int chats() {
    return chats.get();
  }

  /** The Bearer keys requests carried (empty string for none). */
  public List<String> seenKeys() {
    return List.copyOf(seenKeys);
  }

  private CompletionStage<HttpResponse> handle(HttpRequest req) {
    return req.entity().toStrict(10_000, system).thenCompose(strict -> {
      String body = strict.getData().utf8String();
      String auth = req.getHeader("Authorization").map(h -> h.value()).orElse("");
      String key = auth.startsWith("Bearer ") ? auth.substring(7) : "";
      seenKeys.add(key);
      String path = req.getUri().path();
      if (expectedKey != null && !expectedKey.equals(key)) {
        return done(error(401, "Incorrect API key provided", "invalid_api_key"));
      }
      boolean list = req.method() == HttpMethods.GET
          && (format == Format.OPENAI ? path.equals("/v1/models") : path.equals("/api/tags"));
      boolean chat = req.method() == HttpMethods.POST
          && (format == Format.OPENAI ? path.equals("/v1/chat/completions") : path.equals("/api/chat"));
      if (list) {
        return done(failModels ? error(500, "model listing is broken on this server", "server_error") : modelList());
      }
      if (!chat) {
        return done(error(404, "no route " + path, "not_found"));
      }
      chats.incrementAndGet();
      held.incrementAndGet();
      return gate.thenApply(v -> {
        held.decrementAndGet();
        if (failChatStatus != 0) {
          return error(failChatStatus, failChatStatus == 401 ? "Incorrect API key provided" : "upstream exploded",
              failChatStatus == 401 ? "invalid_api_key" : "server_error");
        }
        boolean stream = body.contains("\"stream\":true") || body.contains("\"stream\": true")
            || (format == Format.OLLAMA && !body.contains("\"stream\":false"));
        return stream ? streamed() : whole();
      });
    });
  }

  private static CompletionStage<HttpResponse> done(HttpResponse r) {
    return CompletableFuture.completedFuture(r);
  }

  private HttpResponse modelList() {
    StringBuilder b = new StringBuilder();
    if (format == Format.OPENAI) {
      b.append("{\"object\":\"list\",\"data\":[");
      for (int i = 0; i < models.size(); i++) {
        b.append(i == 0 ? "" : ",").append("{\"id\":\"").append(models.get(i))
            .append("\",\"object\":\"model\",\"created\":1715367049,\"owned_by\":\"system\"}");
      }
      b.append("]}");
    } else {
      b.append("{\"models\":[");
      for (int i = 0; i < models.size(); i++) {
        b.append(i == 0 ? "" : ",").append("{\"name\":\"").append(models.get(i)).append("\",\"model\":\"")
            .append(models.get(i)).append("\",\"modified_at\":\"2025-05-04T17:37:44.706015396-07:00\",\"size\":2019393189,"
                + "\"digest\":\"a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72\",\"details\":"
                + "{\"format\":\"gguf\",\"family\":\"llama\",\"parameter_size\":\"3.2B\",\"quantization_level\":\"Q4_K_M\"}}");
      }
      b.append("]}");
    }
    return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, b.toString());
  }

  private List<String> words() {
    return List.of("hello ", "from ", tag, ". ", "This ", "is ", "a ", "longer ", "answer ", "in ", "pieces.");
  }

  private HttpResponse whole() {
    String text = String.join("", words());
    String json = format == Format.OPENAI
        ? "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
            + "\"message\":{\"role\":\"assistant\",\"content\":\"" + text + "\"},\"finish_reason\":\"stop\"}],"
            + "\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":11,\"total_tokens\":16}}"
        : "{\"model\":\"m\",\"created_at\":\"2025-05-10T15:00:00Z\",\"message\":{\"role\":\"assistant\",\"content\":\""
            + text + "\"},\"done_reason\":\"stop\",\"done\":true,\"prompt_eval_count\":5,\"eval_count\":11}";
    return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, json);
  }

  private HttpResponse streamed() {
    List<String> w = words();
    boolean cut = cutAfter >= 0 && cutBudget.getAndDecrement() > 0;
    int n = cut ? Math.min(cutAfter, w.size()) : w.size();
    Source<ByteString, ?> chunks = Source.range(0, n - 1).map(i -> ByteString.fromString(piece(w.get(i), false)));
    if (!chunkDelay.isZero()) {
      chunks = chunks.throttle(1, chunkDelay);
    }
    Source<ByteString, ?> all = cut
        ? chunks.concat(Source.failed(new RuntimeException("connection cut by the test")))
        : chunks.concat(Source.single(ByteString.fromString(piece("", true))));
    return HttpResponse.create().withEntity(HttpEntities.create(format == Format.OPENAI
        ? MediaTypes.TEXT_EVENT_STREAM.toContentType() : MediaTypes.applicationWithOpenCharset("x-ndjson").toContentType(org.apache.pekko.http.javadsl.model.HttpCharsets.UTF_8),
        all));
  }

  private String piece(String text, boolean last) {
    if (format == Format.OPENAI) {
      return last
          ? "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
              + "\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"
          : "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,"
              + "\"delta\":{\"content\":\"" + text + "\"},\"finish_reason\":null}]}\n\n";
    }
    return last
        ? "{\"model\":\"m\",\"created_at\":\"2025-05-10T15:00:00Z\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},"
            + "\"done_reason\":\"stop\",\"done\":true,\"prompt_eval_count\":5,\"eval_count\":11}\n"
        : "{\"model\":\"m\",\"created_at\":\"2025-05-10T15:00:00Z\",\"message\":{\"role\":\"assistant\",\"content\":\""
            + text + "\"},\"done\":false}\n";
  }

  private HttpResponse error(int status, String message, String code) {
    String json = format == Format.OPENAI
        ? "{\"error\":{\"message\":\"" + message + "\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\""
            + code + "\"}}"
        : "{\"error\":\"" + message + "\"}";
    return HttpResponse.create().withStatus(status).withEntity(ContentTypes.APPLICATION_JSON,
        json.getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public void close() {
    gate.complete(null);
    binding.unbind();
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().join();
  }
}
