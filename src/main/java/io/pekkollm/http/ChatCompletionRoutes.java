package io.pekkollm.http;

import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.LlmException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.util.ByteString;

/**
 * {@code POST /v1/chat/completions}: OpenAI's Chat Completions, a JSON answer or SSE ({@code stream: true}), any
 * provider behind it. The body is read by {@link RequestBodies} (large ones on their own pool,
 * {@link LargeRequests}), parsed by {@link ChatCompletionsCodec}, and answered through the client.
 */
final class ChatCompletionRoutes {
  private final LlmClient client;
  private final RequestBodies bodies;
  private final LargeRequests largeRequests;
  private final SseResponses sse;

  ChatCompletionRoutes(LlmClient client, RequestBodies bodies, LargeRequests largeRequests, SseResponses sse) {
    this.client = client;
    this.bodies = bodies;
    this.largeRequests = largeRequests;
    this.sse = sse;
  }

  CompletionStage<HttpResponse> handle(HttpRequest req) {
    return bodies.read(req).thenCompose(body -> largeRequests.handle(body.size(), () -> handleBody(body)))
        .exceptionally(ErrorResponses::of);
  }

  private CompletionStage<HttpResponse> handleBody(ByteString body) {
    ChatCompletionsCodec.ParsedRequest parsed;
    try {
      if (body.isEmpty()) {
        throw LlmException.invalidRequest("the request body is empty: send a JSON object with 'model' and 'messages'",
            null);
      }
      parsed = ChatCompletionsCodec.readRequest(RequestBodies.json(body));
    } catch (LlmException e) {
      return CompletableFuture.completedFuture(ErrorResponses.of(e));
    }
    return parsed.stream() ? streamed(parsed) : whole(parsed.request());
  }

  private CompletionStage<HttpResponse> whole(ChatRequest request) {
    return client.chat(request).handle((resp, err) -> {
      if (err != null) {
        return ErrorResponses.of(err);
      }
      String json = ChatCompletionsCodec.writeResponse(resp, ResponseHeaders.newId(), ResponseHeaders.nowSeconds());
      return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, json)
          .addHeader(RawHeader.create("X-Served-Model", resp.model()))
          .addHeaders(ResponseHeaders.truncation(resp.truncation()))
          .addHeaders(ResponseHeaders.cache(resp.cacheStatus()));
    });
  }

  private CompletionStage<HttpResponse> streamed(ChatCompletionsCodec.ParsedRequest parsed) {
    return sse.stream(client, parsed.request(), served -> new ChatCompletionsEvents(ResponseHeaders.newId(), served,
        ResponseHeaders.nowSeconds(), parsed.includeUsage(),
        (providerModel, usage) -> client.cost(served.get(), providerModel, usage).orElse(null)));
  }
}
