package io.pekkollm.provider.mock;

import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.EmbeddingRequest;
import io.pekkollm.model.EmbeddingResponse;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Message;
import io.pekkollm.model.ModelInfo;
import io.pekkollm.model.ToolCall;
import io.pekkollm.model.ToolCallDelta;
import io.pekkollm.model.Usage;
import io.pekkollm.provider.ChatProvider;
import io.pekkollm.provider.ErrorClassifier;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.function.Function;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;

/**
 * A provider that answers without a network, for tests and demos. By default it echoes the last user message
 * ({@code mock/echo}); model {@code error-<status>} fails as an upstream would with that HTTP status.
 * Configure fixed replies, a handler function, failures (before the first chunk or after N chunks), chunk
 * size and delay with the {@link Builder}. Every request is captured (the newest {@code captureLimit}).
 *
 * <p>Thread-safe. Streams are split into word-sized chunks (each word with the whitespace after it).
 */
public final class MockProvider implements ChatProvider {
  private final String name;
  private final Function<ChatRequest, MockReply> handler;
  private final Duration chunkDelay;
  private final int wordsPerChunk;
  private final int failAfterChunks;
  private final LlmException midStreamFailure;
  private final int captureLimit;
  private final List<String> models;
  private final ConcurrentLinkedDeque<ChatRequest> captured = new ConcurrentLinkedDeque<>();
  private final int embeddingBatchSize;
  private final java.util.concurrent.atomic.AtomicInteger embedCalls = new java.util.concurrent.atomic.AtomicInteger();

  private MockProvider(Builder b) {
    this.name = b.name;
    this.handler = b.handler;
    this.chunkDelay = b.chunkDelay;
    this.wordsPerChunk = b.wordsPerChunk;
    this.failAfterChunks = b.failAfterChunks;
    this.midStreamFailure = b.midStreamFailure;
    this.captureLimit = b.captureLimit;
    this.models = List.copyOf(b.models);
    this.embeddingBatchSize = b.embeddingBatchSize;
  }

  /** A builder for a mock named {@code mock}. */
  public static Builder builder() {
    return new Builder("mock");
  }

  public static Builder builder(String name) {
    return new Builder(name);
  }

  @Override
  public String name() {
    return name;
  }

  /** The requests received so far, oldest first (model ids without the provider prefix). */
  public List<ChatRequest> requests() {
    return List.copyOf(captured);
  }

  public void clearRequests() {
    captured.clear();
  }

  @Override
  public Source<ChatChunk, NotUsed> stream(ChatRequest request, boolean streaming) {
    return Source.lazySource(() -> {
      captured.addLast(request);
      while (captured.size() > captureLimit) {
        captured.pollFirst();
      }
      MockReply reply;
      try {
        reply = handler.apply(request);
      } catch (RuntimeException e) {
        // Fail the stream, not the stage factory (Pekko would log a thrown factory error as a crash).
        return Source.<ChatChunk>failed(e);
      }
      List<ChatChunk> chunks = streaming ? split(reply, request) : List.of(whole(reply, request));
      Source<ChatChunk, NotUsed> src = Source.from(chunks);
      if (midStreamFailure != null) {
        // Lazily: Source.failed fails as soon as it is materialized, and concat materializes both inputs at once.
        src = src.take(failAfterChunks).concatLazy(Source.lazySource(() -> Source.<ChatChunk>failed(midStreamFailure)));
      }
      Duration delay = delayFor(request);
      if (!delay.isZero() && streaming) {
        src = src.throttle(1, delay);
      }
      return src;
    }).mapMaterializedValue(f -> NotUsed.getInstance());
  }

  /** The chunk delay: the builder's, or the request's {@code mock_chunk_delay_ms} metadata. */
  private Duration delayFor(ChatRequest request) {
    String ms = request.metadata().get("mock_chunk_delay_ms");
    if (ms != null) {
      try {
        return Duration.ofMillis(Math.max(0, Math.min(60_000, Long.parseLong(ms))));
      } catch (NumberFormatException e) {
        throw LlmException.invalidRequest("metadata.mock_chunk_delay_ms must be an integer", "metadata");
      }
    }
    return chunkDelay;
  }

