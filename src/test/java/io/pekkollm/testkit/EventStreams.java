package io.pekkollm.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.util.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import software.amazon.eventstream.HeaderValue;
import software.amazon.eventstream.Message;

/**
 * Builds binary AWS event-stream bodies ({@code application/vnd.amazon.eventstream}) for tests, with the AWS
 * SDK's own encoder, so the bytes are what Bedrock would send: the {@code *.ndjson} fixtures hold each event in
 * the SDK-normalised {@code {"<eventType>": <payload>}} form, and become one binary message per line with the
 * headers Bedrock sets and the padding field {@code p} Bedrock adds.
 */
public final class EventStreams {
  private EventStreams() {}

  /** One event message: {@code :event-type}, {@code :content-type}, {@code :message-type = event}. */
  public static byte[] event(String eventType, String payloadJson) {
    Map<String, HeaderValue> h = new LinkedHashMap<>();
    h.put(":event-type", HeaderValue.fromString(eventType));
    h.put(":content-type", HeaderValue.fromString("application/json"));
    h.put(":message-type", HeaderValue.fromString("event"));
    return encode(h, payloadJson);
  }

  /** One exception message ({@code :message-type = exception}), as Bedrock sends mid-stream. */
  public static byte[] exception(String exceptionType, String message) {
    Map<String, HeaderValue> h = new LinkedHashMap<>();
    h.put(":exception-type", HeaderValue.fromString(exceptionType));
    h.put(":content-type", HeaderValue.fromString("application/json"));
    h.put(":message-type", HeaderValue.fromString("exception"));
    return encode(h, Json.write(Json.object().put("message", message)));
  }

  /** Every line of an ndjson fixture as an event message, in order, concatenated. */
  public static byte[] fromNdjsonFixture(String fixture) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (String line : Fixtures.text(fixture).split("\n")) {
      if (line.isBlank()) {
        continue;
      }
      out.writeBytes(fromNdjsonLine(line));
    }
    return out.toByteArray();
  }

  /** {@code {"contentBlockDelta": {...}}} as a binary message, with a padding field added to the payload. */
  public static byte[] fromNdjsonLine(String line) {
    try {
      JsonNode node = Json.parse(line);
      String type = node.fieldNames().next();
      ObjectNode payload = ((ObjectNode) node.get(type)).deepCopy();
      payload.put("p", "abcdefghijklmnopqrstuvwxyz".substring(0, 1 + type.length() % 26));
      return event(type, Json.write(payload));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static byte[] concat(List<byte[]> parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    parts.forEach(out::writeBytes);
    return out.toByteArray();
  }

  private static byte[] encode(Map<String, HeaderValue> headers, String payload) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    new Message(headers, payload.getBytes(StandardCharsets.UTF_8)).encode(out);
    return out.toByteArray();
  }
}
