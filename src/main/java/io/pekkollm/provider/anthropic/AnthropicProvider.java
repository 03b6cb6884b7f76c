package io.pekkollm.provider.anthropic;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.stream.javadsl.Source;

/**
 * Anthropic's Messages API ({@code POST /v1/messages}), streamed as typed SSE events, and its model list
 * ({@code GET /v1/models}). The base URL has no {@code /v1} (as in Anthropic's SDKs); the key goes in
 * {@code x-api-key} with {@code anthropic-version}.
 *
 * <p>Settings beyond the common ones ({@code pekko-llm.providers.anthropic}): {@code default-max-tokens}
 * (sent when a request sets no max tokens, since the API requires the field; default 4096) and
 * {@code api-version} (default {@code 2023-06-01}). Request translation, JSON mode and prefill are described
 * on {@link AnthropicMapper}. A request's {@code extraBody.anthropic_beta} (a comma-separated list of beta names,
 * as the gateway's Messages API receives it from its client) is sent as the {@code anthropic-beta} header.
 *
 * <p>Thread-safe.
 */
public final class AnthropicProvider extends HttpChatProvider {
  static final String DEFAULT_API_VERSION = "2023-06-01";
  static final int DEFAULT_MAX_TOKENS = 4096;
  /** Pages followed when listing models; the API's page limit is 1000, so one page is the normal case. */
  private static final int MAX_MODEL_PAGES = 20;

  private final int defaultMaxTokens;
  private final List<HttpHeader> fixedHeaders;
  /** {@link #fixedHeaders} but the version: for a request whose caller named its own. */
  private final List<HttpHeader> unversionedHeaders;

  public AnthropicProvider(ProviderSettings settings, ActorSystem<?> system) {
    super(settings, system);
    var config = settings.config();
    this.defaultMaxTokens = config.hasPath("default-max-tokens") ? config.getInt("default-max-tokens")
        : DEFAULT_MAX_TOKENS;
    if (defaultMaxTokens < 1) {
      throw new IllegalArgumentException("pekko-llm.providers." + settings.name()
          + ".default-max-tokens must be at least 1, not " + defaultMaxTokens);
    }
    String version = config.hasPath("api-version") ? config.getString("api-version") : DEFAULT_API_VERSION;
    List<HttpHeader> hs = new ArrayList<>();
    if (!settings.apiKey().isEmpty()) {
      hs.add(RawHeader.create("x-api-key", settings.apiKey()));
    }
    settings.headers().forEach((k, v) -> hs.add(RawHeader.create(k, v)));
    this.unversionedHeaders = List.copyOf(hs);
    hs.add(RawHeader.create("anthropic-version", version));
    this.fixedHeaders = List.copyOf(hs);
  }

  @Override
  protected java.util.function.Function<ChatChunk, List<ChatChunk>> chunkTransform(ChatRequest request) {
    String jsonTool = AnthropicMapper.jsonToolName(request);
    // A fresh unwrapper per response: it keeps per-response state.
    return jsonTool == null ? null : new JsonToolUnwrapper(jsonTool)::apply;
  }

  @Override
  protected HttpRequest toHttpRequest(ChatRequest request, boolean streaming) {
    byte[] body = Json.writeBytes(AnthropicMapper.toRequest(request, streaming, defaultMaxTokens));
    HttpRequest http = HttpRequest.POST(settings.baseUrl() + "/v1/messages")
        .withEntity(ContentTypes.APPLICATION_JSON, body);
    // The Messages ingress passes on the version its client sent (Anthropic's wire format has had one since
    // 2023-06-01, the one the decoder reads); any other caller gets the configured api-version.
    JsonNode version = request.extraBody().get(AnthropicMapper.VERSION_FIELD);
    http = version != null && version.isTextual() && !version.asText().isBlank()
        ? http.addHeaders(unversionedHeaders).addHeader(RawHeader.create("anthropic-version", version.asText()))
        : http.addHeaders(fixedHeaders);
    JsonNode beta = request.extraBody().get(AnthropicMapper.BETA_FIELD);
    return beta != null && beta.isTextual() && !beta.asText().isBlank()
        ? http.addHeader(RawHeader.create("anthropic-beta", beta.asText())) : http;
  }

  @Override
  protected StreamDecoder newDecoder(ChatRequest request) {
    return new AnthropicStreamDecoder(name());
  }

  @Override
  protected List<ChatChunk> parseBody(String body) {
    JsonNode node;
    try {
      node = Json.parse(body);
    } catch (java.io.IOException e) {
      throw ErrorClassifier.malformed(name(), "response body is not JSON: " + e.getMessage(), body, e);
    }
    if (node == null || !node.isObject() || !node.has("content")) {
      throw ErrorClassifier.malformed(name(), "response body is not a message (no 'content')", body, null);
    }
    return List.of(AnthropicMapper.fromMessage(node));
  }

  @Override
  public CompletionStage<List<ModelInfo>> listModels() {
    return listModels(null, new ArrayList<>(), 0);
  }

  private CompletionStage<List<ModelInfo>> listModels(String afterId, List<ModelInfo> acc, int page) {
    String url = settings.baseUrl() + "/v1/models?limit=1000"
        + (afterId == null ? "" : "&after_id=" + URLEncoder.encode(afterId, StandardCharsets.UTF_8));
    HttpRequest req = HttpRequest.GET(url).addHeaders(fixedHeaders);
    return getJson(req).thenCompose(root -> {
      acc.addAll(AnthropicMapper.models(name(), root));
      String last = Json.text(root, "last_id");
      if (root.path("has_more").asBoolean(false) && last != null && page + 1 < MAX_MODEL_PAGES) {
        return listModels(last, acc, page + 1);
      }
      return CompletableFuture.completedFuture(List.copyOf(acc));
    });
  }
}
