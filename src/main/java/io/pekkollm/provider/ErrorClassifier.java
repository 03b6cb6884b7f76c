package io.pekkollm.provider;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.ProviderErrorType;
import io.pekkollm.model.ProviderException;
import io.pekkollm.resilience.TimeoutKind;
import io.pekkollm.util.Json;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/**
 * The one place that decides what an upstream error means: its {@link ErrorKind}, whether a retry may help,
 * and how long to wait. Providers only extract {@link ErrorDetails} from their own body shapes; everything
 * else is decided here, so retry policy never depends on which provider raised the error.
 */
public final class ErrorClassifier {
  private static final Pattern CONTEXT_LENGTH = Pattern.compile(
      "context.length|context window|maximum context|prompt is too long|too many tokens|input token|"
          + "tokens exceed|reduce the length|exceeds the (?:maximum|max)|input is too long",
      Pattern.CASE_INSENSITIVE);
  private static final Pattern BAD_KEY = Pattern.compile(
      "(?:incorrect|invalid|missing|bad) (?:api[ _-]?key|x-api-key|authentication|token)|api[ _-]?key (?:not valid|is invalid)",
      Pattern.CASE_INSENSITIVE);

  private ErrorClassifier() {}

  /**
   * What a provider's error body said, in the provider's own words. Any field may be null.
   * {@code retryAfter} is a wait the body itself asked for (Gemini's {@code RetryInfo.retryDelay}); a
   * {@code retry-after} header, when present, wins over it.
   */
  public record ErrorDetails(String message, String type, String code, String param, Duration retryAfter) {
    public static final ErrorDetails NONE = new ErrorDetails(null, null, null, null);

    public ErrorDetails(String message, String type, String code, String param) {
      this(message, type, code, param, null);
    }

    public ErrorDetails withRetryAfter(Duration value) {
      return new ErrorDetails(message, type, code, param, value);
    }
  }

  /**
   * Reads the error body shapes of the OpenAI family: {@code {"error": {"message","type","code","param"}}},
   * {@code {"error": "text", "code": ...}} (xAI), {@code {"message", "type", "code"}} (Mistral),
   * {@code {"detail": ...}} (FastAPI-based servers), and numeric codes (OpenRouter). Non-JSON bodies give
   * their first line as the message.
   */
  public static ErrorDetails parseCommonBody(String body) {
    if (body == null || body.isBlank()) {
      return ErrorDetails.NONE;
    }
    JsonNode root;
    try {
      root = Json.parse(body);
    } catch (Exception e) {
      return new ErrorDetails(firstLine(body), null, null, null);
    }
    if (root == null || !root.isObject()) {
      return new ErrorDetails(firstLine(body), null, null, null);
    }
    JsonNode err = root.get("error");
    if (err != null && err.isObject()) {
      return fromObject(err);
    }
    if (err != null && err.isTextual()) {
      return new ErrorDetails(err.asText(), Json.text(root, "type"), Json.text(root, "code"), null);
    }
    JsonNode detail = root.get("detail");
    if (detail != null && !detail.isNull() && Json.text(root, "message") == null) {
      return new ErrorDetails(detail.isTextual() ? detail.asText() : Json.write(detail), null, null, null);
    }
    return fromObject(root);
  }

  private static ErrorDetails fromObject(JsonNode o) {
    String type = Json.text(o, "type");
    if (type == null && o.path("metadata").isObject()) {
      type = Json.text(o.get("metadata"), "error_type");
    }
    return new ErrorDetails(Json.text(o, "message"), type, Json.text(o, "code"), Json.text(o, "param"));
  }

  /** Classifies an HTTP error response. {@code headers} must have lower-case names. */
  public static ProviderException fromHttp(String provider, int status, Map<String, String> headers, String body,
      ErrorDetails details, Instant now) {
    ErrorDetails d = details == null ? ErrorDetails.NONE : details;
    ErrorKind kind = kindFor(status, d);
    Duration retryAfter = retryAfter(headers, now);
    if (retryAfter == null) {
      retryAfter = d.retryAfter();
    }
    boolean retryable = retryable(kind, status, headers);
    String message = describe(provider, status, d.message(), body);
    return new ProviderException(kind, message, provider, status, headers, requestId(headers),
        ProviderErrorType.of(d.type()), d.code(), body, retryAfter, retryable, null);
  }

