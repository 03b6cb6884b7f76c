package io.pekkollm.keys;

import io.pekkollm.util.JsonSerializable;

/**
 * One admin action in the audit log: who ({@code actor}), what ({@code action}: {@code create}, {@code update},
 * {@code rotate}, {@code revoke}) on which key, when (epoch ms), and the key before and after (null before a
 * create). Never a secret or its hash. Immutable.
 */
public record AuditEntry(long seq, long at, String actor, String action, String keyId, VirtualKey before,
    VirtualKey after) implements JsonSerializable {}
