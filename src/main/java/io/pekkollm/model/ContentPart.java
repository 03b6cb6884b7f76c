package io.pekkollm.model;

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

  static Image imageUrl(String url) {
    return new Image(url, null, null, null);
  }

  static Image imageBase64(String mediaType, String base64Data) {
    return new Image(null, base64Data, mediaType, null);
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

    /** The image as a URL: the given one, or a {@code data:} URL built from the base64 data. */
    public String asUrl() {
      return url != null ? url : "data:" + (mediaType == null ? "image/png" : mediaType) + ";base64," + base64Data;
    }
  }
}
