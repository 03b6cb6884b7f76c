package io.pekkollm.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * The gateway key check, the same for every protected route: with {@code PEKKO_LLM_API_KEY} set, a request must
 * send {@code Authorization: Bearer <key>}, compared in constant time; otherwise 401 in OpenAI's error shape.
 * The Anthropic Messages routes also take the key as Anthropic's SDKs send it, in {@code x-api-key}
 * ({@link #passes(HttpRequest, boolean)}). Without a key every request passes (the gateway then binds loopback
 * only, see {@link RequestGuard}).
 */
final class GatewayAuth {
  private final byte[] expected;
  private final byte[] expectedKey;

  GatewayAuth(GatewaySettings settings) {
    this.expected = settings.apiKey().isEmpty() ? null
        : ("Bearer " + settings.apiKey()).getBytes(StandardCharsets.UTF_8);
    this.expectedKey = settings.apiKey().getBytes(StandardCharsets.UTF_8);
  }

  /** The 401 to answer {@code req} with; empty when it may pass. */
  Optional<HttpResponse> check(HttpRequest req) {
    if (passes(req, false)) {
      return Optional.empty();
    }
    return Optional.of(ErrorResponses.json(401, ChatCompletionsCodec.writeError(
        "missing or invalid API key: send 'Authorization: Bearer <key>' with the gateway's PEKKO_LLM_API_KEY",
        "authentication_error", null, "invalid_api_key"),
        List.of(RawHeader.create("WWW-Authenticate", "Bearer"))));
  }

  /** Whether {@code req} sends the key (or none is set); {@code orXApiKey}: an {@code x-api-key} header counts too. */
  boolean passes(HttpRequest req, boolean orXApiKey) {
    if (expected == null) {
      return true;
    }
    byte[] given = req.getHeader("Authorization").map(h -> h.value().getBytes(StandardCharsets.UTF_8))
        .orElse(new byte[0]);
    if (MessageDigest.isEqual(given, expected)) {
      return true;
    }
    return orXApiKey && req.getHeader("x-api-key")
        .map(h -> MessageDigest.isEqual(h.value().getBytes(StandardCharsets.UTF_8), expectedKey)).orElse(false);
  }
}
