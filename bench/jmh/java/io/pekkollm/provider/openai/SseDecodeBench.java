package io.pekkollm.provider.openai;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.stream.Framing;
import io.pekkollm.provider.ProviderSettings;
import io.pekkollm.provider.StreamDecoder;
import io.pekkollm.stream.Frames;
import io.pekkollm.util.Json;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The streaming read path, upstream bytes to chunks: SSE framing alone ({@link Frames}, Pekko HTTP's parser),
 * framing plus the OpenAI decoder ({@code OpenAiProvider}'s, which calls {@link OpenAiMapper#readChunk}), and the
 * JSON chunk parse alone; NDJSON framing for comparison. Inputs are the recorded provider streams in
 * {@code ../shared/fixtures}, repeated to about 256 KB and cut into 4 KB reads. The {@code bytes} and
 * {@code chunks} counters give MB/s and chunks/s.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
public class SseDecodeBench {
  @Param({"groq/chat-stream-text.sse", "openai/chat-stream-text-usage-2024.sse"})
  public String fixture;

  private ActorSystem<Void> system;
  private Frames frames;
  private OpenAiProvider provider;
  private ChatRequest request;
  private List<ByteString> reads;
  private List<ByteString> ndjsonReads;
  private List<String> dataLines;
  private long payloadBytes;
  private long ndjsonBytes;
  private long dataBytes;

  /** Per-iteration counters JMH reports as rates. */
  @AuxCounters(AuxCounters.Type.OPERATIONS)
  @State(Scope.Thread)
  public static class Counters {
    public long bytes;
    public long chunks;

    @Setup(Level.Iteration)
    public void reset() {
      bytes = 0;
      chunks = 0;
    }
  }

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    Config config = ConfigFactory.parseString("pekko.loglevel = WARNING\npekko.stdout-loglevel = WARNING")
        .withFallback(ConfigFactory.load()).resolve();
    system = ActorSystem.create(Behaviors.empty(), "jmh-sse", config);
    frames = new Frames(system);
    Config p = ConfigFactory.parseString("base-url = \"http://127.0.0.1:9/v1\", api-key = bench")
        .withFallback(config.getConfig("pekko-llm.providers.openai"))
        .withFallback(config.getConfig("pekko-llm.provider-defaults"));
    provider = new OpenAiProvider(ProviderSettings.create("openai", p), system);
    request = ChatRequest.builder("gpt-4o-mini").user("hi").build();
    Path dir = Path.of(System.getProperty("bench.fixtures", "../shared/fixtures"));
    String text = Files.readString(dir.resolve(fixture));
    // The stream's events, [DONE] only once at the very end, repeated to about 256 KB.
    String events = text.replace("data: [DONE]\n\n", "").replace("data: [DONE]\n", "");
    StringBuilder sb = new StringBuilder();
    while (sb.length() < 256 * 1024) {
      sb.append(events);
    }
    sb.append("data: [DONE]\n\n");
    byte[] payload = sb.toString().getBytes(StandardCharsets.UTF_8);
    payloadBytes = payload.length;
    reads = slices(payload, 4096);
    dataLines = new ArrayList<>();
    for (String line : sb.toString().split("\n")) {
      if (line.startsWith("data: {")) {
        dataLines.add(line.substring(6));
        dataBytes += line.length() - 6;
      }
    }
    String nd = Files.readString(dir.resolve("ollama/chat-stream.ndjson"));
    StringBuilder nb = new StringBuilder();
    while (nb.length() < 256 * 1024) {
      nb.append(nd);
    }
    byte[] ndPayload = nb.toString().getBytes(StandardCharsets.UTF_8);
    ndjsonBytes = ndPayload.length;
    ndjsonReads = slices(ndPayload, 4096);
  }

  private static List<ByteString> slices(byte[] payload, int size) {
    List<ByteString> out = new ArrayList<>();
    for (int i = 0; i < payload.length; i += size) {
      out.add(ByteString.fromArray(payload, i, Math.min(size, payload.length - i)));
    }
    return out;
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    system.terminate();
  }

  /** SSE framing only: bytes to events. */
  @Benchmark
  public long sseFraming(Counters c) throws Exception {
    long n = frames.sse(Source.from(reads)).runWith(Sink.fold(0L, (acc, f) -> acc + 1), system)
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    c.bytes += payloadBytes;
    c.chunks += n;
    return n;
  }

  /** The whole read path of an OpenAI-compatible stream: framing, JSON parse, chunk. */
  @Benchmark
  public long sseFramingAndDecode(Counters c) throws Exception {
    StreamDecoder decoder = provider.newDecoder(request);
    long n = frames.decode(Framing.SSE, HttpEntities.create(MediaTypes.TEXT_EVENT_STREAM.toContentType(),
            Source.from(reads)))
        .mapConcat(f -> decoder.onFrame(f.eventType(), f.data()))
        .runWith(Sink.fold(0L, (acc, ch) -> acc + 1), system)
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    c.bytes += payloadBytes;
    c.chunks += n;
    return n;
  }

  /** The chunk parse alone (JSON tree + readChunk), on the events' data. */
  @Benchmark
  public long chunkParse(Counters c) throws Exception {
    long n = 0;
    for (String data : dataLines) {
      ChatChunk chunk = OpenAiMapper.readChunk(Json.parse(data));
      if (chunk != null) {
        n++;
      }
    }
    c.bytes += dataBytes;
    c.chunks += n;
    return n;
  }

  /**
   * Not the gateway's code: a sketch of SSE framing on Pekko's delimiter framing plus a per-line field parser
   * (LF and CRLF only; Pekko's parser also takes a bare CR), to size what replacing Pekko HTTP's SSE parser
   * ({@code sseFraming}) could gain.
   */
  @Benchmark
  public long sseFramingOnLines(Counters c) throws Exception {
    long n = reads.isEmpty() ? 0 : Source.from(reads)
        .via(org.apache.pekko.stream.javadsl.Framing.delimiter(ByteString.fromString("\n"), 8 * 1024 * 1024,
            org.apache.pekko.stream.javadsl.FramingTruncation.ALLOW))
        .statefulMapConcat(() -> {
          StringBuilder[] data = new StringBuilder[1];
          String[] event = new String[1];
          return line -> {
            String l = line.utf8String();
            if (!l.isEmpty() && l.charAt(l.length() - 1) == '\r') {
              l = l.substring(0, l.length() - 1);
            }
            if (l.isEmpty()) {
              if (data[0] == null) {
                return List.<Frames.Frame>of();
              }
              Frames.Frame f = new Frames.Frame(event[0], data[0].toString());
              data[0] = null;
              event[0] = null;
              return List.of(f);
            }
            if (l.charAt(0) == ':') {
              return List.<Frames.Frame>of();
            }
            int colon = l.indexOf(':');
            String field = colon < 0 ? l : l.substring(0, colon);
            int v = colon < 0 ? l.length() : colon + 1;
            if (v < l.length() && l.charAt(v) == ' ') {
              v++;
            }
            String value = l.substring(v);
            if (field.equals("data")) {
              if (data[0] == null) {
                data[0] = new StringBuilder(value);
              } else {
                data[0].append('\n').append(value);
              }
            } else if (field.equals("event")) {
              event[0] = value;
            }
            return List.<Frames.Frame>of();
          };
        })
        .runWith(Sink.fold(0L, (acc, f) -> acc + 1), system)
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    c.bytes += payloadBytes;
    c.chunks += n;
    return n;
  }

  /** NDJSON framing (Ollama's stream) for comparison with SSE framing. */
  @Benchmark
  public long ndjsonFraming(Counters c) throws Exception {
    long n = frames.ndjson(Source.from(ndjsonReads)).runWith(Sink.fold(0L, (acc, f) -> acc + 1), system)
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    c.bytes += ndjsonBytes;
    c.chunks += n;
    return n;
  }
}