  /**
   * Classifies an error event received after a stream had started (HTTP status 200). Server-side and
   * overload errors are retryable; errors the caller caused are not.
   */
  public static ProviderException midStream(String provider, ErrorDetails details, String rawEvent) {
    ErrorKind byType = kindFor(0, details);
    ErrorKind kind = byType == ErrorKind.SERVER_ERROR ? ErrorKind.MID_STREAM : byType;
    boolean retryable = switch (kind) {
      case MID_STREAM, OVERLOADED, RATE_LIMITED, NETWORK, TIMEOUT -> true;
      default -> false;
    };
    String msg = provider + " reported an error mid-stream: "
        + (details.message() == null ? "(no message)" : details.message());
    return new ProviderException(kind, msg, provider, 0, Map.of(), null, ProviderErrorType.of(details.type()),
        details.code(), rawEvent, details.retryAfter(), retryable, null);
  }

  /** An error that happened before or instead of a response: refused connection, reset, timeout. */
  public static ProviderException transport(String provider, Throwable cause) {
    return transport(provider, cause, null);
  }

  /**
   * Like {@link #transport(String, Throwable)}, knowing the configured connect timeout: Pekko reports an expired
   * one as a {@code StreamTcpException} whose message says "Connect timeout", which becomes
   * {@link TimeoutKind#CONNECT}.
   */
  public static ProviderException transport(String provider, Throwable cause, Duration connectTimeout) {
    Throwable root = cause;
    while (root.getCause() != null && root.getCause() != root
        && (root instanceof java.util.concurrent.CompletionException
            || root instanceof java.util.concurrent.ExecutionException)) {
      root = root.getCause();
    }
    if (connectTimeout != null && root.getMessage() != null
        && root.getMessage().toLowerCase(Locale.ROOT).contains("connect timeout")) {
      return timeout(provider, TimeoutKind.CONNECT, connectTimeout, root);
    }
    boolean timeout = root instanceof TimeoutException
        || root.getClass().getSimpleName().toLowerCase(Locale.ROOT).contains("timeout");
    ErrorKind kind = timeout ? ErrorKind.TIMEOUT : ErrorKind.NETWORK;
    String msg = provider + (timeout ? " timed out: " : " could not be reached: ") + root.getMessage();
    return new ProviderException(kind, msg, provider, 0, Map.of(), null, null, null, null, null, true, root);
  }

  /**
   * A time limit of ours fired (see {@link TimeoutKind}): kind TIMEOUT, the limit's own error code, retryable
   * unless it was the whole attempt's.
   */
  public static ProviderException timeout(String provider, TimeoutKind which, Duration limit, Throwable cause) {
    String msg = "waited " + limit.toMillis() + " ms for " + which.waitingFor() + " " + provider + " ("
        + which.code() + ", pekko-llm.providers." + provider + "." + settingName(which) + ")";
    return new ProviderException(ErrorKind.TIMEOUT, msg, provider, 0, Map.of(), null, null, which.code(), null, null,
        which.retryable(), cause);
  }

  private static String settingName(TimeoutKind which) {
    return switch (which) {
      case CONNECT -> "timeouts.connect";
      case FIRST_BYTE -> "timeouts.first-byte";
      case IDLE -> "timeouts.idle";
      case TOTAL -> "timeouts.total";
      case RESPONSE -> "response-timeout";
    };
  }

  /**
   * The provider's circuit breaker is open: calls fail at once instead of waiting on a provider that keeps
   * failing. Kind OVERLOADED (503), code {@code circuit_open}, {@code retryAfter} the time until the breaker lets
   * a probe through. {@code model} is null for a provider-wide breaker.
   */
  public static ProviderException circuitOpen(String provider, String model, Duration retryAfter) {
    String target = model == null ? "provider '" + provider + "'" : "model '" + provider + "/" + model + "'";
    String msg = "the circuit breaker for " + target + " is open after repeated failures; calls fail fast for "
        + Math.max(1, (retryAfter.toMillis() + 999) / 1000) + " s more (circuit_open)";
    return new ProviderException(ErrorKind.OVERLOADED, msg, provider, 0, Map.of(), null, null, CIRCUIT_OPEN, null,
        retryAfter, true, null);
  }

  /**
   * The provider's admission queue is full: the gateway answers 429 itself. Kind RATE_LIMITED, code
   * {@code queue_full}, {@code retryAfter} an estimate of when a call could start.
   */
  public static ProviderException queueFull(String provider, int queueSize, String why, Duration retryAfter) {
    String msg = "provider '" + provider + "' cannot start the call now (" + why + ") and " + queueSize
        + " calls already wait (rate-limit.queue-size); retry later (queue_full)";
    return new ProviderException(ErrorKind.RATE_LIMITED, msg, provider, 0, Map.of(), null, null, QUEUE_FULL, null,
        retryAfter, true, null);
  }

