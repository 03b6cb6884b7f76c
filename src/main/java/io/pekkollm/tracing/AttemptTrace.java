package io.pekkollm.tracing;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.StatusCode;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.Cost;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Usage;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The trace of one attempt: its CLIENT span, and the headers ({@code traceparent}, {@code tracestate}) its upstream
 * request carries. {@link #NONE} records and sends nothing. Used by one attempt; its chunks arrive one at a time.
 */
public abstract class AttemptTrace {
  /** Nothing to record or send. */
  public static final AttemptTrace NONE = new AttemptTrace() {};

  AttemptTrace() {}

  static AttemptTrace passThrough(Map<String, String> headers) {
    return new AttemptTrace() {
      @Override
      public Map<String, String> headers() {
        return headers;
      }
    };
  }

  /** Headers for the upstream request (empty: none). */
  public Map<String, String> headers() {
    return Map.of();
  }

  /** A chunk of the answer arrived. */
  public void onChunk(ChatChunk chunk) {}

  /**
   * The attempt ended: {@code error} null when it answered (with {@code providerModel}, {@code usage} and
   * {@code cost}, any may be null), else why it failed ({@code kind} its kind).
   */
  public void end(String providerModel, Usage usage, Cost cost, ErrorKind kind, Throwable error) {}

  /** {@code error.type}: the error's kind ({@code rate_limited}, {@code timeout}, ...) or its class. */
  static String errorType(Throwable error) {
    if (error instanceof LlmException e) {
      return e.kind().name().toLowerCase(Locale.ROOT);
    }
    return error.getClass().getName();
  }

  /** A recorded attempt. */
  static final class Recording extends AttemptTrace {
    private final CallTrace.Recording call;
    private final Span span;
    private final Map<String, String> headers;
    /** Whether this attempt holds the gateway's SERVER span open (let go when it ends). */
    private final boolean holdsServer;
    private String finishReason;

    Recording(CallTrace.Recording call, Span span, Map<String, String> headers, boolean holdsServer) {
      this.call = call;
      this.span = span;
      this.headers = headers;
      this.holdsServer = holdsServer;
    }

    @Override
    public Map<String, String> headers() {
      return headers;
    }

    @Override
    public void onChunk(ChatChunk chunk) {
      if (chunk.finishReason() != null) {
        finishReason = chunk.finishReason().value();
      }
    }

    @Override
    public void end(String providerModel, Usage usage, Cost cost, ErrorKind kind, Throwable error) {
      if (providerModel != null) {
        span.setAttribute(GenAi.RESPONSE_MODEL, providerModel);
      }
      if (usage != null) {
        span.setAttribute(GenAi.INPUT_TOKENS, (long) usage.inputTokens());
        span.setAttribute(GenAi.OUTPUT_TOKENS, (long) usage.outputTokens());
      }
      if (cost != null) {
        span.setAttribute(GenAi.COST, cost.total().doubleValue());
      }
      if (finishReason != null) {
        span.setAttribute(GenAi.FINISH_REASONS, List.of(finishReason));
      }
      if (error == null) {
        call.answered(cost);
      } else {
        span.setAttribute(GenAi.ERROR_TYPE, kind != null ? kind.name().toLowerCase(Locale.ROOT) : errorType(error));
        if (kind != ErrorKind.CANCELLED) {
          span.setStatus(StatusCode.ERROR, String.valueOf(error.getMessage()));
        }
      }
      span.end();
      if (holdsServer) {
        call.attemptEnded();
      }
    }
  }
}
