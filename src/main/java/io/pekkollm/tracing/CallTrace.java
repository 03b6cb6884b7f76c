package io.pekkollm.tracing;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.pekkollm.model.CacheStatus;
import io.pekkollm.model.Cost;
import io.pekkollm.model.Usage;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The trace of one call: its span (ours, or the gateway request's SERVER span, which the call only adds
 * attributes to), the attempts' spans under it, and its journal-write spans. {@link #NONE} when tracing is off
 * and no trace context came with the call: every method is then an empty one and allocates nothing. Thread-safe
 * (attempts end on stream threads, the call on the caller's).
 */
public abstract class CallTrace {
  /** No trace: nothing is recorded, nothing sent upstream. */
  public static final CallTrace NONE = new CallTrace() {};

  CallTrace() {}

  /** The trace of calls that only pass {@code parent}'s span context on (tracing off); NONE when it has none. */
  static CallTrace passThrough(Tracing tracing, Context parent) {
    Span span = Span.fromContextOrNull(parent);
    if (span == null || !span.getSpanContext().isValid()) {
      return NONE;
    }
    Map<String, String> headers = new HashMap<>(4);
    tracing.propagator().inject(parent, headers, Map::put);
    return new PassThrough(AttemptTrace.passThrough(Map.copyOf(headers)));
  }

  /** Whether spans are being recorded for this call. */
  public boolean recording() {
    return false;
  }

  /**
   * The trace of attempt {@code number} (1, 2, ... per model) of {@code operation} on {@code model}, the model id
   * {@code provider} (of {@code kind}, at {@code baseUrl}) knows.
   */
  public AttemptTrace attempt(String operation, String provider, String kind, String baseUrl, String model,
      int number) {
    return AttemptTrace.NONE;
  }

  /** The call is committed to {@code model} ({@code provider/model}). */
  public void served(String model) {}

  /** The call's journalled stream is {@code recoveryId}. */
  public void recoveryId(String recoveryId) {}

  /** How the response cache served the call. */
  public void cacheStatus(CacheStatus status) {}

  /** A journal write of {@code chunks} chunks took {@code nanos}, ending now. Sampled (see {@link TracingSettings}). */
  public void journalWrite(long nanos, int chunks) {}

  /** The call ended ({@code error} null: it succeeded); our own span ends now. */
  public void end(Throwable error) {}

  /** Tracing off with a trace context to pass on. */
  private static final class PassThrough extends CallTrace {
    private final AttemptTrace attempt;

    PassThrough(AttemptTrace attempt) {
      this.attempt = attempt;
    }

    @Override
    public AttemptTrace attempt(String operation, String provider, String kind, String baseUrl, String model,
        int number) {
      return attempt;
    }
  }

  /** A traced call. */
  static final class Recording extends CallTrace {
    private final Tracing tracing;
    private final Span span;
    private final Context context;
    /** The gateway's SERVER span this call reports to, or null when {@link #span} is the call's own. */
    private final Tracing.ServerSpan server;
    private final AtomicInteger journalWrites = new AtomicInteger();
    private final AtomicInteger journalSpans = new AtomicInteger();
    private volatile String recoveryId;

    Recording(Tracing tracing, Span span, Context context, Tracing.ServerSpan server) {
      this.tracing = tracing;
      this.span = span;
      this.context = context;
      this.server = server;
    }

    @Override
    public boolean recording() {
      return span.isRecording();
    }

    @Override
    public AttemptTrace attempt(String operation, String provider, String kind, String baseUrl, String model,
        int number) {
      Span a = tracing.tracer().spanBuilder(operation + " " + model).setParent(context)
          .setSpanKind(SpanKind.CLIENT)
          .setAllAttributes(tracing.providerAttributes(provider, kind, baseUrl))
          .setAttribute(GenAi.OPERATION, operation)
          .setAttribute(GenAi.REQUEST_MODEL, model)
          .setAttribute(GenAi.ATTEMPT, (long) number)
          .startSpan();
      Map<String, String> headers = new HashMap<>(4);
      tracing.propagator().inject(context.with(a), headers, Map::put);
      // An attempt holds the gateway's SERVER span open too: a streamed attempt reports its cost when the journal's
      // graph ends, which can be after the client's body (and the call) has.
      return new AttemptTrace.Recording(this, a, headers, server != null && server.hold());
    }

    /** The attempt that answered reports its cost. */
    void answered(Cost cost) {
      if (cost != null) {
        span.setAttribute(GenAi.COST, cost.total().doubleValue());
      }
    }

    /** An attempt that held the SERVER span open has ended. */
    void attemptEnded() {
      server.release();
    }

    @Override
    public void served(String model) {
      span.setAttribute(GenAi.SERVED_MODEL, model);
    }

    @Override
    public void recoveryId(String id) {
      this.recoveryId = id;
      span.setAttribute(GenAi.RECOVERY_ID, id);
    }

    @Override
    public void cacheStatus(CacheStatus status) {
      if (status != null) {
        span.setAttribute(GenAi.CACHE_STATUS, status.outcome().headerValue());
      }
    }

    @Override
    public void journalWrite(long nanos, int chunks) {
      int n = journalWrites.incrementAndGet();
      int every = tracing.settings().journalSpanEvery();
      boolean sampled = n == 1 || (every > 0 && n % every == 0);
      if (!sampled || journalSpans.incrementAndGet() > tracing.settings().journalSpansPerStream()) {
        return;
      }
      long end = Tracing.epochNanos();
      Span w = tracing.tracer().spanBuilder("journal write").setParent(context).setSpanKind(SpanKind.INTERNAL)
          .setStartTimestamp(end - nanos, TimeUnit.NANOSECONDS)
          .setAttribute(GenAi.JOURNAL_WRITE, (long) n)
          .setAttribute(GenAi.JOURNAL_CHUNKS, (long) chunks)
          .startSpan();
      String id = recoveryId;
      if (id != null) {
        w.setAttribute(GenAi.RECOVERY_ID, id);
      }
      w.end(end, TimeUnit.NANOSECONDS);
    }

    @Override
    public void end(Throwable error) {
      // The GenAI attributes of the answer (response model, usage, finish reasons) are on the attempt span that
      // answered, the LLM span; the call's own span keeps what is the call's: the served model, cost, recovery id,
      // cache status, key id. Each attribute is encoded in every export, so none is written twice.
      if (error != null) {
        span.setAttribute(GenAi.ERROR_TYPE, AttemptTrace.errorType(error));
        span.setStatus(StatusCode.ERROR, String.valueOf(error.getMessage()));
      }
      if (server == null) {
        span.end();
      } else {
        server.release();
      }
    }
  }
}
