package io.pekkollm.journal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.util.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.pekko.serialization.JSerializer;

/**
 * Serializes an {@link LlmException} between cluster nodes (an entity's {@code StatusReply.error}, say a session's
 * CONFLICT or NOT_FOUND) as JSON of its kind, message, retryability and parameter; the cause and stack trace stay
 * on the node that threw it. Bound in reference.conf; Pekko would otherwise need Java serialization, which is off.
 */
public final class LlmExceptionSerializer extends JSerializer {

  /** Pekko's serializer id, unique in the actor system (Pekko's own are below 100). */
  public static final int IDENTIFIER = 197_519;

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public boolean includeManifest() {
    return false;
  }

  @Override
  public byte[] toBinary(Object o) {
    LlmException e = (LlmException) o;
    ObjectNode n = Json.object().put("kind", e.kind().name()).put("message", e.getMessage())
        .put("retryable", e.isRetryable());
    if (e.param() != null) {
      n.put("param", e.param());
    }
    return Json.writeBytes(n);
  }

  @Override
  public Object fromBinaryJava(byte[] bytes, Class<?> manifest) {
    try {
      JsonNode n = Json.parse(new String(bytes, java.nio.charset.StandardCharsets.UTF_8));
      JsonNode param = n.get("param");
      return new LlmException(ErrorKind.valueOf(n.get("kind").asText()), n.get("message").asText(), null,
          n.get("retryable").asBoolean(), param == null || param.isNull() ? null : param.asText());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
