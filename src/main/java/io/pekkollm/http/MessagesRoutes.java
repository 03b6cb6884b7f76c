package io.pekkollm.http;

import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.pathEnd;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.post;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.pekkollm.api.LlmClient;
import io.pekkollm.catalog.TokenCounter;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.LlmException;
import io.pekkollm.resilience.ModelGroup;
import io.pekkollm.util.Json;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.util.ByteString;

/**
 * {@code POST /v1/messages} and {@code POST /v1/messages/count_tokens}: Anthropic's Messages API over the same core
 * as Chat Completions (routing, resilience, journal, cache, costs), any provider behind it. The key is taken from
 * {@code Authorization: Bearer} or {@code x-api-key}; every error is Anthropic's error body. {@code model} may be a
 * {@code provider/model} id, a group, or a bare id ({@code claude-sonnet-4-5}) resolved by
 * {@link LlmClient#resolveModel}. {@code anthropic-version} (a date, checked) and {@code anthropic-beta} are passed
 * on to Anthropic upstreams, as are {@code top_k} and {@code thinking}, which other providers do not take.
 */
final class MessagesRoutes {
  private static final java.util.regex.Pattern ANTHROPIC_VERSION = java.util.regex.Pattern.compile("\\d{4}-\\d{2}-\\d{2}");
  private final LlmClient client;
  private final GatewayAuth auth;
  private final RequestBodies bodies;
  private final LargeRequests largeRequests;
  private final SseResponses sse;

  MessagesRoutes(LlmClient client, GatewayAuth auth, RequestBodies bodies, LargeRequests largeRequests,
      SseResponses sse) {
    this.client = client;
    this.auth = auth;
    this.bodies = bodies;
    this.largeRequests = largeRequests;
    this.sse = sse;
  }

  /** The routes under {@code /v1}. */
  Route route() {
    return pathPrefix("messages", () -> extractRequest(req -> concat(
        pathEnd(() -> post(() -> completeWithFuture(authorized(req, this::messages)))),
        path("count_tokens", () -> post(() -> completeWithFuture(authorized(req, this::countTokens)))))));
  }

  private CompletionStage<HttpResponse> authorized(HttpRequest req,
      Function<HttpRequest, CompletionStage<HttpResponse>> handler) {
    return auth.authorized(req, true, handler);
  }

  CompletionStage<HttpResponse> messages(HttpRequest req) {
    return body(req, body -> {
      MessagesCodec.ParsedRequest parsed = MessagesCodec.readRequest(body, false);
      GatewayAuth.Caller caller = GatewayAuth.Caller.of(req);
      ChatRequest request = caller.own(prepare(parsed.request(), req));
      GatewayTracing.Trace trace = GatewayTracing.of(req);
      GatewayTracing.caller(trace, caller);
      return caller.admit(request.model())
          .thenCompose(charge -> {
            try (var scope = GatewayTracing.enter(trace)) {
              return parsed.stream() ? streamed(request, charge) : whole(request, charge);
            }
          })
          .exceptionally(ErrorResponses::anthropic);
    });
  }

  private CompletionStage<HttpResponse> countTokens(HttpRequest req) {
    return body(req, body -> {
      ChatRequest request = prepare(MessagesCodec.readRequest(body, true).request(), req);
      GatewayAuth.Caller caller = GatewayAuth.Caller.of(req);
      if (caller.key() != null && !caller.key().allows(request.model(), m -> client.routing().group(m)
          .map(ModelGroup::models).orElse(List.of()))) {
        return caller.admit(request.model()).thenApply(c -> null);
      }
      ModelGroup group = client.routing().group(request.model()).orElse(null);
      String model = group == null ? request.model() : group.models().get(0);
      int tokens = TokenCounter.shared().count(model, request).tokens();
      return CompletableFuture.completedFuture(HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON,
          Json.write(Json.object().put("input_tokens", tokens))));
    });
  }

  /** Reads the body and answers it with {@code handle}; every failure is Anthropic's error response. */
  private CompletionStage<HttpResponse> body(HttpRequest req,
      Function<JsonNode, CompletionStage<HttpResponse>> handle) {
    return bodies.read(req)
        .thenCompose(body -> largeRequests.handle(body.size(), () -> parsed(body, handle)))
        .exceptionally(ErrorResponses::anthropic);
  }

  private static CompletionStage<HttpResponse> parsed(ByteString body,
      Function<JsonNode, CompletionStage<HttpResponse>> handle) {
    try {
      if (body.isEmpty()) {
        throw LlmException.invalidRequest("the request body is empty: send a JSON object with 'model', 'max_tokens' "
            + "and 'messages'", null);
      }
      return handle.apply(RequestBodies.json(body));
    } catch (LlmException e) {
      return CompletableFuture.completedFuture(ErrorResponses.anthropic(e));
    }
  }

  /**
   * The request as the core takes it: the model resolved ({@link LlmClient#resolveModel}), and Anthropic's own
   * fields kept only when every provider it may go to is an Anthropic one.
   */
  private ChatRequest prepare(ChatRequest request, HttpRequest req) {
    req.getHeader("anthropic-version").ifPresent(h -> {
      if (!ANTHROPIC_VERSION.matcher(h.value()).matches()) {
        throw LlmException.invalidRequest("anthropic-version must be a version date such as 2023-06-01",
            "anthropic-version");
      }
    });
    String model = client.resolveModel(request.model());
    Map<String, JsonNode> extra = new LinkedHashMap<>(request.extraBody());
    if (client.providerKinds(model).equals(Set.of("anthropic"))) {
      req.getHeader("anthropic-beta").ifPresent(h -> extra.put("anthropic_beta", TextNode.valueOf(h.value())));
      req.getHeader("anthropic-version").ifPresent(h -> extra.put("anthropic_version", TextNode.valueOf(h.value())));
    } else {
      MessagesCodec.ANTHROPIC_ONLY.forEach(extra::remove);
    }
    return request.toBuilder().model(model).extraBody(extra).build();
  }

  private CompletionStage<HttpResponse> whole(ChatRequest request, GatewayAuth.Charge charge) {
    return client.chat(request).handle((resp, err) -> GatewayAuth.Charge.after(
            ChatCompletionRoutes.settle(charge, request.model(), resp), resp, err))
        .thenCompose(charged -> charged)
        .handle((resp, err) -> {
          if (err != null) {
            return ErrorResponses.anthropic(err);
          }
          return HttpResponse.create()
              .withEntity(ContentTypes.APPLICATION_JSON, MessagesCodec.writeMessage(resp, MessagesCodec.newId()))
              .addHeader(RawHeader.create("X-Served-Model", resp.model()))
              .addHeaders(ResponseHeaders.truncation(resp.truncation()))
              .addHeaders(ResponseHeaders.cache(resp.cacheStatus()));
        });
  }

  private CompletionStage<HttpResponse> streamed(ChatRequest request, GatewayAuth.Charge charge) {
    String id = MessagesCodec.newId();
    return sse.stream(client, request, served -> new MessagesEvents(id, served), charge, StreamOrigin.messages(id));
  }
}
