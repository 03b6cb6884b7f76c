package io.pekkollm.discovery;

import com.typesafe.config.Config;
import io.pekkollm.provider.ProviderSettings;
import java.net.InetAddress;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;

/**
 * Settings of model discovery, from {@code pekko-llm.model-discovery} (reference.conf documents each key), and
 * how long each provider's model list is kept.
 *
 * @param cloudTtl   how long a cloud provider's list is kept
 * @param localTtl   how long a local server's list is kept (models come and go as they are pulled)
 * @param failureTtl how long a failed listing's fallback is served before the API is asked again
 * @param timeout    how long one listing may take before it counts as failed
 */
public record DiscoverySettings(Duration cloudTtl, Duration localTtl, Duration failureTtl, Duration timeout) {

  public static DiscoverySettings create(Config config) {
    Config c = config.getConfig("pekko-llm.model-discovery");
    return new DiscoverySettings(c.getDuration("cloud-ttl"), c.getDuration("local-ttl"), c.getDuration("failure-ttl"),
        config.getDuration("pekko-llm.models-timeout"));
  }

  /**
   * The TTL of {@code provider}'s list: its own {@code models-ttl} when set (not {@code auto}), else
   * {@link #localTtl} for a local server and {@link #cloudTtl} otherwise.
   */
  public Duration ttlFor(ProviderSettings provider) {
    Config c = provider.config();
    if (c.hasPath("models-ttl") && !c.getString("models-ttl").trim().equalsIgnoreCase("auto")) {
      return c.getDuration("models-ttl");
    }
    return isLocal(provider) ? localTtl : cloudTtl;
  }

  /**
   * Whether {@code provider} is a local server: Ollama, the mock or a provider instance, or a base URL whose host
   * is {@code localhost}, {@code *.local}, or a loopback, private or link-local IP literal. Host names are never
   * resolved (no DNS lookup at start).
   */
  public static boolean isLocal(ProviderSettings provider) {
    String kind = provider.kind();
    if (kind.equals("ollama") || kind.equals("mock") || kind.equals("custom")) {
      return true;
    }
    String host;
    try {
      host = URI.create(provider.baseUrl()).getHost();
    } catch (IllegalArgumentException e) {
      return false;
    }
    if (host == null) {
      return false;
    }
    String h = host.toLowerCase(Locale.ROOT);
    if (h.equals("localhost") || h.endsWith(".localhost") || h.endsWith(".local")) {
      return true;
    }
    if (!isIpLiteral(h)) {
      return false;
    }
    try {
      // An IP literal is parsed without a lookup.
      InetAddress a = InetAddress.getByName(h.startsWith("[") ? h.substring(1, h.length() - 1) : h);
      return a.isLoopbackAddress() || a.isSiteLocalAddress() || a.isLinkLocalAddress() || a.isAnyLocalAddress();
    } catch (java.net.UnknownHostException e) {
      return false;
    }
  }

  private static boolean isIpLiteral(String host) {
    if (host.startsWith("[") || host.indexOf(':') >= 0) {
      return true;
    }
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      if (!(c == '.' || (c >= '0' && c <= '9'))) {
        return false;
      }
    }
    return !host.isEmpty();
  }
}
