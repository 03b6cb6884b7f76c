package io.pekkollm.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Objects;

/**
 * One part of a user message: text, or an image given by URL or as base64 data.
 *
 * <p>Immutable and thread-safe.
 */
public sealed interface ContentPart permits ContentPart.Text, ContentPart.Image {

  static Text text(String text) {
    return new Text(text);
  }

  /**
   * An image by URL. A {@code data:<media type>;base64,<data>} URL becomes inline base64 data (so providers that
   * take only bytes, Anthropic's {@code base64} source, Gemini's {@code inlineData}, Bedrock, Ollama, get bytes);
   * any other URL is sent as a link, for the provider to fetch.
   */
  static Image imageUrl(String url) {
    Objects.requireNonNull(url, "url");
    if (url.startsWith("data:")) {
      int semi = url.indexOf(";base64,");
      if (semi > 5) {
        return new Image(null, url.substring(semi + 8), url.substring(5, semi), null);
      }
    }
    return new Image(url, null, null, null);
  }

  static Image imageBase64(String mediaType, String base64Data) {
    return new Image(null, base64Data, mediaType, null);
  }

  /**
   * An image from the bytes of a JPEG, PNG, GIF or WebP file, its media type detected from the magic bytes.
   *
   * @throws IllegalArgumentException when the bytes are none of those formats
   */
  static Image image(byte[] bytes) {
    ImageFormat format = ImageFormat.detect(bytes).orElseThrow(() -> new IllegalArgumentException(
        "not a JPEG, PNG, GIF or WebP image (the first bytes match none of them)"));
    return new Image(null, Base64.getEncoder().encodeToString(bytes), format.mediaType(), null);
  }

  /**
   * An image from a JPEG, PNG, GIF or WebP file, read now; its media type is detected from its magic bytes.
   *
   * @throws UncheckedIOException when the file cannot be read
   * @throws IllegalArgumentException when it is none of those formats
   */
  static Image image(Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read image " + file, e);
    }
    try {
      return image(bytes);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + " is " + e.getMessage(), e);
    }
  }

  /** A text part. */
  record Text(String text) implements ContentPart {
    public Text {
      Objects.requireNonNull(text, "text");
    }
  }

  /**
   * An image, either by {@code url} (which may itself be a {@code data:} URL) or as {@code base64Data}
   * with its {@code mediaType}. {@code detail} is OpenAI's optional {@code low|high|auto} hint.
   */
  record Image(String url, String base64Data, String mediaType, String detail) implements ContentPart {
    public Image {
      if ((url == null) == (base64Data == null)) {
        throw new IllegalArgumentException("an image needs exactly one of url or base64Data");
      }
    }

    public Image withDetail(String newDetail) {
      return new Image(url, base64Data, mediaType, newDetail);
    }

    /**
     * The size in bytes of inline data (decoded, from the base64 length: no copy), or -1 for an image by URL,
     * whose size only the provider that fetches it learns.
     */
    public long byteSize() {
      if (base64Data == null) {
        return -1;
      }
      int n = base64Data.length();
      int pad = n > 0 && base64Data.charAt(n - 1) == '=' ? (n > 1 && base64Data.charAt(n - 2) == '=' ? 2 : 1) : 0;
      return (long) n * 3 / 4 - pad;
    }

    /** The image as a URL: the given one, or a {@code data:} URL built from the base64 data. */
    public String asUrl() {
      return url != null ? url : "data:" + (mediaType == null ? "image/png" : mediaType) + ";base64," + base64Data;
    }
  }
}
