package io.pekkollm.stream;

import io.pekkollm.provider.Framing;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpEntity;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.unmarshalling.sse.EventStreamUnmarshalling;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * Splits a streamed response body into frames, incrementally and with backpressure. SSE uses Pekko HTTP's
 * event-stream parser (LF, CRLF and CR line ends, comments, multi-line {@code data:}, events split at any
 * byte); its size limits come from {@code pekko.http.sse.max-line-size} / {@code max-event-size}, which
 * reference.conf raises for LLM streams. NDJSON uses Pekko's delimiter framing bounded by the same limit.
 */
public final class Frames {
  private Frames() {}

  /** One frame: an SSE event (type may be null) or one NDJSON line (type null). */
  public record Frame(String eventType, String data) {}

  public static Source<Frame, NotUsed> decode(Framing framing, HttpEntity entity, ActorSystem<?> system) {
    return switch (framing) {
      case SSE -> sse(entity, system);
      case NDJSON -> ndjson(entity.getDataBytes(), system);
    };
  }

  /** SSE frames of a byte stream (for example an upstream body). */
  public static Source<Frame, NotUsed> sse(Source<ByteString, ?> bytes, ActorSystem<?> system) {
    return sse(HttpEntities.create(MediaTypes.TEXT_EVENT_STREAM.toContentType(), bytes), system);
  }

  private static Source<Frame, NotUsed> sse(HttpEntity entity, ActorSystem<?> system) {
    // Upstreams label SSE inconsistently (charset parameters, or none at all); the unmarshaller insists on
    // text/event-stream, so relabel rather than reject a stream we asked for.
    HttpEntity relabelled = entity.withContentType(MediaTypes.TEXT_EVENT_STREAM.toContentType());
    return Source.completionStageSource(
            EventStreamUnmarshalling.fromEventsStream(system.classicSystem())
                .unmarshal(relabelled.withoutSizeLimit(), Materializer.matFromSystem(system)))
        .map(ev -> new Frame(ev.getEventType().orElse(null), ev.getData()))
        .mapMaterializedValue(m -> NotUsed.getInstance());
  }

  private static Source<Frame, NotUsed> ndjson(Source<ByteString, ?> bytes, ActorSystem<?> system) {
    int max = (int) Math.min(Integer.MAX_VALUE,
        system.settings().config().getBytes("pekko.http.sse.max-event-size"));
    return bytes
        .via(org.apache.pekko.stream.javadsl.Framing.delimiter(ByteString.fromString("\n"), max, org.apache.pekko.stream.javadsl.FramingTruncation.ALLOW))
        .map(ByteString::utf8String)
        .map(String::strip)
        .filter(line -> !line.isEmpty())
        .map(line -> new Frame(null, line))
        .mapMaterializedValue(m -> NotUsed.getInstance());
  }
}
