package io.pekkollm.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Reads the provider wire transcripts in {@code ../shared/fixtures} (override with the
 * {@code PEKKO_LLM_FIXTURES} environment variable). A missing folder fails loudly: these tests are never
 * skipped for want of data.
 */
public final class Fixtures {
  private Fixtures() {}

  public static Path root() {
    String env = System.getenv("PEKKO_LLM_FIXTURES");
    Path p = env != null ? Paths.get(env) : Paths.get("..", "shared", "fixtures");
    if (!Files.isDirectory(p)) {
      throw new IllegalStateException("provider fixtures not found at " + p.toAbsolutePath()
          + ": clone next to shared/ or set PEKKO_LLM_FIXTURES");
    }
    return p;
  }

  public static byte[] bytes(String relative) {
    try {
      return Files.readAllBytes(root().resolve(relative));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static String text(String relative) {
    return new String(bytes(relative), StandardCharsets.UTF_8);
  }
}