  private List<ChatChunk> split(MockReply reply, ChatRequest request) {
    List<ChatChunk> out = new ArrayList<>();
    List<String> words = words(reply.text());
    for (int i = 0; i < words.size(); i += wordsPerChunk) {
      String piece = String.join("", words.subList(i, Math.min(words.size(), i + wordsPerChunk)));
      out.add(new ChatChunk(null, request.model(), piece, null, List.of(), null, null));
    }
    List<ToolCall> calls = reply.toolCalls();
    for (int i = 0; i < calls.size(); i++) {
      ToolCall c = calls.get(i);
      out.add(new ChatChunk(null, request.model(), null, null,
          List.of(new ToolCallDelta(i, c.id(), c.name(), c.arguments())), null, null));
    }
    out.add(new ChatChunk(null, request.model(), null, null, List.of(), reply.finishReason(), usage(reply, request)));
    return out;
  }

  private ChatChunk whole(MockReply reply, ChatRequest request) {
    List<ToolCallDelta> calls = new ArrayList<>();
    for (int i = 0; i < reply.toolCalls().size(); i++) {
      ToolCall c = reply.toolCalls().get(i);
      calls.add(new ToolCallDelta(i, c.id(), c.name(), c.arguments()));
    }
    return new ChatChunk(null, request.model(), reply.text(), null, calls, reply.finishReason(), usage(reply, request));
  }

  private static Usage usage(MockReply reply, ChatRequest request) {
    if (reply.usage() != null) {
      return reply.usage();
    }
    int inputChars = 0;
    for (Message m : request.messages()) {
      inputChars += m.text().length();
    }
    // A documented estimate: about four characters per token, at least one token.
    return Usage.of(Math.max(1, (inputChars + 3) / 4), Math.max(1, (reply.text().length() + 3) / 4));
  }

  /** Splits text into words, each keeping the whitespace that follows it, so joining gives the text back. */
  static List<String> words(String text) {
    List<String> out = new ArrayList<>();
    int start = 0;
    int i = 0;
    int n = text.length();
    while (i < n) {
      while (i < n && !Character.isWhitespace(text.charAt(i))) {
        i++;
      }
      while (i < n && Character.isWhitespace(text.charAt(i))) {
        i++;
      }
      out.add(text.substring(start, i));
      start = i;
    }
    return out;
  }

