package io.pekkollm.tracing;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.model.CacheStatus;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.Usage;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * Tracing off costs a call no allocation: every hook the call path runs (the call's trace, each attempt's, its
 * chunks, its end, the journal writes) is measured with the thread's allocation counter against an empty loop.
 */
class TracingOffAllocationTest {
  private static final int CALLS = 100_000;

  @Test
  void theHooksOfACallAllocateNothingWhenTracingIsOff() {
    Tracing off = Tracing.off();
    assertFalse(off.enabled());
    ChatChunk chunk = ChatChunk.text("hello");
    Usage usage = Usage.of(3, 4);
    CacheStatus cache = new CacheStatus("k", CacheStatus.Outcome.MISS);
    Runnable call = () -> {
      CallTrace trace = off.startCall("chat", "mock/echo");
      trace.recoveryId("r");
      trace.cacheStatus(cache);
      AttemptTrace a = trace.attempt("chat", "mock", "mock", "mock://", "echo", 1);
      if (!a.headers().isEmpty()) {
        throw new AssertionError("headers sent with tracing off");
      }
      a.onChunk(chunk);
      a.onChunk(chunk);
      a.end("echo", usage, null, null, null);
      trace.served("mock/echo");
      trace.journalWrite(1000, 2);
      trace.end(null);
      if (trace.recording()) {
        throw new AssertionError("recording with tracing off");
      }
    };
    assertSame(CallTrace.NONE, off.startCall("chat", "m"));
    com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long thread = Thread.currentThread().getId();
    measure(mx, thread, call); // warm up: compiled, as on a serving path
    long empty = measure(mx, thread, () -> {});
    // The least of three runs: a one-time allocation in one run (a compilation's linkage, a class initialised by a
    // test run before this one in the same JVM) is not the hooks'; an allocation per call is in every run.
    long hooks = Long.MAX_VALUE;
    for (int run = 0; run < 3; run++) {
      hooks = Math.min(hooks, measure(mx, thread, call));
    }
    // One object per call would be at least 16 bytes each, 1.6 MB in all; what remains is the counter's noise.
    assertTrue(hooks - empty < 10_000, "the off hooks allocated " + (hooks - empty) + " bytes over " + CALLS + " calls");
  }

  @Test
  void aCallWithAParentSpanContextPassesItOnWithoutSpans() {
    var ctx = io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator.getInstance().extract(
        io.opentelemetry.context.Context.root(),
        java.util.Map.of("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        new io.opentelemetry.context.propagation.TextMapGetter<java.util.Map<String, String>>() {
          @Override
          public Iterable<String> keys(java.util.Map<String, String> m) {
            return m.keySet();
          }

          @Override
          public String get(java.util.Map<String, String> m, String k) {
            return m == null ? null : m.get(k);
          }
        });
    try (var s = ctx.makeCurrent()) {
      CallTrace trace = Tracing.off().startCall("chat", "m");
      assertFalse(trace.recording());
      AttemptTrace a = trace.attempt("chat", "p", "openai", "http://x", "m", 1);
      assertTrue(a.headers().get("traceparent").equals("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
          a.headers().toString());
    }
  }

  private static long measure(com.sun.management.ThreadMXBean mx, long thread, Runnable r) {
    long before = mx.getThreadAllocatedBytes(thread);
    for (int i = 0; i < CALLS; i++) {
      r.run();
    }
    return mx.getThreadAllocatedBytes(thread) - before;
  }
}
