package io.pekkollm.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

  @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
      "Authorization|Bearer sk-test-key-openai-123456|[REDACTED]",
      "authorization|AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20250101/us-east-1/bedrock/aws4_request, "
          + "SignedHeaders=host;x-amz-date, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"
          + "|[REDACTED]",
      "x-api-key|sk-ant-test-key-9876543210|[REDACTED]",
      "X-Goog-Api-Key|AIzaSyA1234567890abcdefghijklmnopqrs|[REDACTED]",
      "x-amz-security-token|IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ|[REDACTED]",
      "api-key|0123456789abcdef|[REDACTED]",
      "Cookie|session=abc|[REDACTED]",
      "my-service-token|plain|[REDACTED]",
      "anthropic-version|2023-06-01|2023-06-01",
      "content-type|application/json|application/json",
      "x-request-id|req_123|req_123"})
  void credentialHeadersAreMaskedWholeOthersRedactedAsText(String name, String value, String expected) {
    assertEquals(expected, Redactor.DEFAULT.redactHeader(name, value));
  }

  @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
      "json api key|{\"api_key\": \"sk-test-key-abcdefgh\", \"model\": \"gpt-4o\"}|sk-test-key-abcdefgh",
      "echoed header|{\"error\": \"bad header x-api-key: sk-ant-test-abcdefgh\"}|sk-ant-test-abcdefgh",
      "presigned url|https://bedrock.us-east-1.amazonaws.com/x?X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F2025"
          + "&X-Amz-Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe&X-Amz-Security-Token=IQoJb3JpZ2luX2Vj|fe5f80f77d5f",
      "sigv4 header echo|Signature=0a1b2c3d4e5f6a7b8c9d, SignedHeaders=host|0a1b2c3d4e5f6a7b8c9d",
      "gemini key in query|/v1beta/models/gemini-1.5-flash:generateContent?key=AIzaSyA1234567890abcdefghijklmnopqrs"
          + "|AIzaSyA1234567890"})
  void bodyShapesLoseTheirSecrets(String shape, String body, String secret) {
    String out = Redactor.DEFAULT.redact(body);
    assertFalse(out.contains(secret), out);
    assertTrue(out.contains(Redactor.MASK), out);
  }

  @Test
  void configuredPatternsAreMaskedAndABadPatternIsNamed() {
    Redactor r = Redactor.of(List.of()).withPatterns(List.of("internal-[0-9a-f]{8}"));
    assertEquals("token [REDACTED] ok", r.redact("token internal-deadbeef ok"));
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> Redactor.DEFAULT.withPatterns(List.of("([unclosed")));
    assertTrue(e.getMessage().contains("([unclosed"), e.getMessage());
  }

  @Test
  void piiMaskingCoversEmailsPhonesAndLuhnValidCardsOnlyWhenAskedFor() {
    String text = "mail jane.doe+x@example.co.uk, call +1 415-555-0132 or (030) 1234 5678, "
        + "card 4111 1111 1111 1111 or 5500-0000-0000-0004, order 1234567890123 (not Luhn), model gpt-4o-2024-08-06";
    String masked = Redactor.DEFAULT.withPiiMasking().redact(text);
    assertEquals("mail [EMAIL], call [PHONE] or [PHONE], card [CARD] or [CARD], order 1234567890123 (not Luhn), "
        + "model gpt-4o-2024-08-06", masked);
    assertEquals(text, Redactor.DEFAULT.redact(text), "PII is kept unless masking is on");
  }
}
