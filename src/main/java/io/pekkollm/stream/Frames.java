package io.pekkollm.stream;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.util.Json;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.stream.javadsl.FramingTruncation;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import software.amazon.eventstream.HeaderValue;
import software.amazon.eventstream.Message;

/**
 * Splits a streamed response body into frames, incrementally and with backpressure. SSE uses {@link SseFraming}
 * (LF, CRLF and CR line ends, comments, multi-line {@code data:}, events split at any byte), with the size
 * limits of Pekko HTTP's own settings {@code pekko.http.sse.max-line-size} / {@code max-event-size}, which
 * pekko-llm-pekko.conf raises for LLM streams. NDJSON uses Pekko's delimiter framing bounded by the event limit.
 * AWS event-stream uses {@link AwsEventStreamFraming} (both CRCs checked), bounded by the same limit.
 *
 * <p>Create one per ActorSystem (settings are read once); thread-safe.
 */
public final class Frames {
  private final int maxLineBytes;
  private final int maxEventBytes;

  public Frames(ActorSystem<?> system) {
    var config = system.settings().config();
    this.maxLineBytes = (int) Math.min(Integer.MAX_VALUE, config.getBytes("pekko.http.sse.max-line-size"));
    this.maxEventBytes = (int) Math.min(Integer.MAX_VALUE, config.getBytes("pekko.http.sse.max-event-size"));
  }

  /**
   * One frame: an SSE event (type may be null), one NDJSON line (type null), or one AWS event-stream message.
   * For the latter, {@code eventType} is the {@code :event-type} header of an event, the
   * {@code :exception-type} of an exception (AWS names these {@code ...Exception}, e.g.
   * {@code throttlingException}), or {@code "error"} for a protocol error message, whose data is then
   * {@code {"message": <:error-message>, "code": <:error-code>}}. {@code data} is the UTF-8 payload.
   */
  public record Frame(String eventType, String data) {}

  public Source<Frame, NotUsed> decode(Framing framing, HttpEntity entity) {
    return switch (framing) {
      case SSE -> sse(entity);
      case NDJSON -> ndjson(entity.getDataBytes());
      case AWS_EVENT_STREAM -> awsEventStream(entity.getDataBytes());
    };
  }

  /** SSE frames of a byte stream (for example an upstream body). */
  public Source<Frame, NotUsed> sse(Source<ByteString, ?> bytes) {
    return bytes.via(new SseFraming(maxLineBytes, maxEventBytes)).mapMaterializedValue(m -> NotUsed.getInstance());
  }

  private Source<Frame, NotUsed> sse(HttpEntity entity) {
    // Upstreams label SSE inconsistently (charset parameters, or none at all): the body is parsed as SSE whatever
    // its label, since it was asked for.
    return sse(entity.withoutSizeLimit().getDataBytes());
  }

  /** NDJSON frames: one per non-blank line; a last line without newline still counts. */
  public Source<Frame, NotUsed> ndjson(Source<ByteString, ?> bytes) {
    return bytes
        .via(org.apache.pekko.stream.javadsl.Framing.delimiter(ByteString.fromString("\n"), maxEventBytes,
            FramingTruncation.ALLOW))
        .map(line -> line.utf8String().strip())
        .filter(line -> !line.isEmpty())
        .map(line -> new Frame(null, line))
        .mapMaterializedValue(m -> NotUsed.getInstance());
  }

  /** AWS event-stream frames: one per binary message, CRCs verified. */
  public Source<Frame, NotUsed> awsEventStream(Source<ByteString, ?> bytes) {
    return bytes
        .via(new AwsEventStreamFraming(maxEventBytes))
        .map(Frames::toFrame)
        .mapMaterializedValue(m -> NotUsed.getInstance());
  }

  static Frame toFrame(Message message) {
    Map<String, HeaderValue> headers = message.getHeaders();
    String data = new String(message.getPayload(), StandardCharsets.UTF_8);
    String messageType = header(headers, ":message-type");
    if ("exception".equals(messageType)) {
      return new Frame(header(headers, ":exception-type"), data);
    }
    if ("error".equals(messageType)) {
      // Protocol-level errors carry their details in headers, not in the payload.
      ObjectNode err = Json.object();
      err.put("message", header(headers, ":error-message"));
      err.put("code", header(headers, ":error-code"));
      return new Frame("error", Json.write(err));
    }
    return new Frame(header(headers, ":event-type"), data);
  }

  private static String header(Map<String, HeaderValue> headers, String name) {
    HeaderValue v = headers.get(name);
    if (v == null) {
      return null;
    }
    try {
      return v.getString();
    } catch (RuntimeException notAString) {
      // The protocol allows typed headers (ints, timestamps...); Bedrock sends strings only.
      return String.valueOf(v);
    }
  }

}
