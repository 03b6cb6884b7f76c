package io.pekkollm.provider;

import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.EmbeddingRequest;
import io.pekkollm.model.EmbeddingResponse;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.ModelInfo;
import io.pekkollm.resilience.RateLimitHeaders;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiConsumer;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;

/**
 * The provider SPI: one implementation per provider API. A provider turns a request into a stream of
 * {@link ChatChunk}s; non-streaming calls fold the same stream, so each provider has exactly one code path.
 *
 * <p>Implementations must be thread-safe: many calls run at once. The returned source must do nothing until
 * materialized, and cancelling it must release the upstream connection.
 */
public interface ChatProvider {

  /** The provider id, the part before the slash in {@code provider/model}. */
  String name();

  /**
   * Sends {@code request} (whose {@link ChatRequest#model()} is this provider's own model id) and emits the
   * answer as chunks. With {@code streaming} false the provider may ask its API for one complete response
   * and emit it as a single chunk. Errors fail the source with an {@link io.pekkollm.model.LlmException}.
   */
  Source<ChatChunk, NotUsed> stream(ChatRequest request, boolean streaming);

  /**
   * Sends {@code request} for one complete (not streamed) answer and completes with its chunks. The same answer as
   * {@code stream(request, false)} folded to a list, which is what this default does; a provider may answer it
   * without running a stream (one HTTP exchange and a parse), which is what the non-streaming path uses.
   * Fails with an {@link io.pekkollm.model.LlmException}.
   */
  default CompletionStage<List<ChatChunk>> complete(ChatRequest request, Materializer materializer) {
    return stream(request, false).runWith(Sink.seq(), materializer);
  }

  /**
   * {@link #stream(ChatRequest, boolean)} with {@code headers} (never empty; e.g. the W3C {@code traceparent} of
   * the attempt's span) added to the upstream request. A provider that sends no HTTP request ignores them, which
   * is this default.
   */
  default Source<ChatChunk, NotUsed> stream(ChatRequest request, boolean streaming,
      java.util.Map<String, String> headers) {
    return stream(request, streaming);
  }

  /** {@link #complete(ChatRequest, Materializer)} with {@code headers} added; see {@link #stream(ChatRequest, boolean, java.util.Map)}. */
  default CompletionStage<List<ChatChunk>> complete(ChatRequest request, Materializer materializer,
      java.util.Map<String, String> headers) {
    return complete(request, materializer);
  }

  /**
   * Embeds {@code request}'s inputs (whose {@link EmbeddingRequest#model()} is this provider's own model id, and
   * which are at most {@link #embeddingBatchSize} many) in one exchange: one vector per input, in order, with the
   * input tokens the provider reported (or estimated). Fails with an {@link LlmException}; the default, for
   * providers without an embeddings API, with INVALID_REQUEST naming the model.
   */
  default CompletionStage<EmbeddingResponse> embed(EmbeddingRequest request) {
    return noEmbeddings(name());
  }

  /** The failure of {@link #embed} of provider {@code name}, which has no embeddings API. */
  static CompletionStage<EmbeddingResponse> noEmbeddings(String name) {
    return CompletableFuture.failedFuture(new LlmException(ErrorKind.INVALID_REQUEST, "provider '" + name
        + "' has no embeddings API; embedding providers: OpenAI and OpenAI-compatible hosts, gemini, ollama, "
        + "cohere, bedrock, mock", null, false, "model"));
  }

  /**
   * {@link #embed(EmbeddingRequest)} with {@code headers} added to the upstream request (never empty; the W3C
   * {@code traceparent} of the attempt's span). A provider that sends no HTTP request ignores them, as this default
   * does.
   */
  default CompletionStage<EmbeddingResponse> embed(EmbeddingRequest request, java.util.Map<String, String> headers) {
    return embed(request);
  }

  /** The most inputs one {@link #embed} call may carry for {@code model}; larger requests are split. */
  default int embeddingBatchSize(String model) {
    return 2048;
  }

  /** The models this provider offers, from its API where it has one. */
  CompletionStage<List<ModelInfo>> listModels();

  /**
   * Registers who hears the rate-limit state the provider's responses report (see {@link RateLimitHeaders}):
   * the provider's own model id and what its headers said. Called once, by the provider's actor, before any
   * call; implementations call {@code observer} from any thread, cheaply, and only when a response carried such
   * headers. The default ignores it (a provider without such headers).
   */
  default void observeRateLimits(BiConsumer<String, RateLimitHeaders.Learned> observer) {}

  /** Releases resources the provider owns. Called when its actor stops. */
  default void close() {}
}
