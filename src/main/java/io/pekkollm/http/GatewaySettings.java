package io.pekkollm.http;

import com.typesafe.config.Config;
import java.time.Duration;
import java.util.List;

/**
 * Gateway settings from {@code pekko-llm.gateway} (reference.conf documents each). The API key is never
 * printed by {@link #toString()}.
 */
public record GatewaySettings(String host, int port, String apiKey, String masterKey, boolean allowUnauthenticatedPublic,
    long maxRequestBytes, Duration requestBodyTimeout, Duration sseKeepAlive, boolean accessLog, boolean metrics,
    List<String> allowedHosts, List<String> corsAllowedOrigins, ConnectionLimits.Settings connections) {

  public static GatewaySettings create(Config config) {
    Config c = config.getConfig("pekko-llm.gateway");
    int port = c.getInt("port");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("pekko-llm.gateway.port must be 0..65535, not " + port);
    }
    return new GatewaySettings(c.getString("host"), port, c.getString("api-key").trim(), c.getString("master-key").trim(),
        c.getBoolean("allow-unauthenticated-public"), c.getBytes("max-request-bytes"),
        c.getDuration("request-body-timeout"), c.getDuration("sse-keep-alive"), c.getBoolean("access-log"),
        c.getBoolean("metrics"), List.copyOf(c.getStringList("allowed-hosts")),
        List.copyOf(c.getStringList("cors.allowed-origins")), ConnectionLimits.Settings.create(c.getConfig("connections")));
  }

  /** Whether callers must send a key: an api-key or a master-key is set. */
  public boolean authRequired() {
    return !apiKey.isEmpty() || !masterKey.isEmpty();
  }

  public GatewaySettings withHost(String value) {
    return new GatewaySettings(value, port, apiKey, masterKey, allowUnauthenticatedPublic, maxRequestBytes, requestBodyTimeout,
        sseKeepAlive, accessLog, metrics, allowedHosts, corsAllowedOrigins, connections);
  }

  public GatewaySettings withPort(int value) {
    return new GatewaySettings(host, value, apiKey, masterKey, allowUnauthenticatedPublic, maxRequestBytes, requestBodyTimeout,
        sseKeepAlive, accessLog, metrics, allowedHosts, corsAllowedOrigins, connections);
  }

  @Override
  public String toString() {
    return "GatewaySettings{host=" + host + ", port=" + port + ", apiKey=" + (apiKey.isEmpty() ? "(none)" : "(set)")
        + ", masterKey=" + (masterKey.isEmpty() ? "(none)" : "(set)") + ", maxRequestBytes=" + maxRequestBytes + "}";
  }
}
