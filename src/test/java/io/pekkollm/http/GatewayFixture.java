package io.pekkollm.http;

import com.typesafe.config.Config;
import io.pekkollm.api.LlmClient;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.testkit.Upstream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.http.javadsl.ServerBinding;

/**
 * A running gateway for tests: an {@link LlmClient} whose {@code openai} provider talks to a local
 * {@link Upstream}, served on 127.0.0.1 at a free port. Close it after use.
 */
final class GatewayFixture implements AutoCloseable {
  final Upstream upstream = new Upstream();
  final LlmClient client;
  final ServerBinding binding;
  final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(30)).build();

  GatewayFixture(String extraConfig) {
    Config config = TestConfig.openAiCompatible("openai", upstream,
        "pekko-llm.gateway.port = 0\npekko-llm.gateway.access-log = off\n" + extraConfig);
    client = LlmClient.create(config);
    try {
      binding = GatewayServer.start(client, GatewaySettings.create(config))
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      client.close();
      upstream.close();
      throw new IllegalStateException(e);
    }
  }

  int port() {
    return binding.localAddress().getPort();
  }

  String baseUrl() {
    return "http://127.0.0.1:" + port() + "/v1";
  }

  HttpResponse<String> post(String path, String body, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + path))
        .timeout(Duration.ofSeconds(20))
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> get(String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port() + path))
        .timeout(Duration.ofSeconds(20)).GET();
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Override
  public void close() {
    binding.unbind();
    client.close();
    upstream.close();
  }
}
