package io.pekkollm.model;

import java.util.Optional;

/**
 * The image formats every vision provider accepts (OpenAI, Anthropic, Gemini, Bedrock), told apart by the
 * magic bytes their files start with, never by a file name or a declared media type.
 */
public enum ImageFormat {
  /** {@code FF D8 FF} (JPEG File Interchange / EXIF: a start-of-image marker followed by any segment). */
  JPEG("image/jpeg"),
  /** {@code 89 50 4E 47 0D 0A 1A 0A} (PNG specification, section 5.2). */
  PNG("image/png"),
  /** {@code GIF87a} or {@code GIF89a}. */
  GIF("image/gif"),
  /** A RIFF container whose form type is {@code WEBP}: {@code RIFF <size> WEBP}. */
  WEBP("image/webp");

  private final String mediaType;

  ImageFormat(String mediaType) {
    this.mediaType = mediaType;
  }

  /** The IANA media type, e.g. {@code image/png}. */
  public String mediaType() {
    return mediaType;
  }

  /** The format of an image file from its first bytes; empty when they are none of the four. */
  public static Optional<ImageFormat> detect(byte[] b) {
    if (b.length >= 8 && (b[0] & 0xFF) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G'
        && b[4] == 0x0D && b[5] == 0x0A && b[6] == 0x1A && b[7] == 0x0A) {
      return Optional.of(PNG);
    }
    if (b.length >= 6 && b[0] == 'G' && b[1] == 'I' && b[2] == 'F' && b[3] == '8' && (b[4] == '7' || b[4] == '9')
        && b[5] == 'a') {
      return Optional.of(GIF);
    }
    if (b.length >= 3 && (b[0] & 0xFF) == 0xFF && (b[1] & 0xFF) == 0xD8 && (b[2] & 0xFF) == 0xFF) {
      return Optional.of(JPEG);
    }
    if (b.length >= 12 && b[0] == 'R' && b[1] == 'I' && b[2] == 'F' && b[3] == 'F'
        && b[8] == 'W' && b[9] == 'E' && b[10] == 'B' && b[11] == 'P') {
      return Optional.of(WEBP);
    }
    return Optional.empty();
  }
}
