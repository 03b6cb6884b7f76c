package io.pekkollm.keys;

import io.pekkollm.util.JsonSerializable;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * A key as the journal keeps it: its public part and the salted hash of its secret, never the secret.
 *
 * <p>Why SHA-256 with a per-key salt and not a slow password hash (bcrypt, scrypt): the secrets are 256 random
 * bits made by {@link SecureRandom}, not chosen by people, so guessing one from its hash costs 2^255 tries whatever
 * the hash's speed; a slow hash would only add milliseconds to every request's key check. The salt keeps equal
 * hashes from ever showing equal secrets and rules out precomputed tables.
 */
record StoredKey(VirtualKey key, String salt, String hash) implements JsonSerializable {
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

  /** A new secret for key {@code id}: {@code sk-<id>-<43 characters, 256 random bits>}. */
  static String newSecret(String id) {
    byte[] bytes = new byte[32];
    RANDOM.nextBytes(bytes);
    return "sk-" + id + "-" + B64.encodeToString(bytes);
  }

  /** A new key id: 16 lowercase hex digits (64 random bits). */
  static String newId() {
    byte[] bytes = new byte[8];
    RANDOM.nextBytes(bytes);
    StringBuilder sb = new StringBuilder();
    for (byte b : bytes) {
      sb.append(Character.forDigit((b >> 4) & 15, 16)).append(Character.forDigit(b & 15, 16));
    }
    return sb.toString();
  }

  /** The key id inside {@code secret} ({@code sk-<id>-...}), or null when it is not shaped like one of ours. */
  static String idOf(String secret) {
    if (secret.length() != 3 + 16 + 1 + 43 || !secret.startsWith("sk-") || secret.charAt(19) != '-') {
      return null;
    }
    return secret.substring(3, 19);
  }

  /** What listings show of {@code secret}: its id and the first four random characters. */
  static String prefixOf(String secret) {
    return secret.substring(0, 24);
  }

  /** {@code key} with the salted hash of {@code secret} (a fresh salt). */
  static StoredKey of(VirtualKey key, String secret) {
    byte[] salt = new byte[16];
    RANDOM.nextBytes(salt);
    String s = B64.encodeToString(salt);
    return new StoredKey(key.withPrefix(prefixOf(secret)), s, hash(s, secret));
  }

  /** Whether {@code secret} is this key's, compared in constant time. */
  boolean matches(String secret) {
    return MessageDigest.isEqual(hash(salt, secret).getBytes(StandardCharsets.US_ASCII),
        hash.getBytes(StandardCharsets.US_ASCII));
  }

  StoredKey withKey(VirtualKey value) {
    return new StoredKey(value, salt, hash);
  }

  private static String hash(String salt, String secret) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(salt.getBytes(StandardCharsets.US_ASCII));
      return B64.encodeToString(sha.digest(secret.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
