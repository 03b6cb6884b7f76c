package io.pekkollm.http;

import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.util.ByteString;

/**
 * Reads a request body for the JSON routes: a non-empty body must be {@code application/json} (415 otherwise,
 * which also keeps browsers from sending one cross-site without a CORS preflight), at most
 * {@code max-request-bytes} (413) and received within {@code request-body-timeout} (408). Each refusal is a
 * {@link Rejected}, an {@link LlmException} with its own status, so callers turn every failure into an
 * OpenAI error body with {@link ErrorResponses#of}.
 */
final class RequestBodies {
  private final GatewaySettings settings;
  private final Materializer materializer;

  RequestBodies(GatewaySettings settings, Materializer materializer) {
    this.settings = settings;
    this.materializer = materializer;
  }

  /** The whole body, or a failed stage with a {@link Rejected} (or the stream's own error). */
  CompletionStage<ByteString> read(HttpRequest req) {
    HttpEntity entity = req.entity();
    long max = settings.maxRequestBytes();
    var length = entity.getContentLengthOption();
    boolean empty = length.isPresent() && length.getAsLong() == 0;
    if (!empty && !entity.getContentType().mediaType().equals(MediaTypes.APPLICATION_JSON)) {
      return refuseAfterDiscarding(entity, unsupportedMediaType(entity.getContentType().mediaType().toString()));
    }
    if (length.isPresent() && length.getAsLong() > max) {
      return refuseAfterDiscarding(entity, tooLarge(max));
    }
    if (entity instanceof HttpEntity.Strict strict) {
      return CompletableFuture.completedFuture(strict.getData());
    }
    long timeout = settings.requestBodyTimeout().toMillis();
    return entity.withSizeLimit(max).toStrict(timeout, materializer)
        .<ByteString>thenApply(HttpEntity.Strict::getData)
        .exceptionally(err -> {
          Throwable t = io.pekkollm.util.Futures.cause(err);
          if (t instanceof EntityStreamSizeException) {
            throw tooLarge(max);
          }
          if (t instanceof TimeoutException) {
            // toStrict's own timeout: the body did not arrive in time (a slow or stalled client).
            throw new Rejected(ErrorKind.INVALID_REQUEST, 408, "request_timeout", "the request body was not "
                + "received within " + settings.requestBodyTimeout().toMillis() + " ms "
                + "(pekko-llm.gateway.request-body-timeout)");
          }
          throw t instanceof RuntimeException re ? re : new java.util.concurrent.CompletionException(t);
        });
  }

  /**
   * Fails with {@code refusal} once the body has been read and dropped (see {@link #drained}).
   */
  private CompletionStage<ByteString> refuseAfterDiscarding(HttpEntity entity, Rejected refusal) {
    return drained(entity, materializer, settings.requestBodyTimeout()).<ByteString>thenApply(done -> {
      throw refusal;
    });
  }

  /**
   * Completes once {@code entity} has been read and dropped, or after {@code timeout} (a stalled client), never
   * with an error. A refusal is answered only then: answering while the client is still sending makes the
   * server close a connection with unread bytes in it, which resets it, and the client may lose the response it
   * was meant to read. How much is read is bounded by Pekko's own {@code parsing.max-content-length}.
   */
  static CompletionStage<Void> drained(HttpEntity entity, Materializer materializer, java.time.Duration timeout) {
    if (entity instanceof HttpEntity.Strict) {
      return CompletableFuture.completedFuture(null);
    }
    return entity.discardBytes(materializer).completionStage().toCompletableFuture()
        .completeOnTimeout(null, timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
        .<Void>handle((done, err) -> null);
  }

  /** The whole body read as JSON (an empty body is an empty object); a body that is not JSON fails with a 400. */
  CompletionStage<com.fasterxml.jackson.databind.JsonNode> readJson(HttpRequest req) {
    return read(req).thenApply(RequestBodies::json);
  }

  /**
   * {@code data} as JSON, an empty body as an empty object. Not JSON: an INVALID_REQUEST naming the line and
   * column, so every route answers malformed JSON alike.
   */
  static com.fasterxml.jackson.databind.JsonNode json(ByteString data) {
    if (data.isEmpty()) {
      return io.pekkollm.util.Json.object();
    }
    try {
      com.fasterxml.jackson.databind.JsonNode node = io.pekkollm.util.Json.MAPPER.readTree(data.toArray());
      return node == null || node.isMissingNode() ? io.pekkollm.util.Json.object() : node;
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      var loc = e.getLocation();
      String where = loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
      throw LlmException.invalidRequest("the request body is not valid JSON" + where + ": " + e.getOriginalMessage(),
          null);
    } catch (java.io.IOException e) {
      throw LlmException.invalidRequest("the request body cannot be read: " + e.getMessage(), null);
    }
  }

  static Rejected tooLarge(long max) {
    return new Rejected(ErrorKind.REQUEST_TOO_LARGE, 413, "request_too_large",
        "request body is larger than the limit of " + max + " bytes (pekko-llm.gateway.max-request-bytes)");
  }

  static Rejected unsupportedMediaType(String given) {
    return new Rejected(ErrorKind.INVALID_REQUEST, 415, "unsupported_media_type",
        "the request body must be JSON with 'Content-Type: application/json', not " + given);
  }

  /** A request body the gateway refuses, with the HTTP status and error code to answer with. */
  static final class Rejected extends LlmException {
    private static final long serialVersionUID = 1L;
    private final int status;
    private final String code;

    Rejected(ErrorKind kind, int status, String code, String message) {
      super(kind, message, null, false, null);
      this.status = status;
      this.code = code;
    }

    @Override
    public int httpStatus() {
      return status;
    }

    @Override
    public String errorCode() {
      return code;
    }
  }
}
