package io.pekkollm.stream;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.util.ByteString;

/**
 * Server-sent events parsed from a byte stream in one stage, as the WHATWG HTML standard's "interpreting an event
 * stream" says: lines end with CRLF, LF or CR (also when a chunk boundary splits CRLF); a line starting with a
 * colon is a comment; {@code field: value} loses one space after the colon; {@code data} lines are joined with LF;
 * {@code event} sets the type; {@code id} and {@code retry} are read and ignored (nothing here reconnects); a blank
 * line dispatches the event when it has data; an event the stream ends in the middle of is not dispatched.
 *
 * <p>Why not Pekko HTTP's own parser: it runs as two stages behind a future-flattening source, and on the recorded
 * provider streams it was about four times slower than line framing (see {@code bench/jmh}). Bytes are scanned
 * in place; only field values are decoded (UTF-8, so a multi-byte character split across chunks is intact: lines
 * are decoded whole). Lines longer than {@code maxLineBytes} and events longer than {@code maxEventBytes} fail the
 * stream with a {@link MalformedFrameException} that names the limit.
 */
public final class SseFraming extends GraphStage<FlowShape<ByteString, Frames.Frame>> {
  private static final byte LF = '\n';
  private static final byte CR = '\r';

  private final Inlet<ByteString> in = Inlet.create("SseFraming.in");
  private final Outlet<Frames.Frame> out = Outlet.create("SseFraming.out");
  private final FlowShape<ByteString, Frames.Frame> shape = FlowShape.of(in, out);
  private final int maxLineBytes;
  private final int maxEventBytes;

  public SseFraming(int maxLineBytes, int maxEventBytes) {
    this.maxLineBytes = maxLineBytes;
    this.maxEventBytes = maxEventBytes;
  }

  @Override
  public FlowShape<ByteString, Frames.Frame> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes attributes) {
    return new Logic();
  }

  private final class Logic extends GraphStageLogic {
    private final ArrayDeque<Frames.Frame> ready = new ArrayDeque<>(4);
    // The start of a line that the previous chunk ended in the middle of.
    private byte[] carry = new byte[0];
    private int carryLength;
    // The previous chunk ended with CR: an LF at the start of the next one belongs to it.
    private boolean skipLf;
    private StringBuilder data;
    private String eventType;
    private int eventBytes;

    Logic() {
      super(shape);
      setHandler(in, new AbstractInHandler() {
        @Override
        public void onPush() {
          ByteString chunk = grab(in);
          try {
            parse(chunk);
          } catch (MalformedFrameException e) {
            failStage(e);
            return;
          }
          emitOrPull();
        }

        @Override
        public void onUpstreamFinish() {
          // An incomplete last line or event is dropped (not dispatched), as the standard says.
          if (ready.isEmpty()) {
            completeStage();
          }
        }
      });
      setHandler(out, new AbstractOutHandler() {
        @Override
        public void onPull() {
          emitOrPull();
        }
      });
    }

    private void emitOrPull() {
      if (!isAvailable(out)) {
        return;
      }
      Frames.Frame f = ready.poll();
      if (f != null) {
        push(out, f);
        if (ready.isEmpty() && isClosed(in)) {
          completeStage();
        }
      } else if (isClosed(in)) {
        completeStage();
      } else if (!hasBeenPulled(in)) {
        pull(in);
      }
    }

    private void parse(ByteString chunk) {
      byte[] bytes = chunk.toArrayUnsafe();
      int offset = 0;
      int end = bytes.length;
      if (skipLf && end > 0) {
        skipLf = false;
        if (bytes[0] == LF) {
          offset = 1;
        }
      }
      int lineStart = offset;
      for (int i = offset; i < end; i++) {
        byte b = bytes[i];
        if (b != LF && b != CR) {
          continue;
        }
        if (carryLength > 0) {
          append(bytes, lineStart, i - lineStart);
          line(carry, 0, carryLength);
          carryLength = 0;
        } else {
          line(bytes, lineStart, i - lineStart);
        }
        if (b == CR) {
          if (i + 1 < end) {
            if (bytes[i + 1] == LF) {
              i++;
            }
          } else {
            skipLf = true;
          }
        }
        lineStart = i + 1;
      }
      if (lineStart < end) {
        append(bytes, lineStart, end - lineStart);
      }
    }

    private void append(byte[] bytes, int from, int length) {
      if (carryLength + length > maxLineBytes) {
        throw new MalformedFrameException("an SSE line exceeded the limit of " + maxLineBytes
            + " bytes (pekko.http.sse.max-line-size)");
      }
      if (carryLength + length > carry.length) {
        carry = Arrays.copyOf(carry, Math.max(carryLength + length, Math.min(maxLineBytes, carry.length * 2 + 64)));
      }
      System.arraycopy(bytes, from, carry, carryLength, length);
      carryLength += length;
    }

    private void line(byte[] bytes, int from, int length) {
      if (length > maxLineBytes) {
        throw new MalformedFrameException("an SSE line exceeded the limit of " + maxLineBytes
            + " bytes (pekko.http.sse.max-line-size)");
      }
      if (length == 0) {
        dispatch();
        return;
      }
      if (bytes[from] == ':') {
        return;
      }
      int colon = -1;
      for (int i = from; i < from + length; i++) {
        if (bytes[i] == ':') {
          colon = i;
          break;
        }
      }
      int nameEnd = colon < 0 ? from + length : colon;
      int valueStart = colon < 0 ? from + length : colon + 1;
      if (valueStart < from + length && bytes[valueStart] == ' ') {
        valueStart++;
      }
      int valueLength = from + length - valueStart;
      if (is(bytes, from, nameEnd, "data")) {
        eventBytes += valueLength + 1;
        if (eventBytes > maxEventBytes) {
          throw new MalformedFrameException("an SSE event exceeded the limit of " + maxEventBytes
              + " bytes (pekko.http.sse.max-event-size)");
        }
        String value = new String(bytes, valueStart, valueLength, StandardCharsets.UTF_8);
        if (data == null) {
          data = new StringBuilder(value);
        } else {
          data.append('\n').append(value);
        }
      } else if (is(bytes, from, nameEnd, "event")) {
        eventType = new String(bytes, valueStart, valueLength, StandardCharsets.UTF_8);
      }
      // id, retry and unknown fields: ignored.
    }

    private void dispatch() {
      if (data != null) {
        ready.add(new Frames.Frame(eventType, data.toString()));
      }
      data = null;
      eventType = null;
      eventBytes = 0;
    }
  }

  private static boolean is(byte[] bytes, int from, int to, String name) {
    if (to - from != name.length()) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      if (bytes[from + i] != name.charAt(i)) {
        return false;
      }
    }
    return true;
  }
}
