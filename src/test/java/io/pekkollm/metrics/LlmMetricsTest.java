package io.pekkollm.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.Usage;
import org.junit.jupiter.api.Test;

class LlmMetricsTest {

  @Test
  void modelsBeyondTheBoundShareOneSeries() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    LlmMetrics m = LlmMetrics.create(registry, new MetricsSettings(true, 2));
    for (String model : new String[] {"a", "b", "c", "d", "a"}) {
      m.attemptEnded("p", model, true, null, false, 1_000_000, 500_000, Usage.of(1, 2), null);
    }
    String text = m.scrape().orElseThrow();
    assertTrue(text.contains("pekko_llm_requests_total{model=\"a\",outcome=\"success\",provider=\"p\"} 2"), text);
    assertTrue(text.contains("pekko_llm_requests_total{model=\"other\",outcome=\"success\",provider=\"p\"} 2"), text);
    assertTrue(!text.contains("model=\"c\""), text);
  }

  @Test
  void errorsAreCountedByKindAndRefusalsRecordNoDuration() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    LlmMetrics m = LlmMetrics.create(registry, new MetricsSettings(true, 10));
    m.attemptEnded("p", "x", false, ErrorKind.OVERLOADED, false, 5, -1, null, null);
    m.attemptEnded("p", "x", true, ErrorKind.CANCELLED, true, 5, -1, null, null);
    String text = m.scrape().orElseThrow();
    assertTrue(text.contains("pekko_llm_errors_total{kind=\"overloaded\",model=\"x\",provider=\"p\"} 1"), text);
    assertTrue(text.contains("pekko_llm_requests_total{model=\"x\",outcome=\"cancelled\",provider=\"p\"} 1"), text);
    assertTrue(text.contains("pekko_llm_request_duration_seconds_count{model=\"x\",provider=\"p\"} 1"), text);
  }

  @Test
  void disabledRecordsNothingAndOtherRegistriesAreNotScraped() {
    SimpleMeterRegistry simple = new SimpleMeterRegistry();
    LlmMetrics off = LlmMetrics.create(simple, new MetricsSettings(false, 10));
    off.attemptEnded("p", "x", true, null, false, 1, 1, null, null);
    assertEquals(0, simple.getMeters().size());
    LlmMetrics on = LlmMetrics.create(simple, new MetricsSettings(true, 10));
    on.retried("p", "x", ErrorKind.NETWORK);
    assertTrue(on.scrape().isEmpty());
    assertEquals(1.0, simple.get("pekko.llm.retries").tag("kind", "network").counter().count());
  }
}
