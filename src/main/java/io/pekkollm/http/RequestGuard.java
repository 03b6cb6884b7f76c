package io.pekkollm.http;

import io.pekkollm.model.ErrorKind;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * Browser-facing checks in front of every route but {@code GET /health}:
 * <ul>
 *   <li>without an API key (the default, loopback set-up) a request must name a loopback host in {@code Host}
 *   ({@code localhost}, {@code 127.x.x.x}, {@code [::1]}, the bind host, or one of {@code allowed-hosts}): a
 *   page on a foreign site whose DNS name was rebound to 127.0.0.1 gets 403. A request carrying an
 *   {@code Origin} that is neither loopback nor in {@code cors.allowed-origins} gets 403 too;</li>
 *   <li>CORS only for the configured {@code cors.allowed-origins}: their preflight ({@code OPTIONS} with
 *   {@code Access-Control-Request-Method}) is answered and their responses carry
 *   {@code Access-Control-Allow-Origin}; no other origin gets CORS headers.</li>
 * </ul>
 * With an API key the Host and Origin checks are off (a browser cannot send the key cross-site without CORS);
 * so they are with {@code allow-unauthenticated-public}, whose gateway is open on purpose.
 */
final class RequestGuard {
  private static final String ALLOW_HEADERS = "Authorization, Content-Type, Last-Event-ID, X-Requested-With";
  private static final String EXPOSE_HEADERS = "X-Recovery-Id, X-Served-Model, X-Cache, X-Cache-Key, X-Session-Id, "
      + "X-Truncated-Messages, X-Truncation-Tokens-Before, X-Truncation-Tokens-After, Retry-After";

  private final boolean checkHost;
  private final Set<String> allowedHosts;
  private final Set<String> corsOrigins;

  RequestGuard(GatewaySettings settings) {
    this.checkHost = !settings.authRequired() && !settings.allowUnauthenticatedPublic();
    List<String> hosts = new ArrayList<>(settings.allowedHosts());
    hosts.add(settings.host());
    this.allowedHosts = hosts.stream().map(RequestGuard::bare).collect(Collectors.toUnmodifiableSet());
    this.corsOrigins = settings.corsAllowedOrigins().stream().map(RequestGuard::normalOrigin)
        .collect(Collectors.toUnmodifiableSet());
  }

  /** True for the unauthenticated liveness probe, which no check applies to. */
  static boolean isHealthProbe(HttpRequest req) {
    String path = req.getUri().path();
    return req.method() == HttpMethods.GET && ("/health".equals(path) || "/health/ready".equals(path));
  }

  /** The response that refuses {@code req} (403, or a CORS preflight's answer), or empty to let it through. */
  Optional<HttpResponse> check(HttpRequest req) {
    Optional<String> origin = req.getHeader("Origin").map(HttpHeader::value).map(RequestGuard::normalOrigin);
    if (req.method() == HttpMethods.OPTIONS && req.getHeader("Access-Control-Request-Method").isPresent()) {
      if (origin.isPresent() && corsOrigins.contains(origin.get())) {
        return Optional.of(HttpResponse.create().withStatus(StatusCodes.NO_CONTENT)
            .addHeaders(corsHeaders(origin.get()))
            .addHeader(RawHeader.create("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS"))
            .addHeader(RawHeader.create("Access-Control-Allow-Headers", ALLOW_HEADERS))
            .addHeader(RawHeader.create("Access-Control-Max-Age", "600")));
      }
      return Optional.of(forbidden("cross-origin requests from " + origin.orElse("this origin")
          + " are not allowed: list the origin in pekko-llm.gateway.cors.allowed-origins"));
    }
    if (!checkHost) {
      return Optional.empty();
    }
    String host = req.getHeader("Host").map(HttpHeader::value).orElse("");
    if (!isLoopbackName(hostOf(host)) && !allowedHosts.contains(hostOf(host))) {
      return Optional.of(forbidden("the Host '" + host + "' is not this gateway's: without an API key only "
          + "loopback names are served (set pekko-llm.gateway.allowed-hosts, or an api-key)"));
    }
    if (origin.isPresent() && !corsOrigins.contains(origin.get()) && !isLoopbackName(originHost(origin.get()))) {
      return Optional.of(forbidden("cross-origin requests from " + origin.get() + " are not allowed without an "
          + "API key: list the origin in pekko-llm.gateway.cors.allowed-origins"));
    }
    return Optional.empty();
  }

  /** {@code resp} with the CORS headers {@code req}'s origin is entitled to (none for an unlisted one). */
  HttpResponse decorate(HttpRequest req, HttpResponse resp) {
    if (corsOrigins.isEmpty()) {
      return resp;
    }
    Optional<String> origin = req.getHeader("Origin").map(HttpHeader::value).map(RequestGuard::normalOrigin);
    return origin.isPresent() && corsOrigins.contains(origin.get())
        ? resp.addHeaders(corsHeaders(origin.get())) : resp;
  }

  private static List<HttpHeader> corsHeaders(String origin) {
    return List.of(RawHeader.create("Access-Control-Allow-Origin", origin), RawHeader.create("Vary", "Origin"),
        RawHeader.create("Access-Control-Expose-Headers", EXPOSE_HEADERS));
  }

  private static HttpResponse forbidden(String message) {
    return ErrorResponses.simple(ErrorKind.PERMISSION, 403, message, null);
  }

  /** {@code localhost}, {@code *.localhost}, {@code 127.0.0.0/8} and {@code ::1} (without brackets or port). */
  static boolean isLoopbackName(String host) {
    if (host.equals("localhost") || host.endsWith(".localhost") || host.equals("::1")) {
      return true;
    }
    String[] parts = host.split("\\.", -1);
    if (parts.length != 4 || !parts[0].equals("127")) {
      return false;
    }
    for (String p : parts) {
      if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit) || Integer.parseInt(p) > 255) {
        return false;
      }
    }
    return true;
  }

  /** The host of a Host header value: lower case, without port and IPv6 brackets. */
  static String hostOf(String hostHeader) {
    String h = hostHeader.trim().toLowerCase(Locale.ROOT);
    if (h.startsWith("[")) {
      int end = h.indexOf(']');
      return end < 0 ? h : h.substring(1, end);
    }
    int colon = h.lastIndexOf(':');
    return colon >= 0 && h.indexOf(':') == colon ? h.substring(0, colon) : h;
  }

  private static String bare(String host) {
    return hostOf(host);
  }

  private static String originHost(String origin) {
    try {
      String h = URI.create(origin).getHost();
      return h == null ? "" : hostOf(h);
    } catch (IllegalArgumentException e) {
      return "";
    }
  }

  /** An origin as browsers send it: lower case, no trailing slash. */
  private static String normalOrigin(String origin) {
    String o = origin.trim().toLowerCase(Locale.ROOT);
    return o.endsWith("/") ? o.substring(0, o.length() - 1) : o;
  }
}
