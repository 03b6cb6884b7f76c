package io.pekkollm.provider.openai;

import io.pekkollm.api.LlmClient;
import io.pekkollm.provider.ProviderContractTest;
import io.pekkollm.testkit.TestConfig;
import io.pekkollm.testkit.Upstream;

/** The provider contract for an OpenAI-compatible host, configured by its own provider entry. */
abstract class OpenAiCompatibleContractTest extends ProviderContractTest {

  @Override
  protected LlmClient createClient(Upstream upstream) {
    return LlmClient.create(TestConfig.openAiCompatible(provider(), upstream, ""));
  }

  @Override
  protected String endlessEvent() {
    return "data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
        + "\"delta\":{\"content\":\"tick \"},\"finish_reason\":null}]}\n\n";
  }
}
