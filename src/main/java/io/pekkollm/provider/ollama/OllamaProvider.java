package io.pekkollm.provider.ollama;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.EmbeddingRequest;
import io.pekkollm.model.EmbeddingResponse;
import io.pekkollm.model.ModelInfo;
import io.pekkollm.provider.ErrorClassifier;
import io.pekkollm.stream.Framing;
import io.pekkollm.provider.HttpChatProvider;
import io.pekkollm.provider.ProviderSettings;
import io.pekkollm.provider.StreamDecoder;
import io.pekkollm.util.Json;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.Authorization;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * Ollama's native chat API ({@code POST /api/chat}, NDJSON streams) and model list ({@code GET /api/tags}).
 * Ollama reports token counts only on its final ({@code done}) line, gives tool arguments as JSON objects
 * (turned into JSON text here) without call ids (generated here), and reports errors as
 * {@code {"error": "..."}}, both with an HTTP error status and as a line in the middle of a 200 stream.
 *
 * <p>The server address comes from {@code OLLAMA_HOST} in any form Ollama itself accepts (see
 * {@link #normalizeHost(String)}); no key is needed, but {@code OLLAMA_API_KEY} is sent as a Bearer token
 * when set. Thread-safe.
 */
public final class OllamaProvider extends HttpChatProvider {
  private static final int DEFAULT_PORT = 11434;

  private final String baseUrl;
  private final String keepAlive;
  private final List<HttpHeader> fixedHeaders;

  public OllamaProvider(ProviderSettings settings, ActorSystem<?> system) {
    super(settings, system);
    this.baseUrl = normalizeHost(settings.baseUrl());
    this.keepAlive = settings.config().hasPath("keep-alive") ? settings.config().getString("keep-alive") : "";
    List<HttpHeader> hs = new ArrayList<>();
    if (!settings.apiKey().isEmpty()) {
      hs.add(Authorization.oauth2(settings.apiKey()));
    }
    settings.headers().forEach((k, v) -> hs.add(RawHeader.create(k, v)));
    this.fixedHeaders = List.copyOf(hs);
  }

  /**
   * Reads {@code OLLAMA_HOST} the way Ollama's own client does: a missing scheme means {@code http}, a
   * missing port means 11434 (80/443 when the scheme was given explicitly), and the bind-all address
   * {@code 0.0.0.0} means this machine. A trailing slash is dropped.
   */
  static String normalizeHost(String host) {
    String h = host.strip();
    while (h.endsWith("/")) {
      h = h.substring(0, h.length() - 1);
    }
    String scheme = "http";
    int sep = h.indexOf("://");
    boolean explicitScheme = sep >= 0;
    if (explicitScheme) {
      scheme = h.substring(0, sep);
      h = h.substring(sep + 3);
    }
    int slash = h.indexOf('/');
    String path = slash >= 0 ? h.substring(slash) : "";
    String hostPort = slash >= 0 ? h.substring(0, slash) : h;
    boolean hasPort = hostPort.startsWith("[") ? hostPort.contains("]:") : hostPort.contains(":");
    if (!hasPort) {
      int port = !explicitScheme ? DEFAULT_PORT : scheme.equals("https") ? 443 : 80;
      hostPort = (hostPort.isEmpty() ? "127.0.0.1" : hostPort) + ":" + port;
    }
    if (hostPort.startsWith("0.0.0.0:")) {
      hostPort = "127.0.0.1" + hostPort.substring("0.0.0.0".length());
    }
    return scheme + "://" + hostPort + path;
  }

  /** The normalized server address requests go to. */
  public String baseUrl() {
    return baseUrl;
  }

  @Override
  protected Framing framing() {
    return Framing.NDJSON;
  }

  /** {@code POST /api/embed} with every input at once ({@code embeddings}, {@code prompt_eval_count}). */
  @Override
  public CompletionStage<EmbeddingResponse> embed(EmbeddingRequest request, Map<String, String> headers) {
    return embedWith(() -> HttpRequest.POST(baseUrl + "/api/embed").addHeaders(fixedHeaders)
            .withEntity(ContentTypes.APPLICATION_JSON, Json.writeBytes(OllamaMapper.embeddingBody(request))), headers,
        (root, body) -> OllamaMapper.readEmbeddings(name(), request, root, body));
  }

  @Override
  protected HttpRequest toHttpRequest(ChatRequest request, boolean streaming) {
    byte[] body = Json.writeBytes(OllamaMapper.toRequest(request, streaming, keepAlive));
    return HttpRequest.POST(baseUrl + "/api/chat")
        .addHeaders(fixedHeaders)
        .withEntity(ContentTypes.APPLICATION_JSON, body);
  }

  @Override
  protected StreamDecoder newDecoder(ChatRequest request) {
    return new Decoder(name());
  }

  @Override
  protected List<ChatChunk> parseBody(String body) {
    JsonNode root;
    try {
      root = Json.parse(body);
    } catch (IOException e) {
      throw ErrorClassifier.malformed(name(), "response body is not JSON: " + e.getMessage(), body, e);
    }
    ChatChunk chunk = new OllamaMapper.Reader().read(root);
    return chunk.isEmpty() ? List.of() : List.of(chunk);
  }

  @Override
  public CompletionStage<List<ModelInfo>> listModels() {
    HttpRequest req = HttpRequest.GET(baseUrl + "/api/tags").addHeaders(fixedHeaders);
    return getJson(req).thenApply(root -> OllamaMapper.readTags(name(), root));
  }

  /** One NDJSON line per frame; the {@code done} line ends the answer, an {@code error} line fails it. */
  private static final class Decoder implements StreamDecoder {
    private final String provider;
    private final OllamaMapper.Reader reader = new OllamaMapper.Reader();

    Decoder(String provider) {
      this.provider = provider;
    }

    @Override
    public List<ChatChunk> onFrame(String eventType, String data) {
      JsonNode line;
      try {
        line = Json.parse(data);
      } catch (IOException e) {
        throw ErrorClassifier.malformed(provider, "stream line is not JSON: " + e.getMessage(), data, e);
      }
      if (line.has("error")) {
        // Ollama keeps HTTP 200 once streaming started and reports a failure as an error line.
        throw ErrorClassifier.midStream(provider, ErrorClassifier.parseCommonBody(data), data);
      }
      ChatChunk chunk = reader.read(line);
      return chunk.isEmpty() ? List.of() : List.of(chunk);
    }

    @Override
    public boolean isComplete() {
      return reader.isDone();
    }
  }
}
