package io.pekkollm.catalog;

/**
 * Where a provider's catalog came from: the header of its YAML file ({@code source}, {@code source_date}, each
 * null when the file has none) and the file itself ({@code classpath:config/models/openai.yml} or a path in
 * the external directory). When an external file extends a bundled one, this is the external file's header.
 */
public record CatalogSource(String provider, String source, String sourceDate, String file) {}
