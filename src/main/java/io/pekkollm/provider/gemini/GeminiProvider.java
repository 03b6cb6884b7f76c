package io.pekkollm.provider.gemini;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.EmbeddingRequest;
import io.pekkollm.model.EmbeddingResponse;
import io.pekkollm.model.ModelInfo;
import io.pekkollm.provider.ErrorClassifier;
import io.pekkollm.provider.HttpChatProvider;
import io.pekkollm.provider.ProviderSettings;
import io.pekkollm.provider.StreamDecoder;
import io.pekkollm.util.Json;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * The Gemini API: {@code POST /v1beta/models/{model}:generateContent}, streamed with
 * {@code :streamGenerateContent?alt=sse}, and the model list {@code GET /v1beta/models} (only models that
 * support {@code generateContent}, ids without the {@code models/} prefix). The key goes in the
 * {@code x-goog-api-key} header, never in the URL, so it cannot leak into logged URLs.
 *
 * <p>Settings beyond the common ones ({@code pekko-llm.providers.gemini}): {@code api-version} (the path
 * segment, default {@code v1beta}). Request translation is described on {@link GeminiMapper}, stream
 * decoding on {@link GeminiStreamDecoder}.
 *
 * <p>Thread-safe.
 */
public final class GeminiProvider extends HttpChatProvider {
  static final String DEFAULT_API_VERSION = "v1beta";
  /** Pages followed when listing models (1000 per page, the API's maximum). */
  private static final int MAX_MODEL_PAGES = 20;

  private final String apiVersion;
  private final List<HttpHeader> fixedHeaders;

  public GeminiProvider(ProviderSettings settings, ActorSystem<?> system) {
    super(settings, system);
    this.apiVersion = settings.config().hasPath("api-version") ? settings.config().getString("api-version")
        : DEFAULT_API_VERSION;
    List<HttpHeader> hs = new ArrayList<>();
    if (!settings.apiKey().isEmpty()) {
      hs.add(RawHeader.create("x-goog-api-key", settings.apiKey()));
    }
    settings.headers().forEach((k, v) -> hs.add(RawHeader.create(k, v)));
    this.fixedHeaders = List.copyOf(hs);
  }

  @Override
  protected HttpRequest toHttpRequest(ChatRequest request, boolean streaming) {
    byte[] body = Json.writeBytes(GeminiMapper.toRequest(request));
    String method = streaming ? ":streamGenerateContent?alt=sse" : ":generateContent";
    return HttpRequest.POST(settings.baseUrl() + "/" + apiVersion + "/models/" + GeminiMapper.modelPath(request.model())
            + method)
        .addHeaders(fixedHeaders)
        .withEntity(ContentTypes.APPLICATION_JSON, body);
  }

  /** {@code POST /<api-version>/models/<model>:batchEmbedContents}. */
  @Override
  public CompletionStage<EmbeddingResponse> embed(EmbeddingRequest request, Map<String, String> headers) {
    return embedWith(() -> HttpRequest.POST(settings.baseUrl() + "/" + apiVersion + "/models/"
                + GeminiMapper.modelPath(request.model()) + ":batchEmbedContents")
            .addHeaders(fixedHeaders)
            .withEntity(ContentTypes.APPLICATION_JSON, Json.writeBytes(GeminiMapper.embeddingBody(request))), headers,
        (root, body) -> GeminiMapper.readEmbeddings(name(), request, root, body));
  }

  @Override
  protected StreamDecoder newDecoder(ChatRequest request) {
    return new GeminiStreamDecoder(name());
  }

  /**
   * A whole response; also accepts the JSON array that {@code streamGenerateContent} answers without
   * {@code alt=sse}, read as the stream it stands for.
   */
  @Override
  protected List<ChatChunk> parseBody(String body) {
    JsonNode node;
    try {
      node = Json.parse(body);
    } catch (java.io.IOException e) {
      throw ErrorClassifier.malformed(name(), "response body is not JSON: " + e.getMessage(), body, e);
    }
    GeminiStreamDecoder reader = new GeminiStreamDecoder(name());
    List<JsonNode> responses = new ArrayList<>();
    if (node != null && node.isArray()) {
      node.forEach(responses::add);
    } else if (node != null && node.isObject()) {
      responses.add(node);
    }
    List<ChatChunk> out = new ArrayList<>();
    for (JsonNode r : responses) {
      if (!r.has("candidates") && !r.has("promptFeedback")) {
        throw ErrorClassifier.malformed(name(), "response has neither 'candidates' nor 'promptFeedback'", body, null);
      }
      out.addAll(reader.read(r));
    }
    if (responses.isEmpty()) {
      throw ErrorClassifier.malformed(name(), "response body is not a GenerateContentResponse", body, null);
    }
    return out;
  }

  @Override
  protected ErrorClassifier.ErrorDetails errorDetails(int status, String body) {
    return GeminiMapper.errorDetails(body);
  }

  @Override
  public CompletionStage<List<ModelInfo>> listModels() {
    return listModels(null, new ArrayList<>(), 0);
  }

  private CompletionStage<List<ModelInfo>> listModels(String pageToken, List<ModelInfo> acc, int page) {
    String url = settings.baseUrl() + "/" + apiVersion + "/models?pageSize=1000"
        + (pageToken == null ? "" : "&pageToken=" + URLEncoder.encode(pageToken, StandardCharsets.UTF_8));
    HttpRequest req = HttpRequest.GET(url).addHeaders(fixedHeaders);
    return getJson(req).thenCompose(root -> {
      acc.addAll(GeminiMapper.models(name(), root));
      String next = Json.text(root, "nextPageToken");
      if (next != null && !next.isEmpty() && page + 1 < MAX_MODEL_PAGES) {
        return listModels(next, acc, page + 1);
      }
      return CompletableFuture.completedFuture(List.copyOf(acc));
    });
  }
}
