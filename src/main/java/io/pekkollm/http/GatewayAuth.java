package io.pekkollm.http;

import io.pekkollm.keys.KeyService;
import io.pekkollm.keys.VirtualKey;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.http.javadsl.model.AttributeKey;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * The gateway key check, the one place every protected route asks who is calling. A caller sends
 * {@code Authorization: Bearer <key>} (the Anthropic Messages routes also take Anthropic's {@code x-api-key}), with
 * the key being the gateway's {@code PEKKO_LLM_API_KEY} or {@code PEKKO_LLM_MASTER_KEY} (compared in constant time;
 * no limits), or a virtual key made through {@code /v1/keys} ({@link KeyService}: its model list, limits and budget
 * apply, through {@link Caller#admit}). Anything else is 401. With neither key set every request passes (the
 * gateway then binds loopback only, see {@link RequestGuard}). The caller travels with the request as its
 * {@link #CALLER} attribute.
 */
final class GatewayAuth {
  /** The request attribute naming who sends it, set once the key check passed. */
  static final AttributeKey<Caller> CALLER = AttributeKey.create("pekko-llm-caller", Caller.class);

  /** The request attribute the access log reads back: the key, team and model the request turned out to use. */
  static final AttributeKey<AccessNote> NOTE = AttributeKey.create("pekko-llm-access-note", AccessNote.class);

  /**
   * What the access log line adds about a request, filled in while it is handled: the virtual key's id (never
   * its secret) and team, and the model it asked for. Written by the request's handling, read once its response
   * is ready.
   */
  static final class AccessNote {
    volatile String keyId;
    volatile String team;
    volatile String model;

    /** The note of {@code req}, or null when the access log is off. */
    static AccessNote of(HttpRequest req) {
      return req.getAttribute(NOTE).orElse(null);
    }

    /** " key=... team=... model=..." for the fields known, or "". */
    String suffix() {
      String k = keyId;
      String t = team;
      String m = model;
      if (k == null && m == null) {
        return "";
      }
      StringBuilder sb = new StringBuilder();
      if (k != null) {
        sb.append(" key=").append(k);
        if (t != null) {
          sb.append(" team=").append(t);
        }
      }
      if (m != null) {
        sb.append(" model=").append(m);
      }
      return sb.toString();
    }
  }

  private static final String MISSING = "missing or invalid API key: send 'Authorization: Bearer <key>' with the "
      + "gateway's PEKKO_LLM_API_KEY or a virtual key";

  private final byte[] apiKey;
  private final byte[] masterKey;
  private final boolean required;
  private final Supplier<KeyService> keys;
  private final org.apache.pekko.actor.ClassicActorSystemProvider system;
  private final java.time.Duration bodyTimeout;

  /** A charge to settle when a call ends; {@link #NONE} for callers without a virtual key. */
  interface Charge {
    /** Settled at once: nothing to write (one completed stage for every call). */
    CompletionStage<Void> SETTLED = CompletableFuture.completedFuture(null);

    Charge NONE = (model, cost, tokens) -> SETTLED;

    /**
     * The call on {@code model} ended, costing {@code cost} USD (null: unknown) for {@code tokens} tokens; the stage
     * completes when the charge is in the journal, fails when it was not written in time (see
     * {@link KeyService.Ticket#settle}). The part of the response that tells the client the call finished goes out
     * only after it ({@link #after}).
     */
    CompletionStage<Void> settle(String model, BigDecimal cost, long tokens);

    /**
     * The outcome of a call, {@code value} or its failure {@code error} (non-null), once {@code charged} (a
     * {@link #settle}) is done, whether it wrote the charge or not: a charge not written in time was logged and
     * counted by the key service, and the client still gets its answer.
     */
    static <T> CompletionStage<T> after(CompletionStage<Void> charged, T value, Throwable error) {
      if (charged == SETTLED) {
        return error != null ? CompletableFuture.failedFuture(error) : CompletableFuture.completedFuture(value);
      }
      return charged.handle((v, err) -> null).thenCompose(v -> error != null
          ? CompletableFuture.<T>failedFuture(error) : CompletableFuture.completedFuture(value));
    }
  }

  /** Who calls: a virtual key, or (key null) one of the gateway's own keys or anyone when none is set. */
  record Caller(VirtualKey key, boolean admin, KeyService keys, AccessNote note) {
    static final Caller OPEN = new Caller(null, false, null, null);

    /** The caller of {@code req} (OPEN on routes outside the key check). */
    static Caller of(HttpRequest req) {
      return req.getAttribute(CALLER).orElse(OPEN);
    }

    /** Admits one call to {@code model}: fails with the key's refusal (403, 429); see {@link KeyService#admit}. */
    CompletionStage<Charge> admit(String model) {
      if (note != null) {
        note.model = model;
      }
      if (key == null) {
        return CompletableFuture.completedFuture(Charge.NONE);
      }
      return keys.admit(key, model).thenApply(t -> t::settle);
    }

    /** The owner recorded with what this caller creates (streams, sessions, responses): its key id, or null. */
    String owner() {
      return key == null ? null : key.id();
    }

    /**
     * Whether this caller may read or change what {@code owner} created. A virtual key sees only its own; the
     * gateway's own keys (and anyone, with no key set) see everything. Records without an owner (made with the
     * shared key, or before owners were recorded) are not shown to virtual keys: the safe side of the two.
     */
    boolean canSee(String owner) {
      return key == null || key.id().equals(owner);
    }

    /** {@code request} owned by this caller ({@link io.pekkollm.model.ChatRequest#owner()}). */
    io.pekkollm.model.ChatRequest own(io.pekkollm.model.ChatRequest request) {
      return key == null ? request : request.toBuilder().owner(key.id()).build();
    }
  }

  GatewayAuth(GatewaySettings settings, Supplier<KeyService> keys,
      org.apache.pekko.actor.ClassicActorSystemProvider system) {
    this.system = system;
    this.bodyTimeout = settings.requestBodyTimeout();
    this.apiKey = settings.apiKey().isEmpty() ? null : settings.apiKey().getBytes(StandardCharsets.UTF_8);
    this.masterKey = settings.masterKey().isEmpty() ? null : settings.masterKey().getBytes(StandardCharsets.UTF_8);
    this.required = settings.authRequired();
    this.keys = settings.masterKey().isEmpty() ? null : keys;
  }

  /** Whether virtual keys are on (a master key is set). */
  boolean keysEnabled() {
    return keys != null;
  }

  /** The keys service; only when {@link #keysEnabled()}. */
  KeyService keys() {
    return keys.get();
  }

  /**
   * Admits a call of {@code caller} on {@code model} that continues something the key {@code owner} started (a
   * resumed stream): it is charged to that key, whoever resumes it. A virtual key only reaches its own streams, so
   * for one this is its own admission; the gateway's own keys resuming a key's stream charge that key (its
   * budget and limits apply, revoked or not: the stream was its). Without an owner, the caller's own admission.
   */
  CompletionStage<Charge> admitFor(Caller caller, String owner, String model) {
    if (owner == null || caller.key() != null || keys == null) {
      return caller.admit(model);
    }
    KeyService service = keys.get();
    return service.get(owner).thenCompose(found -> found.isEmpty()
        ? CompletableFuture.completedFuture(Charge.NONE)
        : service.admit(found.get(), model).thenApply(t -> (Charge) t::settle));
  }

  /**
   * Who sends {@code req}; fails with an AUTHENTICATION {@link LlmException} for a missing, unknown, revoked or
   * expired key. {@code orXApiKey}: an {@code x-api-key} header counts too.
   */
  CompletionStage<Caller> caller(HttpRequest req, boolean orXApiKey) {
    if (!required) {
      AccessNote note = AccessNote.of(req);
      return CompletableFuture.completedFuture(note == null ? Caller.OPEN : new Caller(null, false, null, note));
    }
    String token = token(req, orXApiKey);
    if (token == null) {
      return CompletableFuture.failedFuture(missing());
    }
    byte[] given = token.getBytes(StandardCharsets.UTF_8);
    if (masterKey != null && MessageDigest.isEqual(given, masterKey)) {
      return CompletableFuture.completedFuture(new Caller(null, true, null, AccessNote.of(req)));
    }
    if (apiKey != null && MessageDigest.isEqual(given, apiKey)) {
      return CompletableFuture.completedFuture(new Caller(null, false, null, AccessNote.of(req)));
    }
    if (keys == null || !token.startsWith("sk-")) {
      return CompletableFuture.failedFuture(missing());
    }
    KeyService service = keys.get();
    AccessNote note = AccessNote.of(req);
    return service.authenticate(token).thenApply(k -> {
      if (note != null) {
        note.keyId = k.id();
        note.team = k.team();
      }
      return new Caller(k, false, service, note);
    });
  }

  private static LlmException missing() {
    return new LlmException(ErrorKind.AUTHENTICATION, MISSING) {
      private static final long serialVersionUID = 1L;

      @Override
      public String errorCode() {
        return "invalid_api_key";
      }
    };
  }

  private static String token(HttpRequest req, boolean orXApiKey) {
    String auth = req.getHeader("Authorization").map(h -> h.value()).orElse(null);
    if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return auth.substring(7).trim();
    }
    return orXApiKey ? req.getHeader("x-api-key").map(h -> h.value().trim()).orElse(null) : null;
  }

  /**
   * {@code handler} answering {@code req} with its caller attached, or the key check's refusal in OpenAI's error
   * shape (or Anthropic's, {@code anthropic}).
   */
  CompletionStage<HttpResponse> authorized(HttpRequest req, boolean anthropic,
      java.util.function.Function<HttpRequest, CompletionStage<HttpResponse>> handler) {
    return caller(req, anthropic).handle((c, err) -> {
      if (err != null) {
        return refused(req, anthropic ? ErrorResponses.anthropic(err) : denied(err));
      }
      return handler.apply(req.addAttribute(CALLER, c));
    }).thenCompose(x -> x);
  }

  /**
   * {@code refusal} as the answer to {@code req}, sent once its body has been read and dropped so the client,
   * which may still be uploading, reads it (see {@link RequestBodies#drained}).
   */
  CompletionStage<HttpResponse> refused(HttpRequest req, HttpResponse refusal) {
    return RequestBodies.drained(req.entity(), org.apache.pekko.stream.Materializer.matFromSystem(system),
        bodyTimeout).thenApply(done -> refusal);
  }

  /** The 401 (or other refusal) in OpenAI's error shape, with WWW-Authenticate. */
  static HttpResponse denied(Throwable err) {
    HttpResponse r = ErrorResponses.of(err);
    return r.status().intValue() == 401 ? r.addHeader(RawHeader.create("WWW-Authenticate", "Bearer")) : r;
  }
}
