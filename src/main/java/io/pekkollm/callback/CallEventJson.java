package io.pekkollm.callback;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.Message;
import io.pekkollm.model.Usage;
import io.pekkollm.util.Json;
import io.pekkollm.util.Redactor;
import java.time.Duration;

/**
 * The JSON form of a {@link CallEvent} that the built-in sinks write: {@code event} ({@code start},
 * {@code success}, {@code failure}, {@code chunk}, {@code soft_budget_exceeded} with the key id, team, spend and
 * soft budget), {@code call_id}, {@code at}, the requested {@code model}, and
 * per kind the served model, usage, cost, latency, time to first chunk, finish reason or error kind. Request
 * messages, answer text and chunk text only with {@code include-bodies}, redacted.
 */
final class CallEventJson {
  private final boolean includeBodies;
  private final Redactor redactor;

  CallEventJson(boolean includeBodies, Redactor redactor) {
    this.includeBodies = includeBodies;
    this.redactor = redactor;
  }

  ObjectNode toJson(CallEvent event) {
    ObjectNode o = Json.object();
    o.put("call_id", event.callId());
    o.put("at", event.at().toString());
    if (event instanceof CallEvent.Started s) {
      o.put("event", "start");
      o.put("model", s.request().model());
      o.put("streaming", s.streaming());
      if (includeBodies) {
        ArrayNode messages = o.putArray("messages");
        for (Message m : s.request().messages()) {
          messages.addObject().put("role", m.role()).put("content", redactor.redact(m.text()));
        }
      }
    } else if (event instanceof CallEvent.Succeeded s) {
      o.put("event", "success");
      o.put("model", s.request().model());
      o.put("streaming", s.streaming());
      ChatResponse r = s.response();
      o.put("served_model", r.model());
      if (r.providerModel() != null) {
        o.put("provider_model", r.providerModel());
      }
      if (r.finishReason() != null) {
        o.put("finish_reason", r.finishReason().value());
      }
      Usage u = r.usage();
      if (u != null) {
        o.putObject("usage").put("input_tokens", u.inputTokens()).put("output_tokens", u.outputTokens())
            .put("cached_input_tokens", u.cachedInputTokens()).put("cache_write_tokens", u.cacheWriteTokens())
            .put("reasoning_tokens", u.reasoningTokens());
      }
      r.cost().ifPresent(c -> o.put("cost_usd", c.total()));
      r.cacheStatus().ifPresent(c -> o.put("cache_status", c.outcome().headerValue()));
      o.put("latency_ms", millis(s.latency()));
      if (s.timeToFirstChunk() != null) {
        o.put("ttft_ms", millis(s.timeToFirstChunk()));
      }
      if (includeBodies) {
        o.put("text", redactor.redact(r.text()));
      }
    } else if (event instanceof CallEvent.Failed f) {
      o.put("event", "failure");
      o.put("model", f.request().model());
      o.put("streaming", f.streaming());
      o.put("error_kind", f.kind().name());
      o.put("message", redactor.redact(f.message()));
      o.put("latency_ms", millis(f.latency()));
    } else if (event instanceof CallEvent.Chunk c) {
      o.put("event", "chunk");
      if (includeBodies && c.chunk().textDelta() != null) {
        o.put("text", redactor.redact(c.chunk().textDelta()));
      }
      if (c.chunk().finishReason() != null) {
        o.put("finish_reason", c.chunk().finishReason().value());
      }
    } else if (event instanceof CallEvent.SoftBudgetExceeded b) {
      o.put("event", "soft_budget_exceeded");
      o.put("key_id", b.keyId());
      o.put("team", b.team());
      o.put("spend_usd", b.spend());
      o.put("soft_budget_usd", b.softBudget());
      o.put("period_ends_at", b.periodEndsAt() == null ? null : b.periodEndsAt().toString());
    }
    return o;
  }

  private static double millis(Duration d) {
    return d.toNanos() / 1_000_000.0;
  }
}
