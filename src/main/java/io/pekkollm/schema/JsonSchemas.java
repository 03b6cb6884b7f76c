package io.pekkollm.schema;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.github.victools.jsonschema.generator.Option;
import com.github.victools.jsonschema.generator.OptionPreset;
import com.github.victools.jsonschema.generator.SchemaGenerator;
import com.github.victools.jsonschema.generator.SchemaGeneratorConfigBuilder;
import com.github.victools.jsonschema.generator.SchemaVersion;
import com.github.victools.jsonschema.module.jackson.JacksonModule;
import com.github.victools.jsonschema.module.jackson.JacksonOption;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.pekkollm.util.Json;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * JSON Schemas for Java types, generated with victools' jsonschema-generator (draft 2020-12, plain JSON: no
 * {@code $schema} keyword), and validated with networknt's json-schema-validator.
 *
 * <p>Generated schemas describe records, classes with fields, enums (as string enums), lists, arrays, maps,
 * {@link Optional} and nested types. Every property is required except those of type {@link Optional}; objects
 * admit no additional properties. Descriptions come from Jackson's {@code @JsonPropertyDescription} (on a record
 * component or field) and {@code @JsonClassDescription}; {@code @JsonProperty} renames. A type used more than
 * once is written once under {@code $defs} and referenced.
 *
 * <p>Thread-safe: the generator and registry are shared and immutable once built.
 */
public final class JsonSchemas {
  /** The mapper that turns validated JSON into Java values: the shared one plus {@link Optional} support. */
  public static final ObjectMapper MAPPER = Json.MAPPER.copy().registerModule(new Jdk8Module());

  private static final SchemaGenerator GENERATOR = new SchemaGenerator(configure());
  private static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
  private static final Schema META_SCHEMA = REGISTRY.getSchema(
      SchemaLocation.of(SpecificationVersion.DRAFT_2020_12.getDialectId()));

  private JsonSchemas() {}

  private static com.github.victools.jsonschema.generator.SchemaGeneratorConfig configure() {
    SchemaGeneratorConfigBuilder b = new SchemaGeneratorConfigBuilder(SchemaVersion.DRAFT_2020_12,
        OptionPreset.PLAIN_JSON)
        .with(new JacksonModule(JacksonOption.RESPECT_JSONPROPERTY_REQUIRED))
        .with(Option.FORBIDDEN_ADDITIONAL_PROPERTIES_BY_DEFAULT, Option.FLATTENED_OPTIONALS)
        .without(Option.SCHEMA_VERSION_INDICATOR);
    b.forFields().withRequiredCheck(f -> !f.getType().isInstanceOf(Optional.class));
    return b.build();
  }

  /** The schema of {@code type} (a class or a generic type such as {@code List<Item>}). */
  public static ObjectNode of(Type type) {
    return GENERATOR.generateSchema(type);
  }

  /**
   * Checks {@code schema} against the draft 2020-12 meta-schema and compiles it.
   *
   * @throws IllegalArgumentException naming every problem when it is not a valid schema
   */
  public static Validator validator(JsonNode schema) {
    List<String> problems = messages(META_SCHEMA.validate(schema));
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("not a valid JSON Schema: " + String.join("; ", problems));
    }
    try {
      return new Validator(REGISTRY.getSchema(schema));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("not a valid JSON Schema: " + e.getMessage(), e);
    }
  }

  /**
   * Whether {@code schema} meets OpenAI's strict structured-output rules: every object lists all its properties
   * as required and forbids additional ones. Only then is a schema sent with {@code strict: true}.
   */
  public static boolean strictCompatible(JsonNode schema) {
    if (schema.isArray()) {
      for (JsonNode n : schema) {
        if (!strictCompatible(n)) {
          return false;
        }
      }
      return true;
    }
    if (!schema.isObject()) {
      return true;
    }
    JsonNode props = schema.get("properties");
    if (props != null && props.isObject()) {
      if (!schema.path("additionalProperties").isBoolean() || schema.get("additionalProperties").asBoolean()) {
        return false;
      }
      List<String> required = new ArrayList<>();
      schema.path("required").forEach(r -> required.add(r.asText()));
      for (Iterator<String> it = props.fieldNames(); it.hasNext(); ) {
        if (!required.contains(it.next())) {
          return false;
        }
      }
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = schema.fields(); it.hasNext(); ) {
      JsonNode v = it.next().getValue();
      if (v.isContainerNode() && !strictCompatible(v)) {
        return false;
      }
    }
    return true;
  }

  private static List<String> messages(List<com.networknt.schema.Error> errors) {
    List<String> out = new ArrayList<>(errors.size());
    for (com.networknt.schema.Error e : errors) {
      out.add(e.toString());
    }
    return out;
  }

  /** A compiled schema. Thread-safe. */
  public static final class Validator {
    private final Schema schema;

    private Validator(Schema schema) {
      this.schema = schema;
    }

    /** What is wrong with {@code value}, one message per problem (with its JSON path); empty when it is valid. */
    public List<String> errors(JsonNode value) {
      return messages(schema.validate(value));
    }
  }
}
