package io.pekkollm.provider.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pekkollm.api.LlmClient;
import io.pekkollm.model.ChatResponse;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.FinishReason;
import io.pekkollm.model.LlmException;
import io.pekkollm.provider.ProviderContractTest;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.testkit.Upstream;
import io.pekkollm.testkit.Upstream.Reply;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The provider contract for an OpenAI-compatible host, configured by its own provider entry. */
abstract class OpenAiCompatibleContractTest extends ProviderContractTest {
  /** A top-level error beside {@code choices}: OpenRouter's documented form for a provider failing mid-answer. */
  private static final String ERROR_BESIDE_CHOICES = "\"error\":{\"code\":\"server_error\","
      + "\"message\":\"Provider disconnected\"},\"choices\":[{\"index\":0,";

  @Override
  protected LlmClient createClient(Upstream upstream) {
    return LlmClient.create(TestConfig.openAiCompatible(provider(), upstream, ""));
  }

  @Override
  protected String endlessEvent() {
    return "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
        + "\"delta\":{\"content\":\"tick \"},\"finish_reason\":null}]}\n\n";
  }

  @Test
  void anErrorObjectBesideChoicesFailsAStreamedAndAWholeAnswer() {
    upstream.enqueue(Reply.sse(("data: {\"id\":\"g\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
        + "\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n"
        + "data: {\"id\":\"g\",\"object\":\"chat.completion.chunk\"," + ERROR_BESIDE_CHOICES
        + "\"delta\":{\"content\":\"\"},\"finish_reason\":\"error\"}]}\n\ndata: [DONE]\n\n")
        .getBytes(StandardCharsets.UTF_8)));
    LlmException streamed = assertThrows(LlmException.class, () -> call(request(), true));
    assertEquals(ErrorKind.MID_STREAM, streamed.kind());
    assertTrue(streamed.isRetryable() && streamed.getMessage().contains("Provider disconnected"), streamed.getMessage());

    upstream.enqueue(Reply.json(200, "{\"id\":\"g\",\"object\":\"chat.completion\"," + ERROR_BESIDE_CHOICES
        + "\"message\":{\"role\":\"assistant\",\"content\":\"Hel\"},\"finish_reason\":\"error\"}]}"));
    LlmException whole = assertThrows(LlmException.class, () -> call(request(), false));
    assertEquals(ErrorKind.MID_STREAM, whole.kind());
  }

  @Test
  void aFinishReasonTheGatewayDoesNotKnowIsKeptAsItCame() {
    upstream.enqueue(Reply.sse(("data: {\"id\":\"g\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
        + "\"delta\":{\"content\":\"Hi\"},\"finish_reason\":\"guardrail_intervened\"}]}\n\ndata: [DONE]\n\n")
        .getBytes(StandardCharsets.UTF_8)));
    ChatResponse r = call(request(), true);
    assertEquals("guardrail_intervened", r.finishReason().value());
    assertTrue(!r.finishReason().isKnown() && !r.finishReason().equals(FinishReason.STOP));
  }
}
