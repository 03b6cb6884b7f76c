package io.pekkollm.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import org.junit.jupiter.api.Test;

class RedactorTest {
  @Test
  void masksKeyShapedTextAndConfiguredSecretsButKeepsOrdinaryText() {
    Redactor r = Redactor.of(List.of("my-local-secret", "short", ""));
    String in = "Incorrect API key provided: sk-proj-AbCdEf0123456789xyz. Authorization: Bearer eyJhbGciOi.J9xyz "
        + "url https://x.googleapis.com/v1/models?key=AIzaSyA1234567890abcdefghijklmnopqrs&alt=sse "
        + "aws AKIAABCDEFGHIJKLMNOP token 0123456789abcdef0123456789abcdef01 secret my-local-secret "
        + "model anthropic/claude-3-5-sonnet-20241022 short";
    String out = r.redact(in);
    for (String secret : new String[] {"sk-proj-AbCdEf0123456789xyz", "eyJhbGciOi.J9xyz", "AIzaSyA1234567890",
        "AKIAABCDEFGHIJKLMNOP", "0123456789abcdef0123456789abcdef01", "my-local-secret"}) {
      assertFalse(out.contains(secret), secret + " in " + out);
    }
    // Model ids, URL paths and words stay; a configured secret under 8 characters is not searched for.
    assertEquals(true, out.contains("anthropic/claude-3-5-sonnet-20241022"), out);
    assertEquals(true, out.contains("https://x.googleapis.com/v1/models?key=[REDACTED]&alt=sse"), out);
    assertEquals(true, out.endsWith(" short"), out);
    assertEquals("the model is overloaded, retry in 3 s", Redactor.DEFAULT.redact("the model is overloaded, retry in 3 s"));
    assertNull(Redactor.DEFAULT.redact(null));
  }
}
