package io.pekkollm.admin;

import io.pekkollm.util.JsonSerializable;
import java.util.List;
import java.util.Map;

/**
 * A runtime provider as the journal keeps it: its name ({@code id}, the {@code id/} prefix of its model ids), its
 * template, the non-secret field values, the secret ones sealed by {@link SecretBox}, the models picked in the setup,
 * a version counting its changes, and when it was created and last changed (epoch ms). A persisted schema: evolve
 * with Jackson migrations, never renames.
 */
record StoredProvider(String id, String template, Map<String, String> config, Map<String, String> secrets,
    List<String> models, int version, long createdAt, long updatedAt) implements JsonSerializable {

  StoredProvider {
    config = Map.copyOf(config);
    secrets = Map.copyOf(secrets);
    models = List.copyOf(models);
  }
}
