package io.pekkollm.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.testkit.EventStreams;
import io.pekkollm.testkit.Fixtures;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.util.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import software.amazon.eventstream.HeaderValue;
import software.amazon.eventstream.Message;

/**
 * The AWS event-stream framing: the synthesized Bedrock capture and messages built with the AWS SDK's
 * encoder, whole and split at every byte; both CRCs checked (a corrupted byte anywhere is a
 * {@link MalformedFrameException}, never garbage text); bounded message size; truncation told apart from
 * corruption.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AwsEventStreamFramingTest {
  private static final String SYNTHESIZED = "bedrock/converse-stream-SYNTHESIZED.bin";
  private final ActorTestKit kit = ActorTestKit.create(TestConfig.of(""));
  private final Frames frames = new Frames(kit.system());

  @AfterAll
  void stop() {
    kit.shutdownTestKit();
  }

  @Test
  void synthesizedCaptureGivesEveryEventThenTheException() throws Exception {
    List<Frames.Frame> got = decode(List.of(ByteString.fromArray(Fixtures.bytes(SYNTHESIZED))));
    String[] lines = Fixtures.text("bedrock/converse-stream-events-text.ndjson").strip().split("\n");
    assertEquals(lines.length + 1, got.size());
    for (int i = 0; i < lines.length; i++) {
      JsonNode expected = Json.parse(lines[i]);
      String type = expected.fieldNames().next();
      assertEquals(type, got.get(i).eventType(), "event " + i);
      ObjectNode payload = (ObjectNode) Json.parse(got.get(i).data());
      assertTrue(payload.has("p"), "Bedrock pads payloads with p");
      payload.remove("p");
      assertEquals(expected.get(type), payload, "payload of event " + i);
    }
    Frames.Frame last = got.get(lines.length);
    assertEquals("throttlingException", last.eventType());
    assertTrue(Json.parse(last.data()).path("message").asText().startsWith("Too many"), last.data());
  }

  @Test
  void splitAtEveryByteGivesTheSameFrames() throws Exception {
    byte[] bytes = Fixtures.bytes(SYNTHESIZED);
    List<Frames.Frame> whole = decode(List.of(ByteString.fromArray(bytes)));
    for (int split = 1; split < bytes.length; split++) {
      List<ByteString> parts = List.of(ByteString.fromArray(bytes, 0, split),
          ByteString.fromArray(bytes, split, bytes.length - split));
      assertEquals(whole, decode(parts), "split at " + split);
    }
    List<ByteString> single = new ArrayList<>();
    for (byte b : bytes) {
      single.add(ByteString.fromArray(new byte[] {b}));
    }
    assertEquals(whole, decode(single), "one byte at a time");
  }

  @Test
  void messagesFromTheSdkEncoderRoundTrip() throws Exception {
    byte[] bytes = EventStreams.fromNdjsonFixture("bedrock/converse-stream-events-tool-use.ndjson");
    List<Frames.Frame> got = decode(List.of(ByteString.fromArray(bytes)));
    assertEquals(List.of("contentBlockDelta", "contentBlockDelta", "contentBlockStart", "contentBlockDelta",
        "contentBlockStop", "messageStop"), got.stream().map(Frames.Frame::eventType).toList());
    assertEquals("{\"value\":\"test\"}", Json.parse(got.get(3).data()).path("delta").path("toolUse").path("input")
        .asText());
  }

  @Test
  void aCorruptedPreludeChecksumIsMalformedNotText() {
    byte[] bytes = Fixtures.bytes(SYNTHESIZED);
    bytes[9] ^= 0x01; // inside the first message's prelude CRC
    MalformedFrameException e = failure(bytes, MalformedFrameException.class);
    assertTrue(e.getMessage().contains("prelude checksum"), e.getMessage());
  }

  @Test
  void aCorruptedLengthIsCaughtByThePreludeChecksumBeforeItIsBelieved() {
    byte[] bytes = Fixtures.bytes(SYNTHESIZED);
    bytes[0] = 0x7f; // total length ~2 GB: must not be waited for
    MalformedFrameException e = failure(bytes, MalformedFrameException.class);
    assertTrue(e.getMessage().contains("prelude checksum"), e.getMessage());
  }

  @Test
  void aCorruptedMessageChecksumIsMalformed() {
    byte[] bytes = Fixtures.bytes(SYNTHESIZED);
    int firstLength = java.nio.ByteBuffer.wrap(bytes, 0, 4).getInt();
    bytes[firstLength - 1] ^= 0x01; // last byte of the first message: its message CRC
    MalformedFrameException e = failure(bytes, MalformedFrameException.class);
    assertTrue(e.getMessage().contains("Message checksum"), e.getMessage());
  }

  @Test
  void aFlippedPayloadByteIsMalformedNotGarbageText() {
    byte[] bytes = Fixtures.bytes(SYNTHESIZED);
    int firstLength = java.nio.ByteBuffer.wrap(bytes, 0, 4).getInt();
    int second = firstLength;
    int secondLength = java.nio.ByteBuffer.wrap(bytes, second, 4).getInt();
    bytes[second + secondLength - 10] ^= 0x20; // a payload byte of the first text delta
    MalformedFrameException e = failure(bytes, MalformedFrameException.class);
    assertTrue(e.getMessage().contains("checksum"), e.getMessage());
  }

  @Test
  void aStreamEndingInsideAMessageIsATruncationNotCorruption() {
    byte[] bytes = Fixtures.bytes(SYNTHESIZED);
    byte[] cut = java.util.Arrays.copyOf(bytes, bytes.length - 3);
    IllegalStateException e = failure(cut, IllegalStateException.class);
    assertTrue(e.getMessage().contains("ended inside a message"), e.getMessage());
    byte[] prelude = java.util.Arrays.copyOf(bytes, 5);
    failure(prelude, IllegalStateException.class);
  }

  @Test
  void messagesOverTheLimitAreRefused() {
    byte[] big = EventStreams.event("contentBlockDelta", "{\"x\":\"" + "y".repeat(5000) + "\"}");
    ExecutionException e = assertThrows(ExecutionException.class, () ->
        Source.single(ByteString.fromArray(big)).via(new AwsEventStreamFraming(4096))
            .runWith(Sink.seq(), kit.system()).toCompletableFuture().get(5, TimeUnit.SECONDS));
    MalformedFrameException m = assertInstanceOf(MalformedFrameException.class, e.getCause());
    assertTrue(m.getMessage().contains("outside 16..4096"), m.getMessage());
  }

  @Test
  void anEmptyBodyHasNoFrames() throws Exception {
    assertEquals(List.of(), decode(List.of()));
  }

  @Test
  void protocolErrorMessagesCarryTheirHeaders() throws Exception {
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    new Message(Map.of(":message-type", HeaderValue.fromString("error"),
        ":error-code", HeaderValue.fromString("InternalFailure"),
        ":error-message", HeaderValue.fromString("boom")), new byte[0]).encode(out);
    List<Frames.Frame> got = decode(List.of(ByteString.fromArray(out.toByteArray())));
    assertEquals(1, got.size());
    assertEquals("error", got.get(0).eventType());
    JsonNode data = Json.parse(got.get(0).data());
    assertEquals("boom", data.path("message").asText());
    assertEquals("InternalFailure", data.path("code").asText());
  }

  private List<Frames.Frame> decode(List<ByteString> parts) throws Exception {
    return frames.awsEventStream(Source.from(parts))
        .runWith(Sink.seq(), kit.system())
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private <T extends Throwable> T failure(byte[] bytes, Class<T> type) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> decode(List.of(ByteString.fromArray(bytes))));
    return assertInstanceOf(type, e.getCause(), String.valueOf(e.getCause()));
  }
}
