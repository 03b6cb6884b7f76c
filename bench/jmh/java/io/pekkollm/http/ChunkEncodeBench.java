package io.pekkollm.http;

import io.pekkollm.model.ChatChunk;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.util.ByteString;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

/**
 * The gateway's write path per chunk: {@link ChatCompletionsCodec#writeChunk} (Jackson's JsonGenerator), and the same
 * wrapped as the SSE event the gateway sends ({@code id: n}, {@code data: ...}, as the gateway's ChatCompletionsEvents does).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
public class ChunkEncodeBench {
  private final ChatChunk chunk = ChatChunk.text(" the lighthouse keeper");
  private final String id = "chatcmpl-8f3a2c1d9e7b6a5f4e3d2c1b0a9f8e7d";
  private long seq;

  @Benchmark
  public String writeChunk() {
    return ChatCompletionsCodec.writeChunk(chunk, id, "openai/gpt-4o-mini", 1_700_000_000L, false);
  }

  @Benchmark
  public ByteString writeSseEvent() {
    String json = ChatCompletionsCodec.writeChunk(chunk, id, "openai/gpt-4o-mini", 1_700_000_000L, false);
    return ByteString.fromString("id: " + (++seq) + "\ndata: " + json + "\n\n");
  }
}
