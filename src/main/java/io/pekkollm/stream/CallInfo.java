package io.pekkollm.stream;

import io.pekkollm.model.TruncationReport;
import io.pekkollm.tracing.CallTrace;

/**
 * What one call learned while it ran: which {@code provider/model} served it (known when its first chunk
 * arrives; a model group may try several) and what truncation did to the request that model got. Written by
 * the call's attempts, read by the caller's handle ({@link ChatStream}); and the call's {@linkplain CallTrace
 * trace}, which its attempts record into. Thread-safe.
 */
public final class CallInfo {
  private volatile String servedModel;
  private volatile TruncationReport truncation;
  private final CallTrace trace;

  public CallInfo(TruncationReport truncation) {
    this(truncation, CallTrace.NONE);
  }

  public CallInfo(TruncationReport truncation, CallTrace trace) {
    this.truncation = truncation;
    this.trace = trace;
  }

  /** The call's trace ({@link CallTrace#NONE} when untraced). */
  public CallTrace trace() {
    return trace;
  }

  /** The call is committed to {@code model}, whose request lost what {@code report} says (null: nothing). */
  public void served(String model, TruncationReport report) {
    this.truncation = report;
    this.servedModel = model;
    trace.served(model);
  }

  /** The model that served; null until the first chunk arrived. */
  public String servedModel() {
    return servedModel;
  }

  /** What truncation dropped from the request the serving model got; null when nothing. */
  public TruncationReport truncation() {
    return truncation;
  }
}
