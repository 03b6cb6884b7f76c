package io.pekkollm.provider.gemini;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.FinishReason;
import io.pekkollm.testkit.Fixtures;
import io.pekkollm.testkit.Sse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class GeminiStreamDecoderTest {

  @Test
  void gemini1RepeatsStopOnEveryEventButCallersSeeOneFinish() {
    List<Sse.Event> events = Sse.parse(Fixtures.text("gemini/stream-generate-content-text-legacy-gemini1.sse"));
    long stops = events.stream().filter(e -> e.data().contains("\"finishReason\"")).count();
    assertTrue(stops > 1, "the fixture repeats finishReason (" + stops + " times)");
    GeminiStreamDecoder d = new GeminiStreamDecoder("gemini");
    List<ChatChunk> chunks = new ArrayList<>();
    events.forEach(e -> chunks.addAll(d.onFrame(e.type(), e.data())));
    assertTrue(d.isComplete());
    chunks.addAll(d.onEnd());
    List<ChatChunk> finishes = chunks.stream().filter(c -> c.finishReason() != null).toList();
    assertEquals(1, finishes.size());
    assertEquals(FinishReason.STOP, finishes.get(0).finishReason());
    assertEquals(chunks.get(chunks.size() - 1), finishes.get(0), "the finish comes last");
  }
}
