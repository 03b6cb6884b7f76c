package io.pekkollm.model;

/**
 * A model a provider offers: {@code id} is {@code provider/model}; {@code created} is epoch seconds or 0 when
 * unknown; {@code ownedBy} as the provider reports it.
 */
public record ModelInfo(String id, String provider, long created, String ownedBy) {}
