package io.pekkollm.model;

/**
 * Token counts of one call. {@code cachedInputTokens} (read from a prompt cache) and
 * {@code cacheWriteTokens} are part of, not added to, the input count where the provider reports them so;
 * {@code reasoningTokens} are part of {@code outputTokens}.
 */
public record Usage(int inputTokens, int outputTokens, int cachedInputTokens, int cacheWriteTokens,
    int reasoningTokens) {

  public static final Usage ZERO = new Usage(0, 0, 0, 0, 0);

  public static Usage of(int inputTokens, int outputTokens) {
    return new Usage(inputTokens, outputTokens, 0, 0, 0);
  }

  public int totalTokens() {
    return inputTokens + outputTokens;
  }

  /**
   * Combines two reports of the same call: providers that report usage more than once report running
   * totals, so each field takes the larger value.
   */
  public Usage merge(Usage other) {
    if (other == null) {
      return this;
    }
    return new Usage(Math.max(inputTokens, other.inputTokens), Math.max(outputTokens, other.outputTokens),
        Math.max(cachedInputTokens, other.cachedInputTokens), Math.max(cacheWriteTokens, other.cacheWriteTokens),
        Math.max(reasoningTokens, other.reasoningTokens));
  }
}
