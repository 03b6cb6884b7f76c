package io.pekkollm.catalog;

/**
 * A number of tokens and how it was obtained: {@code exact} when counted with the model's own tokenizer and
 * OpenAI's documented message format, false for an estimate; {@code encoding} names the BPE used
 * ({@code o200k_base}, {@code cl100k_base}).
 */
public record TokenCount(int tokens, boolean exact, String encoding) {}
