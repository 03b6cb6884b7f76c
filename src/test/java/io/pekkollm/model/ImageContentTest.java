package io.pekkollm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Image content parts from bytes, files, data URLs and links; formats told by their magic bytes. */
class ImageContentTest {
  /** A real 1x1 PNG. */
  static final byte[] PNG = Base64.getDecoder().decode(
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==");
  static final byte[] JPEG = {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, (byte) 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0};
  static final byte[] GIF = "GIF89a\u0001\u0000\u0001\u0000".getBytes(StandardCharsets.ISO_8859_1);
  static final byte[] WEBP = "RIFF\u0024\u0000\u0000\u0000WEBPVP8 ".getBytes(StandardCharsets.ISO_8859_1);

  @Test
  void detectsEachFormatFromItsMagicBytes() {
    assertEquals(Optional.of(ImageFormat.PNG), ImageFormat.detect(PNG));
    assertEquals(Optional.of(ImageFormat.JPEG), ImageFormat.detect(JPEG));
    assertEquals(Optional.of(ImageFormat.GIF), ImageFormat.detect(GIF));
    assertEquals(Optional.of(ImageFormat.GIF), ImageFormat.detect("GIF87a".getBytes(StandardCharsets.US_ASCII)));
    assertEquals(Optional.of(ImageFormat.WEBP), ImageFormat.detect(WEBP));
  }

  @Test
  void refusesBytesOfNoKnownFormat() {
    assertEquals(Optional.empty(), ImageFormat.detect(new byte[0]));
    assertEquals(Optional.empty(), ImageFormat.detect("%PDF-1.7".getBytes(StandardCharsets.US_ASCII)));
    // RIFF alone is also WAV and AVI: only the WEBP form type makes it an image.
    assertEquals(Optional.empty(), ImageFormat.detect("RIFF\u0024\u0000\u0000\u0000WAVEfmt ".getBytes(
        StandardCharsets.ISO_8859_1)));
    assertEquals(Optional.empty(), ImageFormat.detect(new byte[] {(byte) 0x89, 'P', 'N', 'G'}));
    var e = assertThrows(IllegalArgumentException.class, () -> ContentPart.image("hello".getBytes(
        StandardCharsets.US_ASCII)));
    assertTrue(e.getMessage().contains("not a JPEG, PNG, GIF or WebP image"), e.getMessage());
  }

  @Test
  void bytesBecomeBase64WithTheDetectedMediaType() {
    ContentPart.Image img = ContentPart.image(JPEG);
    assertEquals("image/jpeg", img.mediaType());
    assertEquals(Base64.getEncoder().encodeToString(JPEG), img.base64Data());
    assertNull(img.url());
    assertEquals(JPEG.length, img.byteSize());
    assertEquals(PNG.length, ContentPart.image(PNG).byteSize());
    assertEquals(GIF.length, ContentPart.image(GIF).byteSize());
  }

  @Test
  void aFileIsReadAndDetected(@TempDir Path dir) throws Exception {
    Path file = Files.write(dir.resolve("photo.bin"), WEBP);
    ContentPart.Image img = ContentPart.image(file);
    assertEquals("image/webp", img.mediaType());
    assertEquals(Base64.getEncoder().encodeToString(WEBP), img.base64Data());

    Path text = Files.writeString(dir.resolve("notes.png"), "not an image");
    var e = assertThrows(IllegalArgumentException.class, () -> ContentPart.image(text));
    assertTrue(e.getMessage().startsWith(text.toString()), e.getMessage());
    assertThrows(UncheckedIOException.class, () -> ContentPart.image(dir.resolve("missing.png")));
  }

  @Test
  void aDataUrlBecomesInlineDataAndALinkStaysALink() {
    String b64 = Base64.getEncoder().encodeToString(PNG);
    ContentPart.Image inline = ContentPart.imageUrl("data:image/png;base64," + b64);
    assertNull(inline.url());
    assertEquals("image/png", inline.mediaType());
    assertEquals(b64, inline.base64Data());
    assertEquals("data:image/png;base64," + b64, inline.asUrl());

    ContentPart.Image link = ContentPart.imageUrl("https://example.com/cat.jpg");
    assertEquals("https://example.com/cat.jpg", link.url());
    assertNull(link.base64Data());
    assertEquals(-1, link.byteSize());
  }
}
