import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * CPU time of the whole process per traced request (a SERVER and a CLIENT span with the gateway's attributes),
 * exported over OTLP/HTTP by a batch span processor, or made without export: what tracing costs a request apart
 * from the request itself. Process CPU time, not wall time, so background load matters little.
 *   java -cp target/pekko-llm.jar bench/tools/ExportCost.java ENDPOINT|none REQUESTS [BATCH] [MEMORY_MODE]
 * ENDPOINT: an OTLP/HTTP receiver, e.g. the bench upstream (io.pekkollm.bench.FakeUpstream answers 200 to any POST);
 * BATCH: the processor's max export batch size (512, the SDK's default; the gateway's default is 2048).
 */
public class ExportCost {
  static final AttributeKey<String> S1 = AttributeKey.stringKey("http.request.method"), S2 = AttributeKey.stringKey("url.path"),
      S3 = AttributeKey.stringKey("http.route"), S4 = AttributeKey.stringKey("gen_ai.operation.name"),
      S5 = AttributeKey.stringKey("gen_ai.request.model"), S6 = AttributeKey.stringKey("pekko_llm.served_model"),
      S7 = AttributeKey.stringKey("gen_ai.response.model");
  static final AttributeKey<Long> L1 = AttributeKey.longKey("http.response.status_code"), L2 = AttributeKey.longKey("pekko_llm.attempt"),
      L3 = AttributeKey.longKey("gen_ai.usage.input_tokens"), L4 = AttributeKey.longKey("gen_ai.usage.output_tokens");
  static final AttributeKey<Double> D1 = AttributeKey.doubleKey("pekko_llm.cost_usd");
  static final AttributeKey<List<String>> F = AttributeKey.stringArrayKey("gen_ai.response.finish_reasons");
  static final Attributes PROVIDER = Attributes.builder().put("gen_ai.system", "openai").put("pekko_llm.provider", "openai")
      .put("server.address", "127.0.0.1").put("server.port", 18941L).build();

  public static void main(String[] a) throws Exception {
    boolean export = !a[0].equals("none");
    int n = Integer.parseInt(a[1]);
    var b = SdkTracerProvider.builder();
    BatchSpanProcessor bsp = null;
    if (export) {
      int batch = a.length > 2 ? Integer.parseInt(a[2]) : 512;
      var eb = OtlpHttpSpanExporter.builder().setEndpoint(a[0] + "/v1/traces");
      if (a.length > 3) eb.setMemoryMode(io.opentelemetry.sdk.common.export.MemoryMode.valueOf(a[3]));
      bsp = BatchSpanProcessor.builder(eb.build()).setMaxExportBatchSize(batch).setMaxQueueSize(Math.max(2048, batch * 4)).build();
      b.addSpanProcessor(bsp);
    }
    SdkTracerProvider tp = b.build();
    Tracer t = tp.get("io.pekkollm");
    for (int r = 0; r < 3; r++) {
      var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
      long c0 = os.getProcessCpuTime();
      run(t, bsp, n);
      long c1 = os.getProcessCpuTime();
      System.out.printf("%s run %d: %.2f us CPU per request (2 spans)%n", export ? "export" : "no export", r, (c1 - c0) / 1e3 / n);
    }
    tp.shutdown().join(10, TimeUnit.SECONDS);
  }

  static void run(Tracer t, BatchSpanProcessor bsp, int n) {
    for (int i = 0; i < n; i++) {
      Span s = t.spanBuilder("POST /v1/chat/completions").setSpanKind(SpanKind.SERVER).setAttribute(S1, "POST")
          .setAttribute(S2, "/v1/chat/completions").setAttribute(S3, "/v1/chat/completions").startSpan();
      s.setAttribute(S4, "chat");
      s.setAttribute(S5, "openai/bench");
      Span c = t.spanBuilder("chat bench").setParent(Context.root().with(s)).setSpanKind(SpanKind.CLIENT)
          .setAllAttributes(PROVIDER).setAttribute(S4, "chat").setAttribute(S5, "bench").setAttribute(L2, 1L).startSpan();
      c.setAttribute(S7, "bench");
      c.setAttribute(L3, 12L);
      c.setAttribute(L4, 7L);
      c.setAttribute(D1, 0.000123);
      c.setAttribute(F, List.of("stop"));
      c.end();
      s.setAttribute(S6, "openai/bench");
      s.setAttribute(D1, 0.000123);
      s.setAttribute(L1, 200L);
      s.end();
      if (bsp != null && i % 1000 == 999) {
        bsp.forceFlush().join(10, TimeUnit.SECONDS);
      }
    }
    if (bsp != null) {
      bsp.forceFlush().join(10, TimeUnit.SECONDS);
    }
  }
}