  /**
   * A call could only start after a wait longer than the queue timeout (the provider's Retry-After or reset time
   * says so): refused at once rather than queued to fail later. Kind RATE_LIMITED, code {@code local_rate_limit}.
   */
  public static ProviderException localRateLimit(String provider, String why, Duration retryAfter) {
    String msg = "provider '" + provider + "' cannot take the call for " + Math.max(1, (retryAfter.toMillis() + 999) / 1000)
        + " s (" + why + "), longer than rate-limit.queue-timeout (local_rate_limit)";
    return new ProviderException(ErrorKind.RATE_LIMITED, msg, provider, 0, Map.of(), null, null, LOCAL_RATE_LIMIT,
        null, retryAfter, true, null);
  }

  /** A call waited in the admission queue for its whole {@code queue-timeout}. Kind RATE_LIMITED, code {@code queue_timeout}. */
  public static ProviderException queueTimeout(String provider, Duration waited, String why, Duration retryAfter) {
    String msg = "provider '" + provider + "' could not start the call within " + waited.toMillis()
        + " ms (rate-limit.queue-timeout; " + why + ") (queue_timeout)";
    return new ProviderException(ErrorKind.RATE_LIMITED, msg, provider, 0, Map.of(), null, null, QUEUE_TIMEOUT, null,
        retryAfter, true, null);
  }

  /**
   * Whether an error is the provider's fault and so counts against its circuit breaker: server errors,
   * overload, timeouts, broken connections and streams, malformed answers. Errors the caller caused (invalid
   * request, context length, content filter, unknown model, request too large) do not, nor do configuration
   * problems a breaker cannot fix (authentication, permission, exhausted quota), rate limiting (the rate limiter
   * and Retry-After handle it), or cancellation.
   */
  public static boolean countsAgainstProvider(ErrorKind kind) {
    return switch (kind) {
      case SERVER_ERROR, OVERLOADED, TIMEOUT, NETWORK, MID_STREAM, MALFORMED_RESPONSE -> true;
      default -> false;
    };
  }

  /** The connection broke while the response body was streaming (reset, idle timeout). Retryable. */
  public static ProviderException streamBroken(String provider, Throwable cause) {
    if (cause instanceof java.util.concurrent.TimeoutException
        || cause.getClass().getSimpleName().toLowerCase(Locale.ROOT).contains("timeout")) {
      return transport(provider, cause);
    }
    return new ProviderException(ErrorKind.NETWORK, "the connection to " + provider
        + " broke while the answer was streaming: " + cause.getMessage(), provider, 0, Map.of(), null, null, null,
        null, null, true, cause);
  }

  /** A response that does not follow the provider's format. Not retryable: the same bytes would come back. */
  public static ProviderException malformed(String provider, String what, String raw, Throwable cause) {
    return new ProviderException(ErrorKind.MALFORMED_RESPONSE, provider + " sent a malformed response: " + what,
        provider, 0, Map.of(), null, null, null, raw, null, false, cause);
  }

  /** A stream that ended without the provider's end marker: the connection was cut. Retryable. */
  public static ProviderException truncated(String provider) {
    return new ProviderException(ErrorKind.NETWORK,
        provider + " closed the stream before the answer was finished (truncated stream)", provider, 0, Map.of(),
        null, null, null, null, null, true, null);
  }

