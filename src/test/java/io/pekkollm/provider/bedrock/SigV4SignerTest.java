package io.pekkollm.provider.bedrock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The signer against AWS's published Signature Version 4 examples. The AWS SDK signer always adds and signs
 * {@code x-amz-content-sha256} (as the SDK's own clients do on the wire), so the applicable published vectors
 * are the S3 header-authentication examples of the S3 API reference ("Examples: Signature Calculations",
 * credentials AKIAIOSFODNN7EXAMPLE, 2013-05-24T00:00:00Z, us-east-1, service s3), which sign that header too;
 * the generic test suite's get-vanilla cases do not, so their signatures cannot match by construction. Each
 * expected signature below is AWS's own value, so a pass means the wrapper hands the SDK the request that goes
 * on the wire (path, query, headers, payload hash, date, scope).
 */
class SigV4SignerTest {
  private static final Clock S3_EXAMPLE_TIME = Clock.fixed(Instant.parse("2013-05-24T00:00:00Z"), ZoneOffset.UTC);
  private static final String S3_KEY = "AKIAIOSFODNN7EXAMPLE";
  private static final String S3_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
  private static final String S3_SCOPE = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, ";
  private static final String EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  private static final String HOST = "https://examplebucket.s3.amazonaws.com";

  private static SigV4Signer s3(String token) {
    return new SigV4Signer(S3_KEY, S3_SECRET, token, "us-east-1", "s3", S3_EXAMPLE_TIME);
  }

  @Test
  void getObjectWithARangeHeader() {
    Map<String, String> h = s3(null).sign("GET", URI.create(HOST + "/test.txt"), Map.of("Range", "bytes=0-9"),
        new byte[0]);
    assertEquals(S3_SCOPE + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41", h.get("Authorization"));
    assertEquals("20130524T000000Z", h.get("X-Amz-Date"));
    assertEquals(EMPTY_SHA256, h.get("x-amz-content-sha256"));
    assertFalse(h.containsKey("Range"), "the caller's own headers are not returned");
    assertFalse(h.containsKey("X-Amz-Security-Token"));
  }

  @Test
  void getBucketLifecycleASubresourceWithoutValue() {
    Map<String, String> h = s3(null).sign("GET", URI.create(HOST + "/?lifecycle"), Map.of(), new byte[0]);
    assertEquals(S3_SCOPE + "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
        + "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543", h.get("Authorization"));
  }

  @Test
  void listObjectsWithAnUnsortedQuery() {
    Map<String, String> h = s3(null).sign("GET", URI.create(HOST + "/?prefix=J&max-keys=2"), Map.of(),
        new byte[0]);
    assertEquals(S3_SCOPE + "SignedHeaders=host;x-amz-content-sha256;x-amz-date, "
        + "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7", h.get("Authorization"));
  }

  @Test
  void temporaryCredentialsSignAndSendTheSessionToken() {
    Map<String, String> h = s3("FQoGZXIvYXdzEXAMPLE").sign("POST", URI.create(HOST + "/"),
        Map.of("Content-Type", "application/json"), "{}".getBytes(StandardCharsets.UTF_8));
    assertEquals("FQoGZXIvYXdzEXAMPLE", h.get("X-Amz-Security-Token"));
    assertTrue(h.get("Authorization").startsWith(S3_SCOPE
        + "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature="),
        h.get("Authorization"));
    // SHA-256 of "{}": the payload hash is the body actually sent.
    assertEquals("44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", h.get("x-amz-content-sha256"));
  }

  @Test
  void anEncodedColonInTheModelIdIsSignedAsSent() {
    // Bedrock model ids contain ':' (anthropic.claude-3-haiku-20240307-v1:0); the path carries %3A and the
    // canonical request encodes it again (non-S3 services double-encode), so both spellings sign differently.
    SigV4Signer s = new SigV4Signer(S3_KEY, S3_SECRET, null, "us-east-1", "bedrock", S3_EXAMPLE_TIME);
    String encoded = s.sign("POST", URI.create("https://bedrock-runtime.us-east-1.amazonaws.com/model/a.b-v1%3A0/converse"),
        Map.of(), new byte[0]).get("Authorization");
    String raw = s.sign("POST", URI.create("https://bedrock-runtime.us-east-1.amazonaws.com/model/a.b-v1:0/converse"),
        Map.of(), new byte[0]).get("Authorization");
    assertNotEquals(encoded, raw);
  }
}
