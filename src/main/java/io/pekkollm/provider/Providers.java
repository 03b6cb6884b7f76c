package io.pekkollm.provider;

import io.pekkollm.provider.anthropic.AnthropicProvider;
import io.pekkollm.provider.gemini.GeminiProvider;
import io.pekkollm.provider.bedrock.BedrockProvider;
import io.pekkollm.provider.cohere.CohereProvider;
import io.pekkollm.provider.mock.MockProvider;
import io.pekkollm.provider.ollama.OllamaProvider;
import io.pekkollm.provider.openai.OpenAiProvider;
import java.time.Duration;

/** The built-in provider kinds, by the {@code kind} key of a provider's settings. */
public final class Providers {
  private Providers() {}

  /** The factory for {@code settings.kind()}; throws IllegalArgumentException naming the known kinds. */
  public static ProviderFactory factoryFor(ProviderSettings settings) {
    return switch (settings.kind()) {
      case "openai" -> OpenAiProvider::new;
      case "anthropic" -> AnthropicProvider::new;
      case "gemini" -> GeminiProvider::new;
      case "ollama" -> OllamaProvider::new;
      case "cohere" -> CohereProvider::new;
      case "bedrock" -> BedrockProvider::new;
      case "mock" -> (s, system) -> MockProvider.builder(s.name())
          .chunkDelay(s.config().hasPath("chunk-delay") ? s.config().getDuration("chunk-delay") : Duration.ZERO)
          .embeddingBatchSize(s.config().hasPath("embedding-batch-size") ? s.config().getInt("embedding-batch-size")
              : 2048)
          .build();
      default -> throw new IllegalArgumentException("pekko-llm.providers." + settings.name() + ".kind '"
          + settings.kind() + "' is unknown; known kinds: openai, anthropic, gemini, ollama, cohere, bedrock, mock");
    };
  }
}
