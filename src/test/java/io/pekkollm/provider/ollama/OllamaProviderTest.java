package io.pekkollm.provider.ollama;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** OLLAMA_HOST in every form Ollama's own client accepts. */
class OllamaProviderTest {

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
      "http://127.0.0.1:11434, http://127.0.0.1:11434",
      "http://127.0.0.1:11434/, http://127.0.0.1:11434",
      "127.0.0.1, http://127.0.0.1:11434",
      "localhost:8080, http://localhost:8080",
      "0.0.0.0:11434, http://127.0.0.1:11434",
      "0.0.0.0, http://127.0.0.1:11434",
      "https://ollama.example.com, https://ollama.example.com:443",
      "http://gpu-box, http://gpu-box:80",
      "https://example.com:8443/ollama/, https://example.com:8443/ollama",
      "'[::1]:11434', 'http://[::1]:11434'",
      "'[::1]', 'http://[::1]:11434'",
  })
  void normalizesOllamaHostLikeOllamaDoes(String host, String expected) {
    assertEquals(expected, OllamaProvider.normalizeHost(host));
  }
}
