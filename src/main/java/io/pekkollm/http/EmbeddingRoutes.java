package io.pekkollm.http;

import static org.apache.pekko.http.javadsl.server.Directives.completeWithFuture;
import static org.apache.pekko.http.javadsl.server.Directives.extractRequest;
import static org.apache.pekko.http.javadsl.server.Directives.path;
import static org.apache.pekko.http.javadsl.server.Directives.post;

import io.pekkollm.api.LlmClient;
import io.pekkollm.model.LlmException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.util.ByteString;

/**
 * {@code POST /v1/embeddings}: OpenAI's embeddings API over every provider with embedding models (see
 * {@link LlmClient#embed}); the request and answer shapes are {@link EmbeddingsCodec}'s, errors OpenAI's. The
 * serving model is also in {@code X-Served-Model}; with the response cache, {@code X-Cache} and {@code X-Cache-Key}
 * as on chat completions.
 */
final class EmbeddingRoutes {
  private final LlmClient client;
  private final RequestBodies bodies;

  EmbeddingRoutes(LlmClient client, RequestBodies bodies) {
    this.client = client;
    this.bodies = bodies;
  }

  Route route() {
    return path("embeddings", () -> post(() -> extractRequest(req -> completeWithFuture(handle(req)))));
  }

  /** The client call, in the request's trace context. */
  private CompletionStage<io.pekkollm.model.EmbeddingResponse> embed(EmbeddingsCodec.Parsed parsed,
      GatewayTracing.Trace trace) {
    try (var scope = GatewayTracing.enter(trace)) {
      return client.embed(parsed.request());
    }
  }

  CompletionStage<HttpResponse> handle(HttpRequest req) {
    GatewayAuth.Caller caller = GatewayAuth.Caller.of(req);
    GatewayTracing.Trace trace = GatewayTracing.of(req);
    return bodies.read(req).thenCompose(body -> handleBody(body, caller, trace)).exceptionally(ErrorResponses::of);
  }

  private CompletionStage<HttpResponse> handleBody(ByteString body, GatewayAuth.Caller caller,
      GatewayTracing.Trace trace) {
    EmbeddingsCodec.Parsed parsed;
    try {
      if (body.isEmpty()) {
        throw LlmException.invalidRequest("the request body is empty: send a JSON object with 'model' and 'input'",
            null);
      }
      parsed = EmbeddingsCodec.readRequest(RequestBodies.json(body));
    } catch (LlmException e) {
      return CompletableFuture.completedFuture(ErrorResponses.of(e));
    }
    return caller.admit(parsed.request().model()).thenCompose(charge -> embed(parsed, trace)
        .handle((resp, err) -> GatewayAuth.Charge.after(charge.settle(
            resp == null ? parsed.request().model() : resp.model(),
            resp == null || resp.cost() == null ? null : resp.cost().total(),
            resp == null || resp.usage() == null ? 0 : resp.usage().totalTokens()), resp, err))
        .thenCompose(charged -> charged))
        .handle((resp, err) -> err != null ? ErrorResponses.of(err)
        : HttpResponse.create()
            .withEntity(ContentTypes.APPLICATION_JSON, EmbeddingsCodec.writeResponse(resp, parsed.base64()))
            .addHeader(RawHeader.create("X-Served-Model", resp.model()))
            .addHeaders(ResponseHeaders.cache(resp.cache())));
  }
}
