package io.pekkollm.stream;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.pekkollm.testkit.TestConfig;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** SSE and NDJSON framing edge cases, each fed whole and split at every byte boundary. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FramesTest {
  private final ActorTestKit kit = ActorTestKit.create(TestConfig.of(""));
  private final Frames frames = new Frames(kit.system());

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
  }

  static Stream<Arguments> sseCases() {
    return Stream.of(
        Arguments.of("LF", "data: a\n\ndata: b\n\n", List.of("a", "b")),
        Arguments.of("CRLF", "data: a\r\n\r\ndata: b\r\n\r\n", List.of("a", "b")),
        Arguments.of("CR only", "data: a\r\rdata: b\r\r", List.of("a", "b")),
        Arguments.of("comments and keep-alives", ": OPENROUTER PROCESSING\n\n: keep-alive\n\ndata: a\n\n", List.of("a")),
        Arguments.of("multi-line data joined with LF", "data: line1\ndata: line2\n\n", List.of("line1\nline2")),
        Arguments.of("no space after colon", "data:a\n\n", List.of("a")),
        Arguments.of("event type kept", "event: message_start\ndata: {}\n\n", List.of("message_start:{}")),
        Arguments.of("unicode intact across splits", "data: héllo 🌍 世界\n\n", List.of("héllo 🌍 世界")),
        Arguments.of("id and retry fields ignored", "id: 7\nretry: 100\ndata: a\n\n", List.of("a")),
        Arguments.of("empty data is an event, blank lines alone are not", "\n\ndata:\n\n\n", List.of("")),
        Arguments.of("a field without colon", "data\n\ndata: x\n\n", List.of("", "x")),
        Arguments.of("only one space is dropped", "data:  two\n\n", List.of(" two")),
        Arguments.of("the type resets after each event", "event: a\ndata: 1\n\ndata: 2\n\n", List.of("a:1", "2")),
        Arguments.of("mixed line ends", "data: a\r\ndata: b\rdata: c\n\r\n", List.of("a\nb\nc")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("sseCases")
  void parsesSseWholeAndSplitAtEveryByte(String name, String input, List<String> expected) throws Exception {
    byte[] bytes = input.getBytes(StandardCharsets.UTF_8);
    assertEquals(expected, sse(List.of(ByteString.fromArray(bytes))), "whole");
    for (int split = 1; split < bytes.length; split++) {
      List<ByteString> parts = List.of(ByteString.fromArray(bytes, 0, split),
          ByteString.fromArray(bytes, split, bytes.length - split));
      assertEquals(expected, sse(parts), "split at " + split);
    }
    List<ByteString> single = new ArrayList<>();
    for (byte b : bytes) {
      single.add(ByteString.fromArray(new byte[] {b}));
    }
    assertEquals(expected, sse(single), "one byte at a time");
  }

  @Test
  void incompleteLastEventIsNotDispatched() throws Exception {
    // WHATWG HTML, server-sent events: "If the file ends in the middle of an event, before the final empty
    // line, the incomplete event is not dispatched."
    assertEquals(List.of("a"), sse(List.of(ByteString.fromString("data: a\n\ndata: partial"))));
    assertEquals(List.of("a"), sse(List.of(ByteString.fromString("data: a\n\ndata: partial\n"))));
  }

  @Test
  void eventsLargerThanPekkosDefaultLimitsPass() throws Exception {
    String big = "x".repeat(200_000);
    assertEquals(List.of(big), sse(List.of(ByteString.fromString("data: " + big + "\n\n"))));
  }

  @Test
  void eventsOverTheConfiguredLimitFailClearly() {
    ActorTestKit small = ActorTestKit.create(ConfigFactory.parseString(
        "pekko.http.sse.max-line-size = 1024\npekko.http.sse.max-event-size = 2048").withFallback(TestConfig.of("")));
    try {
      Frames f = new Frames(small.system());
      ExecutionException e = assertThrows(ExecutionException.class, () ->
          f.sse(Source.single(ByteString.fromString("data: " + "y".repeat(5000) + "\n\n")))
              .runWith(Sink.seq(), small.system()).toCompletableFuture().get(5, TimeUnit.SECONDS));
      assertTrue(String.valueOf(e.getCause().getMessage()).toLowerCase().contains("exceed"), e.getCause().toString());
    } finally {
      small.shutdownTestKit();
    }
  }

  @Test
  void anEventOverTheEventLimitFailsEvenWhenEachLineFits() {
    ActorTestKit small = ActorTestKit.create(ConfigFactory.parseString(
        "pekko.http.sse.max-line-size = 1024\npekko.http.sse.max-event-size = 2048").withFallback(TestConfig.of("")));
    try {
      Frames f = new Frames(small.system());
      String lines = ("data: " + "z".repeat(900) + "\n").repeat(3) + "\n";
      ExecutionException e = assertThrows(ExecutionException.class, () ->
          f.sse(Source.single(ByteString.fromString(lines)))
              .runWith(Sink.seq(), small.system()).toCompletableFuture().get(5, TimeUnit.SECONDS));
      assertTrue(e.getCause() instanceof MalformedFrameException, e.getCause().toString());
      assertTrue(e.getCause().getMessage().contains("max-event-size"), e.getCause().getMessage());
      // Two such lines fit.
      String fits = ("data: " + "z".repeat(900) + "\n").repeat(2) + "\n";
      assertEquals(1, assertDoesNotThrow(() -> f.sse(Source.single(ByteString.fromString(fits)))
          .runWith(Sink.seq(), small.system()).toCompletableFuture().get(5, TimeUnit.SECONDS)).size());
    } finally {
      small.shutdownTestKit();
    }
  }

  @Test
  void ndjsonLinesSplitAnywhere() throws Exception {
    String input = "{\"a\":1}\n\n{\"b\":\"é\"}\r\n{\"c\":3}";
    byte[] bytes = input.getBytes(StandardCharsets.UTF_8);
    for (int split = 1; split < bytes.length; split++) {
      List<String> got = frames.ndjson(Source.from(List.of(ByteString.fromArray(bytes, 0, split),
              ByteString.fromArray(bytes, split, bytes.length - split))))
          .map(Frames.Frame::data)
          .runWith(Sink.seq(), kit.system()).toCompletableFuture().get(5, TimeUnit.SECONDS);
      assertEquals(List.of("{\"a\":1}", "{\"b\":\"é\"}", "{\"c\":3}"), got, "split at " + split);
    }
  }

  private List<String> sse(List<ByteString> parts) throws Exception {
    return frames.sse(Source.from(parts))
        .map(f -> f.eventType() == null ? f.data() : f.eventType() + ":" + f.data())
        .runWith(Sink.seq(), kit.system())
        .toCompletableFuture().get(5, TimeUnit.SECONDS);
  }
}
