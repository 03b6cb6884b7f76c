package io.pekkollm.provider;

import com.typesafe.config.Config;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ContentPart;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.Message;

/**
 * What one provider accepts of the images in a request, from {@code pekko-llm.providers.<name>.images}: the
 * largest inline image, the most images, and the most inline image bytes in all (each 0 = no limit). Checked
 * before anything is sent, so a request the provider would refuse fails at once with a message naming the image
 * and the limit instead of after an upload. Sizes are of the decoded image bytes; images given by URL count
 * towards the number only (the provider fetches them and alone learns their size). Immutable.
 *
 * @param maxBytes      largest inline image, in bytes
 * @param maxCount      most images in one request, inline or by URL
 * @param maxTotalBytes most inline image bytes in one request
 */
public record ImageLimits(long maxBytes, int maxCount, long maxTotalBytes) {
  /** No limits. */
  public static final ImageLimits NONE = new ImageLimits(0, 0, 0);

  /** Reads the {@code images} block of a provider's config; absent: {@link #NONE}. */
  public static ImageLimits create(Config provider) {
    if (!provider.hasPath("images")) {
      return NONE;
    }
    Config c = provider.getConfig("images");
    return new ImageLimits(c.getBytes("max-bytes"), c.getInt("max-count"), c.getBytes("max-total-bytes"));
  }

  /**
   * The error for {@code request}'s images breaking a limit of {@code provider}, or null when they do not: kind
   * {@link ErrorKind#REQUEST_TOO_LARGE} (HTTP 413) for an image or the images in all being too large,
   * {@link ErrorKind#INVALID_REQUEST} (400) for too many. Allocates nothing for a request without images.
   */
  public LlmException problem(ChatRequest request, String provider) {
    if (this.equals(NONE)) {
      return null;
    }
    int count = 0;
    long total = 0;
    int messageIndex = -1;
    for (Message m : request.messages()) {
      messageIndex++;
      if (!(m instanceof Message.User u)) {
        continue;
      }
      for (ContentPart p : u.content()) {
        if (!(p instanceof ContentPart.Image img)) {
          continue;
        }
        count++;
        long size = img.byteSize();
        if (size < 0) {
          continue;
        }
        if (maxBytes > 0 && size > maxBytes) {
          return new LlmException(ErrorKind.REQUEST_TOO_LARGE, "image " + count + " (messages[" + messageIndex
              + "]) is " + size + " bytes; provider '" + provider + "' accepts images of at most " + maxBytes
              + " bytes (pekko-llm.providers." + provider + ".images.max-bytes)", null, false, "messages");
        }
        total += size;
      }
    }
    if (maxCount > 0 && count > maxCount) {
      return LlmException.invalidRequest("the request holds " + count + " images; provider '" + provider
          + "' accepts at most " + maxCount + " (pekko-llm.providers." + provider + ".images.max-count)", "messages");
    }
    if (maxTotalBytes > 0 && total > maxTotalBytes) {
      return new LlmException(ErrorKind.REQUEST_TOO_LARGE, "the request's images are " + total + " bytes in all; "
          + "provider '" + provider + "' accepts at most " + maxTotalBytes + " (pekko-llm.providers." + provider
          + ".images.max-total-bytes)", null, false, "messages");
    }
    return null;
  }
}
