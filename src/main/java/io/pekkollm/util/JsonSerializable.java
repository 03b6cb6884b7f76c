package io.pekkollm.util;

/**
 * Marker for messages and persisted events serialized as JSON by Pekko's Jackson serializer (bound in
 * reference.conf). Persisted events are a schema: evolve them with Jackson migrations, never by renaming.
 */
public interface JsonSerializable {}