  static ErrorKind kindFor(int status, ErrorDetails d) {
    String type = lower(d.type());
    String code = lower(d.code());
    String message = d.message() == null ? "" : d.message();
    if (type.startsWith("throttling")) {
      // AWS ThrottlingException: its messages ("Too many tokens per day") must not read as context length.
      return ErrorKind.RATE_LIMITED;
    }
    if (code.equals("context_length_exceeded") || code.equals("string_above_max_length")
        || (status == 400 || status == 413 || status == 0) && CONTEXT_LENGTH.matcher(message).find()) {
      return ErrorKind.CONTEXT_LENGTH_EXCEEDED;
    }
    if (type.contains("content_filter") || code.contains("content_filter") || code.equals("content_policy_violation")
        || type.equals("content_policy_violation")) {
      return ErrorKind.CONTENT_FILTERED;
    }
    if (code.equals("insufficient_quota") || type.equals("insufficient_quota")) {
      return ErrorKind.QUOTA_EXCEEDED;
    }
    // api_key_invalid: Google's ErrorInfo reason; Gemini answers a bad key with 400 INVALID_ARGUMENT.
    if (code.equals("invalid_api_key") || code.equals("api_key_invalid") || type.equals("authentication_error") || BAD_KEY.matcher(message).find()
        && (status == 400 || status == 401 || status == 403 || status == 0)) {
      return ErrorKind.AUTHENTICATION;
    }
    ErrorKind aws = awsExceptionKind(type);
    if (aws != null) {
      return aws;
    }
    switch (status) {
      case 400, 422:
        return ErrorKind.INVALID_REQUEST;
      case 401:
        return ErrorKind.AUTHENTICATION;
      case 403:
        return ErrorKind.PERMISSION;
      case 404:
        return ErrorKind.MODEL_NOT_FOUND;
      case 408:
        return ErrorKind.TIMEOUT;
      case 413:
        return ErrorKind.REQUEST_TOO_LARGE;
      case 429:
        return ErrorKind.RATE_LIMITED;
      case 503, 529:
        return ErrorKind.OVERLOADED;
      case 504:
        return ErrorKind.TIMEOUT;
      default:
        break;
    }
    if (status >= 500) {
      return type.contains("overloaded") ? ErrorKind.OVERLOADED : ErrorKind.SERVER_ERROR;
    }
    if (status >= 400) {
      return ErrorKind.INVALID_REQUEST;
    }
    // No status (mid-stream): decide by type alone. UNAVAILABLE / RESOURCE_EXHAUSTED are Google's RPC statuses.
    if (type.contains("overloaded") || type.equals("provider_unavailable") || type.equals("unavailable")
        || code.equals("502") || code.equals("503") || code.equals("529")) {
      return ErrorKind.OVERLOADED;
    }
    if (type.contains("rate_limit") || type.equals("resource_exhausted") || code.equals("429")
        || code.equals("rate_limit_exceeded")) {
      return ErrorKind.RATE_LIMITED;
    }
    if (type.contains("invalid_request") || code.equals("400")) {
      return ErrorKind.INVALID_REQUEST;
    }
    if (type.contains("authentication") || code.equals("401")) {
      return ErrorKind.AUTHENTICATION;
    }
    return ErrorKind.SERVER_ERROR;
  }

  /**
   * AWS names each error by its exception type ({@code x-amzn-ErrorType} header, or an event-stream
   * {@code :exception-type}); the name is more precise than the status (Bedrock's model errors are 424, and
   * mid-stream exceptions have no status at all). Null for anything else.
   */
  private static ErrorKind awsExceptionKind(String type) {
    if (!type.endsWith("exception")) {
      return null;
    }
    return switch (type) {
      case "serviceunavailableexception", "modelnotreadyexception" -> ErrorKind.OVERLOADED;
      case "modeltimeoutexception" -> ErrorKind.TIMEOUT;
      case "validationexception" -> ErrorKind.INVALID_REQUEST;
      case "accessdeniedexception" -> ErrorKind.PERMISSION;
      case "resourcenotfoundexception" -> ErrorKind.MODEL_NOT_FOUND;
      case "unrecognizedclientexception", "invalidsignatureexception", "expiredtokenexception",
          "incompletesignatureexception", "missingauthenticationtokenexception" -> ErrorKind.AUTHENTICATION;
      case "servicequotaexceededexception" -> ErrorKind.QUOTA_EXCEEDED;
      case "internalserverexception", "modelerrorexception", "modelstreamerrorexception" -> ErrorKind.SERVER_ERROR;
      default -> null;
    };
  }

  /**
   * Whether retrying may help. An explicit {@code x-should-retry} header (OpenAI, Anthropic) wins; otherwise
   * {@link #retryable(ErrorKind)}, and a 409 conflict.
   */
  static boolean retryable(ErrorKind kind, int status, Map<String, String> headers) {
    String should = headers.get("x-should-retry");
    if ("true".equalsIgnoreCase(should)) {
      return true;
    }
    if ("false".equalsIgnoreCase(should)) {
      return false;
    }
    return retryable(kind) || (kind == ErrorKind.INVALID_REQUEST && status == 409);
  }

