package io.pekkollm.provider.openai;

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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.http.javadsl.model.headers.Authorization;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * OpenAI Chat Completions, and every OpenAI-compatible host through it (Groq, Together, Fireworks, DeepSeek,
 * xAI, OpenRouter, Mistral, Perplexity, Meta Llama API, vLLM, LM Studio): each is this class with its own
 * base URL, key and settings. Thread-safe.
 */
public final class OpenAiProvider extends HttpChatProvider {
  private final String maxTokensField;
  private final List<HttpHeader> fixedHeaders;
  // Parsed once: parsing the URI of every request was ~4% of a non-streamed call.
  private final Uri chatUri;

  public OpenAiProvider(ProviderSettings settings, ActorSystem<?> system) {
    super(settings, system);
    this.maxTokensField = settings.config().hasPath("max-tokens-field")
        ? settings.config().getString("max-tokens-field") : "max_tokens";
    List<HttpHeader> hs = new ArrayList<>();
    if (!settings.apiKey().isEmpty()) {
      hs.add(Authorization.oauth2(settings.apiKey()));
    }
    settings.headers().forEach((k, v) -> hs.add(RawHeader.create(k, v)));
    this.fixedHeaders = List.copyOf(hs);
    this.chatUri = parsedOrNull(settings.baseUrl() + "/chat/completions");
  }

  @Override
  protected HttpRequest toHttpRequest(ChatRequest request, boolean streaming) {
    byte[] body = Json.writeBytes(OpenAiMapper.requestBody(request, streaming, settings.streamUsage(), maxTokensField));
    // A base URL that does not parse fails here, per request, as before: classified, not a crashed actor.
    HttpRequest post = chatUri != null ? HttpRequest.create().withMethod(HttpMethods.POST).withUri(chatUri)
        : HttpRequest.POST(settings.baseUrl() + "/chat/completions");
    return post
        .addHeaders(fixedHeaders)
        .withEntity(ContentTypes.APPLICATION_JSON, body);
  }

  private static Uri parsedOrNull(String url) {
    try {
      return Uri.create(url);
    } catch (RuntimeException e) {
      return null;
    }
  }

  @Override
  protected StreamDecoder newDecoder(ChatRequest request) {
    return new Decoder(name());
  }

  @Override
  protected List<ChatChunk> parseBody(String body) {
    try {
      JsonNode node = Json.parse(body);
      failOnError(name(), null, node, body);
      return List.of(OpenAiMapper.readCompletion(node));
    } catch (java.io.IOException e) {
      throw ErrorClassifier.malformed(name(), "response body is not JSON: " + e.getMessage(), body, e);
    }
  }

  /** {@code POST {base-url}/embeddings}, OpenAI's embeddings API (also served by most compatible hosts). */
  @Override
  public CompletionStage<EmbeddingResponse> embed(EmbeddingRequest request, Map<String, String> headers) {
    return embedWith(() -> HttpRequest.POST(settings.baseUrl() + "/embeddings").addHeaders(fixedHeaders)
            .withEntity(ContentTypes.APPLICATION_JSON, Json.writeBytes(OpenAiMapper.embeddingBody(request))), headers,
        (root, body) -> OpenAiMapper.readEmbeddings(name(), request, root, body));
  }

  @Override
  public CompletionStage<List<ModelInfo>> listModels() {
    HttpRequest req = HttpRequest.GET(settings.baseUrl() + "/models").addHeaders(fixedHeaders);
    return getJson(req).thenApply(root -> {
      List<ModelInfo> out = new ArrayList<>();
      for (JsonNode m : root.path("data")) {
        String id = Json.text(m, "id");
        if (id != null) {
          out.add(new ModelInfo(name() + "/" + id, name(), m.path("created").asLong(0), Json.text(m, "owned_by")));
        }
      }
      return out;
    });
  }

  /**
   * Fails on an error object anywhere in an answer: a chunk or a whole body with a top-level {@code error},
   * even beside {@code choices} (OpenRouter's form for a provider failing mid-answer, with
   * {@code finish_reason: "error"}), is an upstream failure, never an answer that ended normally.
   */
  private static void failOnError(String provider, String eventType, JsonNode node, String raw) {
    if ("error".equals(eventType) || node.path("error").isObject() || node.path("error").isTextual()) {
      throw ErrorClassifier.midStream(provider, ErrorClassifier.parseCommonBody(raw), raw);
    }
  }

  /** Decodes {@code data:} events; {@code [DONE]} ends the stream, error objects fail it. */
  private static final class Decoder implements StreamDecoder {
    private final String provider;
    private boolean complete;
    private boolean started;

    Decoder(String provider) {
      this.provider = provider;
    }

    @Override
    public List<ChatChunk> onFrame(String eventType, String data) {
      if (data.equals("[DONE]")) {
        complete = true;
        return List.of();
      }
      JsonNode node;
      try {
        node = Json.parse(data);
      } catch (java.io.IOException e) {
        throw ErrorClassifier.malformed(provider, "stream event is not JSON: " + e.getMessage(), data, e);
      }
      failOnError(provider, eventType, node, data);
      ChatChunk chunk = OpenAiMapper.readChunk(node);
      if (chunk.finishReason() != null) {
        // Some compatible servers end after the finish chunk without [DONE]; usage may still follow.
        complete = true;
      }
      if (chunk.isEmpty() && started) {
        return List.of();
      }
      // The first chunk is kept even when empty (the role-only chunk these servers send as soon as they accept a
      // request): it is the earliest sign that the answer has begun, and the caller's first event waits on it.
      started = true;
      return List.of(chunk);
    }

    @Override
    public boolean isComplete() {
      return complete;
    }
  }
}
