package io.pekkollm.stream;

import java.nio.ByteOrder;
import java.util.zip.CRC32;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.util.ByteString;
import software.amazon.eventstream.Message;

/**
 * Cuts a byte stream into AWS event-stream messages ({@code application/vnd.amazon.eventstream}), however
 * the bytes were split in transit. Each message is
 * {@code total_length(4) headers_length(4) prelude_crc(4) headers payload message_crc(4)}, big-endian.
 *
 * <p>This stage owns the streaming concerns: buffering until a whole message is there, and refusing a length
 * it cannot trust (the prelude CRC is checked before the length is believed, so a corrupted length can never
 * make it wait for, or allocate, gigabytes) or one above {@code maxMessageBytes}. Decoding a complete message,
 * including the message CRC and the typed headers, is done by the AWS SDK's own codec
 * ({@code software.amazon.eventstream}), which checks both CRCs again.
 *
 * <p>Fails with {@link MalformedFrameException} for a bad CRC, impossible length or unreadable header, and
 * with {@link IllegalStateException} when the body ends inside a message (a truncation). Backpressured: it
 * pulls only when downstream wants a message and no whole one is buffered. One instance may be materialized
 * many times.
 */
public final class AwsEventStreamFraming extends GraphStage<FlowShape<ByteString, Message>> {
  /** total length + headers length + prelude CRC. */
  static final int PRELUDE_BYTES = 12;
  /** An empty message: the prelude and the trailing message CRC. */
  static final int MIN_MESSAGE_BYTES = 16;

  private final int maxMessageBytes;
  private final Inlet<ByteString> in = Inlet.create("AwsEventStreamFraming.in");
  private final Outlet<Message> out = Outlet.create("AwsEventStreamFraming.out");
  private final FlowShape<ByteString, Message> shape = FlowShape.of(in, out);

  /** {@code maxMessageBytes}: the largest message accepted, prelude and CRCs included. */
  public AwsEventStreamFraming(int maxMessageBytes) {
    if (maxMessageBytes < MIN_MESSAGE_BYTES) {
      throw new IllegalArgumentException("maxMessageBytes must be at least " + MIN_MESSAGE_BYTES);
    }
    this.maxMessageBytes = maxMessageBytes;
  }

  @Override
  public FlowShape<ByteString, Message> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes inheritedAttributes) {
    return new GraphStageLogic(shape) {
      private ByteString buffer = ByteString.emptyByteString();
      /** Length of the message at the head of the buffer once its prelude checked out; -1 before. */
      private int expected = -1;

      {
        setHandler(in, new AbstractInHandler() {
          @Override
          public void onPush() {
            buffer = buffer.concat(grab(in));
            emitOrPull();
          }

          @Override
          public void onUpstreamFinish() {
            if (buffer.isEmpty()) {
              completeStage();
            } else if (isAvailable(out)) {
              emitOrPull();
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
        Message message;
        try {
          message = next();
        } catch (MalformedFrameException e) {
          failStage(e);
          return;
        }
        if (message != null) {
          push(out, message);
          if (isClosed(in) && buffer.isEmpty()) {
            completeStage();
          }
        } else if (isClosed(in)) {
          if (buffer.isEmpty()) {
            completeStage();
          } else {
            failStage(new IllegalStateException("the event stream ended inside a message ("
                + buffer.size() + " of " + (expected > 0 ? expected + "" : "at least " + PRELUDE_BYTES)
                + " bytes received)"));
          }
        } else if (!hasBeenPulled(in)) {
          pull(in);
        }
      }

      /** The next whole message, or null when more bytes are needed. */
      private Message next() {
        if (expected < 0) {
          if (buffer.size() < PRELUDE_BYTES) {
            return null;
          }
          expected = checkPrelude(buffer);
        }
        if (buffer.size() < expected) {
          return null;
        }
        ByteString bytes = buffer.take(expected);
        buffer = buffer.drop(expected);
        expected = -1;
        try {
          return Message.decode(bytes.toByteBuffer());
        } catch (RuntimeException e) {
          // The codec throws IllegalArgumentException for a message CRC mismatch or a bad header type,
          // and buffer exceptions for header lengths that overrun the message.
          throw new MalformedFrameException("event-stream message rejected: " + e.getMessage(), e);
        }
      }
    };
  }

  /** Verifies the prelude CRC and the lengths it protects; returns the message's total length. */
  private int checkPrelude(ByteString buffer) {
    var prelude = buffer.take(PRELUDE_BYTES).toByteBuffer().order(ByteOrder.BIG_ENDIAN);
    long total = Integer.toUnsignedLong(prelude.getInt(0));
    long headers = Integer.toUnsignedLong(prelude.getInt(4));
    long sent = Integer.toUnsignedLong(prelude.getInt(8));
    CRC32 crc = new CRC32();
    crc.update(buffer.take(8).toArray());
    if (crc.getValue() != sent) {
      throw new MalformedFrameException(String.format(
          "event-stream prelude checksum failure: expected 0x%08x, computed 0x%08x", sent, crc.getValue()));
    }
    if (total < MIN_MESSAGE_BYTES || total > maxMessageBytes) {
      throw new MalformedFrameException("event-stream message length " + total + " is outside "
          + MIN_MESSAGE_BYTES + ".." + maxMessageBytes + " bytes");
    }
    if (headers > total - MIN_MESSAGE_BYTES) {
      throw new MalformedFrameException("event-stream headers length " + headers + " exceeds the message ("
          + total + " bytes)");
    }
    return (int) total;
  }
}
