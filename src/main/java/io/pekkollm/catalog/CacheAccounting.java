package io.pekkollm.catalog;

import java.util.Locale;

/**
 * How a provider's usage report counts prompt-cache tokens, which decides how {@link CostCalculator} bills
 * them.
 * <ul>
 *   <li>{@link #INCLUDED_IN_INPUT}: the input count already contains the cached tokens. OpenAI's
 *   {@code prompt_tokens} includes {@code prompt_tokens_details.cached_tokens}; DeepSeek's {@code prompt_tokens}
 *   is {@code prompt_cache_hit_tokens + prompt_cache_miss_tokens}; Gemini's {@code promptTokenCount} includes
 *   {@code cachedContentTokenCount}; every OpenAI-compatible host follows OpenAI. Plain input is then
 *   {@code input - cached - cacheWrite}.</li>
 *   <li>{@link #SEPARATE_FROM_INPUT}: the input count excludes them. Anthropic reports
 *   {@code cache_read_input_tokens} and {@code cache_creation_input_tokens} beside {@code input_tokens}, and
 *   Bedrock's Converse API does the same with {@code cacheReadInputTokens} / {@code cacheWriteInputTokens}.
 *   Plain input is then the input count itself.</li>
 * </ul>
 */
public enum CacheAccounting {
  INCLUDED_IN_INPUT,
  SEPARATE_FROM_INPUT;

  /**
   * The accounting of a provider, by its name or its implementation kind: {@code anthropic} and
   * {@code bedrock} report cache tokens apart; every other provider (OpenAI and OpenAI-compatible APIs,
   * Gemini, the mock) includes them.
   */
  public static CacheAccounting forProvider(String providerOrKind) {
    String p = providerOrKind == null ? "" : providerOrKind.toLowerCase(Locale.ROOT);
    return p.equals("anthropic") || p.equals("bedrock") ? SEPARATE_FROM_INPUT : INCLUDED_IN_INPUT;
  }
}
