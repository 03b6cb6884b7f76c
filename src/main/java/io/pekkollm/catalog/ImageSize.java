package io.pekkollm.catalog;

import io.pekkollm.model.ContentPart;
import io.pekkollm.model.ImageFormat;
import java.util.Base64;
import java.util.Optional;

/**
 * Width and height of an inline image, read from the header of its PNG, GIF, JPEG or WebP data without
 * decoding the picture. Images given by URL have no known size (fetching them is the provider's job).
 */
record ImageSize(int width, int height) {
  // JPEG's frame header may follow EXIF and thumbnail segments; 96 KiB of base64 covers nearly all files.
  private static final int MAX_BASE64_CHARS = 128 * 1024;

  static Optional<ImageSize> of(ContentPart.Image image) {
    String b64 = image.base64Data();
    if (b64 == null && image.url() != null && image.url().startsWith("data:")) {
      int comma = image.url().indexOf(";base64,");
      b64 = comma < 0 ? null : image.url().substring(comma + 8);
    }
    if (b64 == null || b64.isEmpty()) {
      return Optional.empty();
    }
    int n = Math.min(b64.length(), MAX_BASE64_CHARS);
    n -= n % 4;
    byte[] head;
    try {
      head = Base64.getMimeDecoder().decode(b64.substring(0, n));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    return of(head);
  }

  /** The size from the first bytes of an image file, when the format is known and the header complete. */
  static Optional<ImageSize> of(byte[] b) {
    ImageFormat format = ImageFormat.detect(b).orElse(null);
    if (format == null) {
      return Optional.empty();
    }
    return switch (format) {
      case PNG -> b.length >= 24 ? valid(be32(b, 16), be32(b, 20)) : Optional.empty();
      case GIF -> b.length >= 10 ? valid(le16(b, 6), le16(b, 8)) : Optional.empty();
      case JPEG -> jpeg(b);
      case WEBP -> b.length >= 30 ? webp(b) : Optional.empty();
    };
  }

  private static Optional<ImageSize> jpeg(byte[] b) {
    int i = 2;
    while (i + 9 < b.length) {
      if (u8(b, i) != 0xFF) {
        return Optional.empty();
      }
      int marker = u8(b, i + 1);
      if (marker == 0xFF) {
        i++;
        continue;
      }
      if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD9)) {
        i += 2;
        continue;
      }
      int length = be16(b, i + 2);
      // SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
      if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
        return valid(be16(b, i + 7), be16(b, i + 5));
      }
      i += 2 + length;
    }
    return Optional.empty();
  }

  private static Optional<ImageSize> webp(byte[] b) {
    String chunk = new String(b, 12, 4, java.nio.charset.StandardCharsets.US_ASCII);
    switch (chunk) {
      case "VP8 ":
        return valid(le16(b, 26) & 0x3FFF, le16(b, 28) & 0x3FFF);
      case "VP8L": {
        long bits = u8(b, 21) | (u8(b, 22) << 8) | (u8(b, 23) << 16) | ((long) u8(b, 24) << 24);
        return valid((int) (bits & 0x3FFF) + 1, (int) ((bits >> 14) & 0x3FFF) + 1);
      }
      case "VP8X":
        return valid(le24(b, 24) + 1, le24(b, 27) + 1);
      default:
        return Optional.empty();
    }
  }

  private static Optional<ImageSize> valid(long w, long h) {
    return w > 0 && h > 0 && w <= 1 << 20 && h <= 1 << 20 ? Optional.of(new ImageSize((int) w, (int) h))
        : Optional.empty();
  }

  private static int u8(byte[] b, int i) {
    return b[i] & 0xFF;
  }

  private static int be16(byte[] b, int i) {
    return (u8(b, i) << 8) | u8(b, i + 1);
  }

  private static long be32(byte[] b, int i) {
    return ((long) u8(b, i) << 24) | (u8(b, i + 1) << 16) | (u8(b, i + 2) << 8) | u8(b, i + 3);
  }

  private static int le16(byte[] b, int i) {
    return u8(b, i) | (u8(b, i + 1) << 8);
  }

  private static int le24(byte[] b, int i) {
    return u8(b, i) | (u8(b, i + 1) << 8) | (u8(b, i + 2) << 16);
  }
}
