package io.pekkollm.admin;

import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Encrypts runtime provider secrets for the journal with AES-256-GCM under the key of {@code PEKKO_LLM_SECRETS_KEY}
 * (32 bytes, base64: {@code openssl rand -base64 32}). Each value gets a fresh 12-byte nonce and is bound to its
 * provider and field (the additional authenticated data), so a stored value cannot be moved to another provider
 * or field. Sealed form: {@code v1:<base64 nonce + ciphertext + tag>}. Thread-safe.
 */
final class SecretBox {
  private static final String PREFIX = "v1:";
  private static final SecureRandom RANDOM = new SecureRandom();

  private final SecretKeySpec key;

  private SecretBox(SecretKeySpec key) {
    this.key = key;
  }

  /**
   * The box of {@code base64Key}; null when it is empty (no secrets can then be stored). Throws
   * IllegalArgumentException when it is not 32 bytes of base64 (never echoing it).
   */
  static SecretBox of(String base64Key) {
    if (base64Key == null || base64Key.isBlank()) {
      return null;
    }
    byte[] raw;
    try {
      raw = Base64.getDecoder().decode(base64Key.trim());
    } catch (IllegalArgumentException e) {
      raw = null;
    }
    if (raw == null || raw.length != 32) {
      throw new IllegalArgumentException("PEKKO_LLM_SECRETS_KEY (pekko-llm.admin.secrets-key) must be 32 random bytes "
          + "in base64, e.g. from 'openssl rand -base64 32'");
    }
    return new SecretBox(new SecretKeySpec(raw, "AES"));
  }

  String seal(String provider, String field, String value) {
    try {
      byte[] nonce = new byte[12];
      RANDOM.nextBytes(nonce);
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, nonce));
      c.updateAAD(aad(provider, field));
      byte[] ct = c.doFinal(value.getBytes(StandardCharsets.UTF_8));
      byte[] out = new byte[nonce.length + ct.length];
      System.arraycopy(nonce, 0, out, 0, nonce.length);
      System.arraycopy(ct, 0, out, nonce.length, ct.length);
      return PREFIX + Base64.getEncoder().encodeToString(out);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("AES-GCM is not available", e);
    }
  }

  /** The value {@link #seal} sealed; fails with INTERNAL when it was sealed with another key or changed. */
  String open(String provider, String field, String sealed) {
    try {
      if (!sealed.startsWith(PREFIX)) {
        throw new GeneralSecurityException("unknown format");
      }
      byte[] all = Base64.getDecoder().decode(sealed.substring(PREFIX.length()));
      Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
      c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, all, 0, 12));
      c.updateAAD(aad(provider, field));
      return new String(c.doFinal(all, 12, all.length - 12), StandardCharsets.UTF_8);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new LlmException(ErrorKind.INTERNAL, "cannot decrypt the stored " + field + " of provider '" + provider
          + "': PEKKO_LLM_SECRETS_KEY is not the key it was stored with");
    }
  }

  private static byte[] aad(String provider, String field) {
    return ("pekko-llm provider secret\0" + provider + "\0" + field).getBytes(StandardCharsets.UTF_8);
  }
}
