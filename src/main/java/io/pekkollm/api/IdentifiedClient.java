package io.pekkollm.api;

import io.pekkollm.keys.CallerIdentity;
import io.pekkollm.keys.KeyService;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.Cost;
import io.pekkollm.model.Usage;
import io.pekkollm.stream.ChatStream;
import java.math.BigDecimal;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Source;

/**
 * An {@link LlmClient} calling on behalf of one {@link CallerIdentity}, from {@link LlmClient#as}: each call is
 * admitted by the identity's virtual key ({@link KeyService#admit}: its model list, rate and parallel limits,
 * budget), charged to it when it ends (catalog cost, tokens), and its journalled stream belongs to the key (so the
 * gateway shows it to that key only). A refused call fails with {@link io.pekkollm.keys.KeyException}. Thin: the
 * checks and the accounting are the keys package's. Thread-safe; nothing to close.
 */
public final class IdentifiedClient {
  private final LlmClient client;
  private final KeyService keys;
  private final CallerIdentity who;

  IdentifiedClient(LlmClient client, KeyService keys, CallerIdentity who) {
    this.client = client;
    this.keys = keys;
    this.who = who;
  }

  /** The identity calls are made for. */
  public CallerIdentity identity() {
    return who;
  }

  /**
   * {@link LlmClient#chat(ChatRequest)}, admitted and charged by the identity's key; completes once the charge is
   * in the journal (at most {@code pekko-llm.keys.spend-write-timeout} later, see {@link KeyService.Ticket#settle}).
   */
  public CompletionStage<ChatResponse> chat(ChatRequest request) {
    return keys.identify(who).thenCompose(key -> keys.admit(key, request.model()))
        .thenCompose(ticket -> client.chat(owned(request)).handle((r, err) -> {
          CompletionStage<Void> charged = r == null ? ticket.settle(request.model(), null, 0)
              : ticket.settle(r.model(), r.cost().map(Cost::total).orElse(null),
                  r.usage() == null ? 0 : r.usage().totalTokens());
          return charged.handle((v, e) -> null).thenCompose(v -> err != null
              ? CompletableFuture.<ChatResponse>failedFuture(err) : CompletableFuture.completedFuture(r));
        }).thenCompose(x -> x));
  }

  /**
   * {@link LlmClient#stream(ChatRequest)}, admitted by the identity's key before the upstream call starts (a
   * refusal fails the source) and charged when the stream ends, however it ends. A stream that ends normally
   * completes only once its charge is in the journal (at most {@code pekko-llm.keys.spend-write-timeout} after its
   * last chunk, which is not held back), so a caller that saw it complete never loses its charge in a crash; one
   * that fails or is cancelled is charged for what it used without waiting.
   */
  public Source<ChatChunk, NotUsed> stream(ChatRequest request) {
    return Source.completionStageSource(keys.identify(who).thenCompose(key -> keys.admit(key, request.model()))
        .thenApply(ticket -> {
          AtomicReference<ChatStream> handle = new AtomicReference<>();
          AtomicReference<Usage> usage = new AtomicReference<>();
          // Settled once (a Ticket's second settle does nothing): at the end before completing, else when the
          // stream fails or is cancelled.
          java.util.function.Supplier<CompletionStage<Void>> charge = () -> {
            ChatStream h = handle.get();
            String model = h == null ? request.model() : h.servedModel().orElse(request.model());
            Usage u = usage.get();
            BigDecimal cost = u == null ? null : client.cost(model, u).map(Cost::total).orElse(null);
            return ticket.settle(model, cost, u == null ? 0 : u.totalTokens());
          };
          return client.stream(owned(request))
              .mapMaterializedValue(h -> {
                handle.set(h);
                return NotUsed.getInstance();
              })
              .map(c -> {
                if (c.usage() != null) {
                  usage.set(c.usage());
                }
                return c;
              })
              .concatLazy(Source.lazyCompletionStageSource(() -> charge.get()
                  .handle((v, err) -> Source.<ChatChunk>empty())))
              .watchTermination((mat, done) -> {
                done.whenComplete((d, err) -> charge.get());
                return mat;
              });
        }))
        .mapMaterializedValue(m -> NotUsed.getInstance());
  }

  private ChatRequest owned(ChatRequest request) {
    return request.toBuilder().owner(who.keyId()).build();
  }
}
