package io.pekkollm.http;

import io.pekkollm.api.LlmClient;
import io.pekkollm.util.Json;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;

/**
 * {@code GET /health}: 200 {@code {"status":"ok"}} while the gateway can serve, 503
 * {@code {"status":"unavailable","reason":...}} while the stream journal cannot be used (streams and sessions
 * would fail), so that a probe or load balancer sees it.
 */
final class HealthCheck {
  private HealthCheck() {}

  static CompletionStage<HttpResponse> of(LlmClient client) {
    return answer(client.journalProblem());
  }

  /**
   * {@code GET /health/ready}: as {@code /health}, and in cluster mode also 503 until this node is {@code Up} in
   * the cluster (a load balancer's readiness probe).
   */
  static CompletionStage<HttpResponse> ready(LlmClient client) {
    return answer(client.readinessProblem());
  }

  private static CompletionStage<HttpResponse> answer(CompletionStage<java.util.Optional<String>> check) {
    return check.thenApply(problem -> problem
        .map(reason -> HttpResponse.create().withStatus(StatusCodes.SERVICE_UNAVAILABLE)
            .withEntity(ContentTypes.APPLICATION_JSON,
                Json.writeBytes(Json.object().put("status", "unavailable").put("reason", reason))))
        .orElseGet(() -> HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, "{\"status\":\"ok\"}")));
  }
}
