package io.pekkollm.http;

import io.pekkollm.api.LlmClient;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.settings.ServerSettings;

/**
 * Starts the OpenAI-compatible gateway for an {@link LlmClient}. Binds loopback by default and refuses a
 * public address without an API key unless {@code allow-unauthenticated-public} says otherwise. Each connection
 * is held to {@link ConnectionLimits} ({@code pekko-llm.gateway.connections}). The binding is unbound by the
 * ActorSystem's coordinated shutdown.
 */
public final class GatewayServer {
  private GatewayServer() {}

  public static CompletionStage<ServerBinding> start(LlmClient client, GatewaySettings settings) {
    checkExposure(settings);
    var system = client.system();
    ServerSettings server = ServerSettings.create(system.classicSystem());
    long parserMax = server.getParserSettings().getMaxContentLength();
    if (parserMax <= settings.maxRequestBytes()) {
      server = server.withParserSettings(server.getParserSettings().withMaxContentLength(settings.maxRequestBytes() + 1));
    }
    // The client address of each connection, for the per-address limit (ConnectionLimits).
    server = server.withRemoteAddressAttribute(true);
    var handler = new GatewayRoutes(client, settings).handler();
    ConnectionLimits limits = new ConnectionLimits(settings.connections(), server.getMaxConnections());
    Flow<HttpRequest, HttpResponse, NotUsed> flow = limits.flow(Flow.<HttpRequest>create()
        .mapAsync(server.getPipeliningLimit(), handler::apply));
    return Http.get(system)
        .newServerAt(settings.host(), settings.port())
        .withSettings(server)
        .bindFlow(flow)
        .thenApply(b -> b.addToCoordinatedShutdown(Duration.ofSeconds(10), system));
  }

  /** Throws IllegalStateException when binding {@code settings.host()} would expose an open gateway. */
  static void checkExposure(GatewaySettings settings) {
    if (settings.authRequired() || settings.allowUnauthenticatedPublic()) {
      return;
    }
    boolean loopback;
    try {
      loopback = InetAddress.getByName(settings.host()).isLoopbackAddress();
    } catch (UnknownHostException e) {
      throw new IllegalStateException("cannot resolve gateway host '" + settings.host() + "'", e);
    }
    if (!loopback) {
      throw new IllegalStateException("refusing to bind " + settings.host() + " without an API key: set "
          + "PEKKO_LLM_API_KEY, or PEKKO_LLM_ALLOW_UNAUTHENTICATED_PUBLIC=true to expose an open gateway on purpose");
    }
  }
}