  /**
   * Deterministic embeddings without a network: each lower-cased word of a text adds to one of
   * {@code dimensions} (default 16) buckets chosen by its hash, and the vector is normalized, so texts sharing
   * words are near each other. Model {@code error-<status>} fails as for chat; usage counts words.
   */
  @Override
  public CompletionStage<EmbeddingResponse> embed(EmbeddingRequest request) {
    embedCalls.incrementAndGet();
    try {
      if (request.model().startsWith("error-")) {
        defaultHandler(name, ChatRequest.builder(request.model()).build());
      }
      int dims = request.dimensions() == null ? 16 : request.dimensions();
      List<float[]> vectors = new ArrayList<>();
      int words = 0;
      List<String> texts = request.texts().isEmpty()
          ? request.tokens().stream().map(t -> t.stream().map(String::valueOf)
              .collect(java.util.stream.Collectors.joining(" "))).toList()
          : request.texts();
      for (String text : texts) {
        float[] v = new float[dims];
        for (String w : text.toLowerCase(java.util.Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
          if (!w.isEmpty()) {
            v[Math.floorMod(w.hashCode(), dims)] += 1;
            words++;
          }
        }
        double norm = 0;
        for (float x : v) {
          norm += x * x;
        }
        if (norm == 0) {
          v[0] = 1;
        } else {
          for (int i = 0; i < dims; i++) {
            v[i] = (float) (v[i] / Math.sqrt(norm));
          }
        }
        vectors.add(v);
      }
      return CompletableFuture.completedFuture(
          new EmbeddingResponse(request.model(), vectors, Usage.of(Math.max(1, words), 0), null));
    } catch (LlmException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public int embeddingBatchSize(String model) {
    return embeddingBatchSize;
  }

  /** How many {@link #embed} calls this mock has answered (each batch of a split request is one). */
  public int embedCalls() {
    return embedCalls.get();
  }

  @Override
  public CompletionStage<List<ModelInfo>> listModels() {
    List<ModelInfo> out = new ArrayList<>();
    for (String m : models) {
      out.add(new ModelInfo(name + "/" + m, name, 0, "pekko-llm"));
    }
    return CompletableFuture.completedFuture(out);
  }

  /** The default behaviour: {@code echo} repeats the last user message; {@code error-<status>} fails. */
  public static MockReply defaultHandler(String provider, ChatRequest request) {
    String model = request.model();
    if (model.startsWith("error-")) {
      int status;
      try {
        status = Integer.parseInt(model.substring(6));
      } catch (NumberFormatException e) {
        status = 500;
      }
      String body = "{\"error\":{\"message\":\"simulated HTTP " + status + " from the mock provider\",\"type\":\"mock_error\"}}";
      Map<String, String> headers = status == 429 ? Map.of("retry-after", "1") : Map.of();
      throw ErrorClassifier.fromHttp(provider, status, headers, body, ErrorClassifier.parseCommonBody(body),
          Instant.now());
    }
    if (!model.equals("echo")) {
      throw new LlmException(ErrorKind.MODEL_NOT_FOUND, "the mock provider has no model '" + model
          + "': use " + provider + "/echo or " + provider + "/error-<status>", null, false, "model");
    }
    return MockReply.text(echoOf(request));
  }

  /**
   * What {@code echo} answers. A continuation request (the partial answer as a trailing assistant turn, or
   * followed by the continue instruction) gets the rest of the echo, so resumes through the mock are exact.
   */
  static String echoOf(ChatRequest request) {
    List<Message> ms = request.messages();
    int n = ms.size();
    int assistantAt = -1;
    if (n >= 2 && ms.get(n - 1) instanceof Message.Assistant) {
      assistantAt = n - 1;
    } else if (n >= 3 && ms.get(n - 2) instanceof Message.Assistant && ms.get(n - 1) instanceof Message.User u
        && u.text().equals(io.pekkollm.model.Continuation.INSTRUCTION)) {
      assistantAt = n - 2;
    }
    if (assistantAt > 0 && ms.get(assistantAt - 1) instanceof Message.User original) {
      String target = original.text();
      String partial = ms.get(assistantAt).text();
      return target.startsWith(partial) ? target.substring(partial.length()) : target;
    }
    return request.lastUserText();
  }

  /** Builder for {@link MockProvider}; not thread-safe. */
  public static final class Builder {
    private final String name;
    private Function<ChatRequest, MockReply> handler;
    private Duration chunkDelay = Duration.ZERO;
    private int wordsPerChunk = 1;
    private int failAfterChunks;
    private LlmException midStreamFailure;
    private int captureLimit = 1000;
    private List<String> models = List.of("echo");
    private int embeddingBatchSize = 2048;

    private Builder(String name) {
      this.name = Objects.requireNonNull(name);
      this.handler = r -> defaultHandler(this.name, r);
    }

    /** Always answer {@code text}. */
    public Builder reply(String text) {
      MockReply r = MockReply.text(text);
      this.handler = req -> r;
      return this;
    }

    /** Answer whatever {@code fn} returns for the request; {@code fn} may throw an LlmException. */
    public Builder handler(Function<ChatRequest, MockReply> fn) {
      this.handler = Objects.requireNonNull(fn);
      return this;
    }

    /** Fail every call with {@code error} before any chunk. */
    public Builder failWith(LlmException error) {
      this.handler = req -> {
        throw error;
      };
      return this;
    }

    /** Emit {@code n} chunks, then fail with {@code error} (a mid-stream failure). */
    public Builder failAfterChunks(int n, LlmException error) {
      this.failAfterChunks = n;
      this.midStreamFailure = error;
      return this;
    }

    public Builder chunkDelay(Duration delay) {
      this.chunkDelay = Objects.requireNonNull(delay);
      return this;
    }

    public Builder wordsPerChunk(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("wordsPerChunk must be at least 1");
      }
      this.wordsPerChunk = n;
      return this;
    }

    public Builder captureLimit(int n) {
      this.captureLimit = n;
      return this;
    }

    /** The model ids {@link #listModels()} reports. */
    public Builder models(List<String> ids) {
      this.models = List.copyOf(ids);
      return this;
    }

    /** The most inputs one embedding call takes (larger requests are split by the caller); default 2048. */
    public Builder embeddingBatchSize(int n) {
      this.embeddingBatchSize = Math.max(1, n);
      return this;
    }

    public MockProvider build() {
      return new MockProvider(this);
    }
  }
}
