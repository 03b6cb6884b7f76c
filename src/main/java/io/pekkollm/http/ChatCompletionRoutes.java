package io.pekkollm.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.ResponseFormat;
import io.pekkollm.structured.Structured;
import io.pekkollm.structured.StructuredOutput;
import io.pekkollm.structured.StructuredOutputException;
import io.pekkollm.util.Json;
import java.util.List;
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
    GatewayAuth.Caller caller = GatewayAuth.Caller.of(req);
    GatewayTracing.Trace trace = GatewayTracing.of(req);
    GatewayTracing.caller(trace, caller);
    return bodies.read(req).thenCompose(body -> largeRequests.handle(body.size(), () -> handleBody(body, caller, trace)))
        .exceptionally(ErrorResponses::of);
  }

  private CompletionStage<HttpResponse> handleBody(ByteString body, GatewayAuth.Caller caller,
      GatewayTracing.Trace trace) {
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
    ChatRequest request = caller.own(parsed.request());
    return caller.admit(request.model()).thenCompose(charge -> {
      // The client call is made on this thread, now: it takes the request's trace context from here.
      try (var scope = GatewayTracing.enter(trace)) {
        if (parsed.validateSchema()) {
          return validated(request, charge);
        }
        return parsed.stream() ? streamed(parsed, request, charge) : whole(request, charge);
      }
    });
  }

  /** Settles {@code charge} with the cost of {@code resp} (null: the call failed): see {@link GatewayAuth.Charge}. */
  static CompletionStage<Void> settle(GatewayAuth.Charge charge, String requested, ChatResponse resp) {
    if (resp == null) {
      return charge.settle(requested, null, 0);
    } else {
      return charge.settle(resp.model(), resp.cost().map(io.pekkollm.model.Cost::total).orElse(null),
          resp.usage() == null ? 0 : resp.usage().totalTokens());
    }
  }

  /**
   * {@code validate_schema: true}: the answer validated against the request's json_schema, repaired by asking
   * again ({@link StructuredOutput}); answers the extracted JSON as the message content, or 422 with every
   * attempt's problems. Usage is the last model call's.
   */
  private CompletionStage<HttpResponse> validated(ChatRequest request, GatewayAuth.Charge charge) {
    ResponseFormat rf = request.responseFormat();
    StructuredOutput<JsonNode> output;
    try {
      output = StructuredOutput.of(rf.schemaName(), rf.schema());
    } catch (IllegalArgumentException e) {
      charge.settle(request.model(), null, 0);
      return CompletableFuture.completedFuture(ErrorResponses.simple(ErrorKind.INVALID_REQUEST, 400,
          "response_format.json_schema.schema: " + e.getMessage(), "response_format"));
    }
    return client.chat(request, output).handle((s, err) -> GatewayAuth.Charge.after(
            settle(charge, request.model(), s == null ? null : s.response()), s, err))
        .thenCompose(charged -> charged)
        .handle(ChatCompletionRoutes::validatedResponse);
  }

  private static HttpResponse validatedResponse(Structured<JsonNode> s, Throwable err) {
    if (err != null) {
      LlmException e = ErrorResponses.unwrap(err);
      if (e instanceof StructuredOutputException so) {
        ObjectNode body = (ObjectNode) ErrorResponses.parse(ChatCompletionsCodec.writeError(so.getMessage(),
            "invalid_response_error", "response_format", "schema_validation_failed"));
        ArrayNode attempts = ((ObjectNode) body.get("error")).putArray("attempts");
        so.attempts().forEach(a -> {
          ObjectNode o = attempts.addObject().put("raw_text", a.rawText());
          a.errors().forEach(o.putArray("errors")::add);
        });
        return ErrorResponses.json(422, Json.write(body), List.of());
      }
      return ErrorResponses.of(err);
    }
    ChatResponse r = s.response();
    ChatResponse valid = new ChatResponse(r.id(), r.model(), r.providerModel(), Json.write(s.json()), r.reasoning(),
        r.toolCalls(), r.finishReason(), r.usage(), r.cost().orElse(null), r.truncation().orElse(null),
        r.cacheStatus().orElse(null));
    return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON,
            ChatCompletionsCodec.writeResponse(valid, ResponseHeaders.newId(), ResponseHeaders.nowSeconds()))
        .addHeader(RawHeader.create("X-Served-Model", r.model()))
        .addHeader(RawHeader.create("X-Schema-Attempts", Integer.toString(s.attempts())));
  }

  private CompletionStage<HttpResponse> whole(ChatRequest request, GatewayAuth.Charge charge) {
    return client.chat(request).handle((resp, err) -> GatewayAuth.Charge.after(
            settle(charge, request.model(), resp), resp, err))
        .thenCompose(charged -> charged)
        .handle((resp, err) -> {
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

  private CompletionStage<HttpResponse> streamed(ChatCompletionsCodec.ParsedRequest parsed, ChatRequest request,
      GatewayAuth.Charge charge) {
    return sse.stream(client, request, served -> new ChatCompletionsEvents(ResponseHeaders.newId(), served,
        ResponseHeaders.nowSeconds(), parsed.includeUsage(),
        (providerModel, usage) -> client.cost(served.get(), providerModel, usage).orElse(null)), charge);
  }
}
