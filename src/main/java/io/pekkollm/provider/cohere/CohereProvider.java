package io.pekkollm.provider.cohere;

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
 * Cohere's v2 chat API ({@code POST {base}/v2/chat}, SSE streams with kebab-case event types) and model list
 * ({@code GET {base}/v1/models?endpoint=chat}). The base URL is {@code COHERE_BASE_URL} (default
 * {@code https://api.cohere.com}); the key {@code COHERE_API_KEY} is sent as a Bearer token. Error bodies are
 * {@code {"message": "..."}}. Thread-safe.
 */
public final class CohereProvider extends HttpChatProvider {
  private final List<HttpHeader> fixedHeaders;

  public CohereProvider(ProviderSettings settings, ActorSystem<?> system) {
    super(settings, system);
    List<HttpHeader> hs = new ArrayList<>();
    if (!settings.apiKey().isEmpty()) {
      hs.add(Authorization.oauth2(settings.apiKey()));
    }
    settings.headers().forEach((k, v) -> hs.add(RawHeader.create(k, v)));
    this.fixedHeaders = List.copyOf(hs);
  }

  /** {@code POST /v2/embed}. */
  @Override
  public CompletionStage<EmbeddingResponse> embed(EmbeddingRequest request, Map<String, String> headers) {
    return embedWith(() -> HttpRequest.POST(settings.baseUrl() + "/v2/embed").addHeaders(fixedHeaders)
            .withEntity(ContentTypes.APPLICATION_JSON, Json.writeBytes(CohereMapper.embeddingBody(request))), headers,
        (root, body) -> CohereMapper.readEmbeddings(name(), request, root, body));
  }

  @Override
  protected HttpRequest toHttpRequest(ChatRequest request, boolean streaming) {
    byte[] body = Json.writeBytes(CohereMapper.toRequest(request, streaming));
    return HttpRequest.POST(settings.baseUrl() + "/v2/chat")
        .addHeaders(fixedHeaders)
        .withEntity(ContentTypes.APPLICATION_JSON, body);
  }

  @Override
  protected StreamDecoder newDecoder(ChatRequest request) {
    return new Decoder(name());
  }

  @Override
  protected List<ChatChunk> parseBody(String body) {
    try {
      ChatChunk chunk = CohereMapper.readResponse(Json.parse(body));
      return chunk.isEmpty() ? List.of() : List.of(chunk);
    } catch (IOException e) {
      throw ErrorClassifier.malformed(name(), "response body is not JSON: " + e.getMessage(), body, e);
    }
  }

  @Override
  public CompletionStage<List<ModelInfo>> listModels() {
    HttpRequest req = HttpRequest.GET(settings.baseUrl() + "/v1/models?endpoint=chat&page_size=1000")
        .addHeaders(fixedHeaders);
    return getJson(req).thenApply(root -> CohereMapper.readModels(name(), root));
  }

  /**
   * Decodes the SSE events; {@code message-end} finishes the answer. The event's own {@code type} field is
   * authoritative ({@code event:} lines are the same name). An event that is an error object (no
   * {@code type}, a {@code message}) fails the stream.
   */
  private static final class Decoder implements StreamDecoder {
    private final String provider;
    private final CohereMapper.StreamReader reader = new CohereMapper.StreamReader();

    Decoder(String provider) {
      this.provider = provider;
    }

    @Override
    public List<ChatChunk> onFrame(String eventType, String data) {
      if (data.equals("[DONE]")) {
        // Not documented for v2, but Cohere's own SDK tolerates it.
        return List.of();
      }
      JsonNode event;
      try {
        event = Json.parse(data);
      } catch (IOException e) {
        throw ErrorClassifier.malformed(provider, "stream event is not JSON: " + e.getMessage(), data, e);
      }
      String type = Json.text(event, "type");
      if (type == null) {
        type = eventType;
      }
      if ("error".equals(type) || type == null && (event.has("message") || event.has("error"))) {
        throw ErrorClassifier.midStream(provider, ErrorClassifier.parseCommonBody(data), data);
      }
      ChatChunk chunk = type == null ? null : reader.read(type, event);
      return chunk == null || chunk.isEmpty() ? List.of() : List.of(chunk);
    }

    @Override
    public boolean isComplete() {
      return reader.isEnded();
    }
  }
}
