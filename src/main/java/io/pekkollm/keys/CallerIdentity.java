package io.pekkollm.keys;

import java.util.Objects;

/**
 * Who a call is made for, when a host service embeds the library and calls on behalf of its own users: the id
 * of the virtual key that holds the user's limits and budget (made with {@link KeyService#create}, for instance
 * one key per user or per tenant). No secret is involved: the host has already authenticated its user. Pass it
 * to {@code LlmClient.as(CallerIdentity)}; the key's model list, rate and parallel limits and budget then apply to
 * the call, its cost is charged to the key (and its team), and the journalled stream belongs to the key.
 * Immutable.
 *
 * @param keyId the virtual key's id (16 hex digits, as {@code VirtualKey.id()})
 */
public record CallerIdentity(String keyId) {
  public CallerIdentity {
    Objects.requireNonNull(keyId, "keyId");
  }

  /** The caller whose limits and budget are those of virtual key {@code keyId}. */
  public static CallerIdentity ofKey(String keyId) {
    return new CallerIdentity(keyId);
  }
}
