package io.pekkollm.http;

import io.pekkollm.model.Usage;
import io.pekkollm.recovery.JournaledChunk;
import io.pekkollm.stream.ChatStream;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.japi.JavaPartialFunction;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The one way the gateway answers with server-sent events, whatever the wire format of the events (an
 * {@link EventEncoder} per API): the response starts once the first chunk is there, so an upstream that fails
 * before answering keeps its status (401 stays 401, 429 keeps Retry-After) in the caller's error shape; after
 * that a failure becomes the encoder's error event and the stream ends without its normal end. Quiet streams get
 * keep-alive comments. Thread-safe.
 */
final class SseResponses {
  // An SSE comment line: ignored by clients, keeps proxies and idle timers from closing a quiet stream.
  private static final ByteString KEEP_ALIVE = ByteString.fromString(": keep-alive\n\n");

  private final ActorSystem<?> system;
  private final Duration keepAlive;

  SseResponses(ActorSystem<?> system, Duration keepAlive) {
    this.system = system;
    this.keepAlive = keepAlive;
  }

  /**
   * Turns journalled chunks into events of one API's wire format. One per response; used by one stream stage at
   * a time. A chunk of null (sequence -1) is a marker that lets a response start before its first new chunk.
   */
  interface EventEncoder {
    /** The bytes of the events for one chunk; empty when the chunk shows nothing in this format. */
    List<ByteString> encode(JournaledChunk chunk);

    /** The bytes that end a stream that completed normally (e.g. {@code data: [DONE]}). */
    List<ByteString> finish();

    /** The event that ends a stream interrupted by {@code error} after it started (never followed by finish). */
    ByteString error(Throwable error);

    /** The whole answer when the stream fails before its first event: the caller's error shape and status. */
    HttpResponse errorResponse(Throwable error);
  }

  /** Told once when a response's stream ends (completed, failed or cancelled by the client). */
  interface Metered<M> {
    Metered<Object> NONE = (handle, providerModel, usage) -> CompletableFuture.completedFuture(null);

    /**
     * The stream of {@code handle} (null when it failed before materializing) ended having reported
     * {@code usage} (null: none) for {@code providerModel} (the chunks' model, may be null); the stage completes
     * when its charge is written ({@link GatewayAuth.Charge#settle}): the stream's last event waits for it.
     */
    CompletionStage<Void> ended(M handle, String providerModel, Usage usage);
  }

  /** No metering. */
  @SuppressWarnings("unchecked")
  static <M> Metered<M> unmetered() {
    return (Metered<M>) Metered.NONE;
  }

  /**
   * The metering of a stream of {@code client}: {@code charge} settled with the stream's cost on the model that
   * served it ({@code served} reads it from the handle, {@code fallback} when there is none).
   */
  static Metered<ChatStream> metered(io.pekkollm.api.LlmClient client, GatewayAuth.Charge charge, String fallback) {
    if (charge == GatewayAuth.Charge.NONE) {
      return unmetered();
    }
    return (handle, providerModel, usage) -> {
      String model = handle == null ? fallback : handle.servedModel().orElse(fallback);
      java.math.BigDecimal cost = usage == null ? null
          : client.cost(model, providerModel, usage).map(io.pekkollm.model.Cost::total).orElse(null);
      return charge.settle(model, cost, usage == null ? 0 : usage.totalTokens());
    };
  }

