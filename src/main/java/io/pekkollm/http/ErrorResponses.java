package io.pekkollm.http;

import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.ProviderException;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * Turns errors into error responses in the caller's API shape (OpenAI's by default, Anthropic's for the Messages
 * API), keeping the upstream status and retry hints.
 */
final class ErrorResponses {
  private ErrorResponses() {}

  static HttpResponse of(Throwable error) {
    LlmException e = unwrap(error);
    List<HttpHeader> headers = headers(e);
    String body = body(e);
    if (e instanceof io.pekkollm.recovery.ResumeConflictException rc && rc.finalText() != null) {
      // A completed stream's answer stays available to the client that tried to resume it.
      var node = (com.fasterxml.jackson.databind.node.ObjectNode) parse(body);
      node.put("final_text", rc.finalText());
      body = io.pekkollm.util.Json.write(node);
    }
    return json(e.httpStatus(), body, headers);
  }

  /** Anthropic's error response for {@code error}: its body, its status (529 for overload), the same headers. */
  static HttpResponse anthropic(Throwable error) {
    LlmException e = unwrap(error);
    int status = MessagesCodec.status(e);
    return json(status, MessagesCodec.writeError(MessagesCodec.errorType(status), e.getMessage()), headers(e));
  }

  /** Retry-After (whole seconds, rounded up), and the upstream's provider, request id and x-should-retry. */
  private static List<HttpHeader> headers(LlmException e) {
    List<HttpHeader> headers = new ArrayList<>();
    e.retryAfter().ifPresent(d ->
        headers.add(RawHeader.create("Retry-After", Long.toString(Math.max(1, (d.toMillis() + 999) / 1000)))));
    if (e instanceof ProviderException pe) {
      headers.add(RawHeader.create("X-Upstream-Provider", pe.provider()));
      if (pe.requestId() != null) {
        headers.add(RawHeader.create("X-Upstream-Request-Id", pe.requestId()));
      }
      String should = pe.headers().get("x-should-retry");
      if (should != null) {
        headers.add(RawHeader.create("x-should-retry", should));
      }
    }
    return headers;
  }

  static com.fasterxml.jackson.databind.JsonNode parse(String json) {
    try {
      return io.pekkollm.util.Json.parse(json);
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** OpenAI's error body for {@code e}. */
  static String body(LlmException e) {
    String code = e.errorCode() != null ? e.errorCode() : e.kind().name().toLowerCase();
    return ChatCompletionsCodec.writeError(e.getMessage(), e.errorType(), e.param(), code);
  }

  static HttpResponse json(int status, String body, List<HttpHeader> headers) {
    return HttpResponse.create()
        // StatusCodes.get throws for codes Pekko does not register, such as Anthropic's 529 (overloaded),
        // which would turn into a 500 and lose the upstream's status.
        .withStatus(StatusCodes.lookup(status).orElseGet(() ->
            StatusCodes.custom(status, status == 529 ? "Overloaded" : "Status " + status, "", false, true)))
        .withEntity(ContentTypes.APPLICATION_JSON, body)
        .addHeaders(headers);
  }

  static HttpResponse simple(ErrorKind kind, int status, String message, String param) {
    return json(status, ChatCompletionsCodec.writeError(message, kind.openAiType(), param, kind.name().toLowerCase()), List.of());
  }

  /** The LlmException inside wrappers; anything else is an internal error, with a message but no internals. */
  static LlmException unwrap(Throwable error) {
    Throwable t = io.pekkollm.util.Futures.cause(error);
    if (t instanceof LlmException le) {
      return le;
    }
    return new LlmException(ErrorKind.INTERNAL, "internal error: " + t.getClass().getSimpleName()
        + (t.getMessage() == null ? "" : ": " + t.getMessage()), t, false, null);
  }
}
