package io.pekkollm.catalog;

/**
 * Input tokens of one image, by the formula its provider documents. {@code size} is null when unknown (an image
 * given by URL); {@code detail} is OpenAI's {@code low|high|auto} hint or null. {@link #exact()} says whether
 * a count for a known size follows a formula documented for this very model; unknown sizes are never exact.
 */
sealed interface ImageTokens {

  int tokens(ImageSize size, String detail);

  boolean exact();

  /**
   * OpenAI's tile formula (vision guide, "Calculating costs"): {@code detail: low} costs {@code base}; otherwise
   * the image is scaled to fit 2048×2048, then down so its shortest side is at most 768 px, and costs
   * {@code base + perTile × (512 px tiles)}: 1024×1024 → 765 and 2048×4096 → 1105 for GPT-4o. Unknown size
   * counts the largest possible image, 8 tiles, so an estimate never falls short.
   */
  record Tiles(int base, int perTile, boolean exact) implements ImageTokens {
    @Override
    public int tokens(ImageSize size, String detail) {
      if ("low".equals(detail)) {
        return base;
      }
      if (size == null) {
        return base + 8 * perTile;
      }
      double w = size.width();
      double h = size.height();
      double fit = 2048.0 / Math.max(w, h);
      if (fit < 1) {
        w *= fit;
        h *= fit;
      }
      double shortest = 768.0 / Math.min(w, h);
      if (shortest < 1) {
        w *= shortest;
        h *= shortest;
      }
      long tiles = (long) Math.ceil(w / 512 - 1e-9) * (long) Math.ceil(h / 512 - 1e-9);
      return (int) (base + perTile * tiles);
    }
  }

  /**
   * OpenAI's patch formula for GPT-4.1-mini/nano, GPT-5-mini/nano and o4-mini: 32 px patches covering the
   * image, scaled down to at most 1536 patches, times the model's multiplier. Counted as an estimate (the
   * rounding of the multiplier is not documented). Unknown size counts 1536 patches.
   */
  record Patches(double multiplier) implements ImageTokens {
    @Override
    public int tokens(ImageSize size, String detail) {
      double patches = 1536;
      if (size != null) {
        double w = size.width();
        double h = size.height();
        patches = Math.ceil(w / 32) * Math.ceil(h / 32);
        if (patches > 1536) {
          double r = Math.sqrt(32.0 * 32.0 * 1536 / (w * h));
          r *= Math.min(Math.floor(w * r / 32) / (w * r / 32), Math.floor(h * r / 32) / (h * r / 32));
          patches = Math.min(1536, Math.ceil(w * r / 32) * Math.ceil(h * r / 32));
        }
      }
      return (int) Math.ceil(patches * multiplier);
    }

    @Override
    public boolean exact() {
      return false;
    }
  }

  /**
   * Anthropic's estimate ("Vision" guide): {@code width × height / 750} tokens after scaling the long edge
   * down to 1568 px, about 1600 at most; unknown size counts 1600.
   */
  record Anthropic() implements ImageTokens {
    @Override
    public int tokens(ImageSize size, String detail) {
      if (size == null) {
        return 1600;
      }
      double w = size.width();
      double h = size.height();
      double scale = Math.min(1, 1568.0 / Math.max(w, h));
      return (int) Math.min(1600, Math.ceil(w * scale * h * scale / 750));
    }

    @Override
    public boolean exact() {
      return false;
    }
  }

  /**
   * Gemini's documented rule: an image with both sides at most 384 px costs 258 tokens; a larger one is cut
   * into 768×768 tiles of 258 tokens each. Unknown size counts 4 tiles (a typical photo), an estimate only.
   */
  record Gemini() implements ImageTokens {
    @Override
    public int tokens(ImageSize size, String detail) {
      if (size == null) {
        return 4 * 258;
      }
      if (size.width() <= 384 && size.height() <= 384) {
        return 258;
      }
      return (int) (Math.ceil(size.width() / 768.0) * Math.ceil(size.height() / 768.0) * 258);
    }

    @Override
    public boolean exact() {
      return false;
    }
  }
}