  /**
   * Answers {@code source} as SSE encoded by {@code encoder}, after the {@code preamble} events. {@code recoveryId}
   * and {@code extraHeaders} read the stream's handle (its materialized value) when the headers are written;
   * {@code metered} hears of the stream's end, with its usage. The events that end the stream (the encoder's
   * finish, or its error event) go out after the stream's charge is written (see {@link GatewayAuth.Charge}), so a
   * client that saw a stream end never sees its charge lost in a crash; every earlier event goes out at once.
   */
  <M> CompletionStage<HttpResponse> respond(Source<JournaledChunk, M> source, EventEncoder encoder,
      List<ByteString> preamble, Function<M, String> recoveryId, Function<M, List<HttpHeader>> extraHeaders,
      Metered<M> metered) {
    CompletableFuture<M> handle = new CompletableFuture<>();
    Tally tally = new Tally();
    // The failure becomes the last element right here, before any asynchronous boundary: an error signal
    // overtakes the elements buffered at such a boundary (and mapConcat drops one it still holds), and every
    // chunk the journal released is owed to the client.
    Source<Object, NotUsed> items = source
        .mapMaterializedValue(m -> {
          handle.complete(m);
          return NotUsed.getInstance();
        })
        .<Object>map(j -> {
          tally.add(j);
          return j;
        })
        .recover(new JavaPartialFunction<Throwable, Object>() {
          @Override
          public Object apply(Throwable t, boolean isCheck) {
            return isCheck ? null : new StreamFailure(t);
          }
        });
    return items
        .prefixAndTail(1)
        .runWith(Sink.head(), system)
        .handle((pair, err) -> {
          M m = handle.getNow(null);
          String id = m == null ? null : recoveryId.apply(m);
          Throwable failure = err != null ? err
              : !pair.first().isEmpty() && pair.first().get(0) instanceof StreamFailure f ? f.error() : null;
          if (failure != null) {
            tally.end(metered, m);
            HttpResponse error = encoder.errorResponse(failure);
            return id == null ? error : error.addHeader(RawHeader.create("X-Recovery-Id", id));
          }
          // Encoding in one stage; the closing events come from a lazy source after the chunks, once the charge is
          // written (it is pulled only when the chunks completed). Each stage and inner stream here is kept for
          // the life of the response.
          Source<Object, NotUsed> all = pair.first().isEmpty() ? pair.second()
              : Source.from(pair.first()).concat(pair.second());
          Source<ByteString, NotUsed> body = all
              .map(x -> {
                if (x instanceof StreamFailure f) {
                  tally.failure = f.error();
                  return ByteString.emptyByteString();
                }
                return joined(encoder.encode((JournaledChunk) x));
              })
              // An interrupted stream ends with its error event, never with the normal end. concatLazy, not
              // concat: concat pulls its second source at once (it is detached), which would settle at the start.
              .concatLazy(Source.lazyCompletionStage(() -> tally.end(metered, m).handle((v, e) ->
                  tally.failure != null ? encoder.error(tally.failure) : joined(encoder.finish()))))
              .filter(b -> !b.isEmpty())
              .watchTermination((mv, done) -> {
                done.whenComplete((d, e) -> tally.end(metered, m));
                return NotUsed.getInstance();
              });
          if (!preamble.isEmpty()) {
            body = Source.from(preamble).concat(body);
          }
          if (!keepAlive.isZero()) {
            body = body.keepAlive(keepAlive, () -> KEEP_ALIVE);
          }
          HttpResponse resp = HttpResponse.create()
              .withEntity(HttpEntities.create(MediaTypes.TEXT_EVENT_STREAM.toContentType(), body))
              .addHeader(RawHeader.create("Cache-Control", "no-cache"))
              .addHeaders(m == null ? List.of() : extraHeaders.apply(m));
          return id == null ? resp : resp.addHeader(RawHeader.create("X-Recovery-Id", id));
        });
  }

  /**
   * Streams {@code request} through {@code client} (journalled: routing, resilience, cache and costs apply) as SSE
   * by the encoder {@code events} makes from a supplier of the serving model's id. The handle is set when the
   * stream is materialized, before its first chunk is encoded: the model that serves (a group's member, after
   * fallbacks) is known once the first chunk is there, when the encoder and the headers ({@code X-Served-Model},
   * truncation, cache) are first used.
   */
  CompletionStage<HttpResponse> stream(io.pekkollm.api.LlmClient client, io.pekkollm.model.ChatRequest request,
      Function<java.util.function.Supplier<String>, EventEncoder> events, GatewayAuth.Charge charge) {
    return stream(client, request, events, charge, null);
  }

  /** As the method above, the stream journalled with {@code origin} (a {@link StreamOrigin}). */
  CompletionStage<HttpResponse> stream(io.pekkollm.api.LlmClient client, io.pekkollm.model.ChatRequest request,
      Function<java.util.function.Supplier<String>, EventEncoder> events, GatewayAuth.Charge charge, String origin) {
    java.util.concurrent.atomic.AtomicReference<ChatStream> handleRef = new java.util.concurrent.atomic.AtomicReference<>();
    java.util.function.Supplier<String> served = () -> {
      ChatStream h = handleRef.get();
      return h == null ? request.model() : h.servedModel().orElse(request.model());
    };
    EventEncoder encoder = events.apply(served);
    Source<JournaledChunk, ChatStream> source = client.streamJournaled(request, origin).mapMaterializedValue(h -> {
      handleRef.set(h);
      return h;
    });
    return respond(source, encoder, List.of(), ChatStream::recoveryId, handle -> {
      List<HttpHeader> headers = new java.util.ArrayList<>(ResponseHeaders.truncation(handle.truncation()));
      headers.add(RawHeader.create("X-Served-Model", served.get()));
      headers.addAll(ResponseHeaders.cache(handle.cacheStatus()));
      return headers;
    }, metered(client, charge, request.model()));
  }

  private static ByteString joined(List<ByteString> parts) {
    if (parts.size() == 1) {
      return parts.get(0);
    }
    ByteString all = ByteString.emptyByteString();
    for (ByteString b : parts) {
      all = all.concat(b);
    }
    return all;
  }

  /** The usage and provider model a stream's chunks report, told to its {@link Metered} once. */
  private static final class Tally {
    private volatile Usage usage;
    private volatile String providerModel;
    private final java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();
    // The failure that interrupted the stream after it started (its last element), or null.
    private volatile Throwable failure;

    void add(JournaledChunk j) {
      if (j.chunk() == null) {
        return;
      }
      if (j.chunk().usage() != null) {
        usage = usage == null ? j.chunk().usage() : usage.merge(j.chunk().usage());
      }
      if (j.chunk().model() != null) {
        providerModel = j.chunk().model();
      }
    }

    /** Tells {@code metered} of the end (the first time); completes when the charge is written (or at once). */
    <M> CompletionStage<Void> end(Metered<M> metered, M handle) {
      if (ended.compareAndSet(false, true)) {
        return metered.ended(handle, providerModel, usage);
      }
      return CompletableFuture.completedFuture(null);
    }
  }

  /** A stream's failure, carried as its last element. */
  private record StreamFailure(Throwable error) {}
}
