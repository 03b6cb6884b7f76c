package io.pekkollm.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/**
 * The shape the answer must take: free text, any JSON object (JSON mode), or JSON matching a schema.
 * Immutable.
 */
public final class ResponseFormat {
  public enum Type { TEXT, JSON_OBJECT, JSON_SCHEMA }

  public static final ResponseFormat TEXT = new ResponseFormat(Type.TEXT, null, null, null);
  public static final ResponseFormat JSON_OBJECT = new ResponseFormat(Type.JSON_OBJECT, null, null, null);

  private final Type type;
  private final String schemaName;
  private final JsonNode schema;
  private final Boolean strict;

  private ResponseFormat(Type type, String schemaName, JsonNode schema, Boolean strict) {
    this.type = type;
    this.schemaName = schemaName;
    this.schema = schema;
    this.strict = strict;
  }

  public static ResponseFormat jsonSchema(String name, JsonNode schema, Boolean strict) {
    return new ResponseFormat(Type.JSON_SCHEMA, Objects.requireNonNull(name, "name"),
        Objects.requireNonNull(schema, "schema"), strict);
  }

  public Type type() {
    return type;
  }

  public String schemaName() {
    return schemaName;
  }

  public JsonNode schema() {
    return schema;
  }

  public Boolean strict() {
    return strict;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ResponseFormat r && r.type == type && Objects.equals(r.schemaName, schemaName)
        && Objects.equals(r.schema, schema) && Objects.equals(r.strict, strict);
  }

  @Override
  public int hashCode() {
    return Objects.hash(type, schemaName, schema, strict);
  }
}