  // ---------------------------------------------------------------- what each kind of error allows
  // The one place that decides what a failure allows: retries and fallbacks (routing), breakers (the provider
  // actor, countsAgainstProvider), and resuming a journalled stream (recovery).

  /**
   * Whether the same call may succeed later, when the provider said nothing more (no {@code x-should-retry}):
   * rate limits (not exhausted quota), overload, server errors, timeouts, broken connections and streams.
   */
  public static boolean retryable(ErrorKind kind) {
    return switch (kind) {
      case RATE_LIMITED, OVERLOADED, SERVER_ERROR, TIMEOUT, NETWORK, MID_STREAM -> true;
      default -> false;
    };
  }

  /**
   * Whether a stream interrupted by an error of {@code kind} may be resumed: every {@link #retryable} kind, a
   * failure inside this library (the journal, a bug: the same request can be continued), and a stream its caller
   * cancelled. Not a bad key, a bad request or a filtered answer: continuing would fail the same way.
   */
  public static boolean resumable(ErrorKind kind) {
    return retryable(kind) || kind == ErrorKind.INTERNAL || kind == ErrorKind.CANCELLED;
  }

  /** Error codes of refusals this library makes itself, before a call reaches the provider. */
  public static final String CIRCUIT_OPEN = "circuit_open";
  public static final String QUEUE_FULL = "queue_full";
  public static final String QUEUE_TIMEOUT = "queue_timeout";
  public static final String LOCAL_RATE_LIMIT = "local_rate_limit";

  /**
   * Refused by this library before reaching the provider (open breaker, full queue, queue timeout, a wait the
   * provider announced beyond the queue timeout): retrying the same provider at once cannot help.
   */
  public static boolean isLocalRefusal(LlmException e) {
    if (e instanceof ProviderException pe && pe.status() == 0 && pe.errorCode() != null) {
      String code = pe.errorCode();
      return code.equals(CIRCUIT_OPEN) || code.equals(QUEUE_FULL) || code.equals(QUEUE_TIMEOUT)
          || code.equals(LOCAL_RATE_LIMIT);
    }
    return false;
  }

  /**
   * Whether a failure of {@code kind} moves a model group on to its next model at once, without retrying this
   * one: its cause is this model's provider (rate limit, overload, exhausted quota) or window (context length),
   * and waiting would not help the caller as much as another model can.
   */
  public static boolean movesToNextModel(ErrorKind kind) {
    return switch (kind) {
      case RATE_LIMITED, OVERLOADED, QUOTA_EXCEEDED, CONTEXT_LENGTH_EXCEEDED -> true;
      default -> false;
    };
  }

  /** {@code retry-after-ms}, then {@code retry-after} as seconds or an HTTP date; null when absent or invalid. */
  public static Duration retryAfter(Map<String, String> headers, Instant now) {
    String ms = headers.get("retry-after-ms");
    if (ms != null) {
      try {
        double v = Double.parseDouble(ms.trim());
        if (v >= 0) {
          return Duration.ofNanos((long) (v * 1_000_000));
        }
      } catch (NumberFormatException ignored) {
        // fall through to retry-after
      }
    }
    String ra = headers.get("retry-after");
    if (ra == null || ra.isBlank()) {
      return null;
    }
    try {
      double seconds = Double.parseDouble(ra.trim());
      return seconds >= 0 ? Duration.ofMillis((long) (seconds * 1000)) : null;
    } catch (NumberFormatException notSeconds) {
      try {
        Instant at = ZonedDateTime.parse(ra.trim(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        Duration d = Duration.between(now, at);
        return d.isNegative() ? Duration.ZERO : d;
      } catch (DateTimeParseException e) {
        return null;
      }
    }
  }

  private static String requestId(Map<String, String> headers) {
    for (String h : new String[] {"x-request-id", "request-id", "x-amzn-requestid", "cf-ray"}) {
      String v = headers.get(h);
      if (v != null) {
        return v;
      }
    }
    return null;
  }

  private static String describe(String provider, int status, String message, String body) {
    String what = message != null ? message : body == null || body.isBlank() ? "(empty body)" : firstLine(body);
    return provider + " returned HTTP " + status + ": " + what;
  }

  private static String firstLine(String body) {
    String s = body.strip();
    int nl = s.indexOf('\n');
    s = nl < 0 ? s : s.substring(0, nl);
    return s.length() > 300 ? s.substring(0, 300) + "..." : s;
  }

  private static String lower(String s) {
    return s == null ? "" : s.toLowerCase(Locale.ROOT);
  }
}
