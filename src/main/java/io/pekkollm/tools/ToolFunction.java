package io.pekkollm.tools;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.model.ToolDefinition;
import io.pekkollm.schema.JsonSchemas;
import io.pekkollm.util.Json;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A tool the model may call and {@link ToolLoop} runs: a name, a description, the JSON Schema of its arguments
 * object and the code that runs it. Build one from a record type and a function ({@link #of}) or from the
 * {@link Tool}-annotated methods of an object ({@link #fromMethods}). The schema is generated from the Java
 * types ({@link JsonSchemas}) and checked against the JSON Schema meta-schema once, here; a tool that cannot be
 * described fails with {@link IllegalArgumentException} when it is built, never during a conversation.
 *
 * <p>Immutable and thread-safe (as long as the function it runs is: parallel tool calls run concurrently).
 */
public final class ToolFunction {
  private static final Pattern NAME = Pattern.compile("^[a-zA-Z0-9_-]{1,64}$");

  private final String name;
  private final String description;
  private final ObjectNode parameters;
  private final JsonSchemas.Validator validator;
  private final Invoker invoker;

  /** The code of a tool built with {@link #of}: gets the parsed arguments, returns the result. */
  @FunctionalInterface
  public interface Body<A> {
    /**
     * Runs the tool. The result is sent to the model as it is when it is a String, else as its JSON (Jackson);
     * a thrown exception becomes an error result the model sees.
     */
    Object apply(A arguments) throws Exception;
  }

  private interface Invoker {
    Object invoke(JsonNode arguments) throws Exception;
  }

  private ToolFunction(String name, String description, ObjectNode parameters, Invoker invoker) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("tool name '" + name + "' must match " + NAME.pattern());
    }
    this.name = name;
    this.description = Objects.requireNonNull(description, "description");
    this.parameters = parameters;
    this.validator = JsonSchemas.validator(parameters);
    this.invoker = invoker;
  }

  /**
   * A tool whose arguments object is a {@code argumentsType} (usually a record; its components are the
   * properties).
   */
  public static <A> ToolFunction of(String name, String description, Class<A> argumentsType, Body<A> body) {
    Objects.requireNonNull(body, "body");
    ObjectNode schema = JsonSchemas.of(argumentsType);
    if (!"object".equals(Json.text(schema, "type"))) {
      throw new IllegalArgumentException("the arguments of tool '" + name + "' must be an object type (a record "
          + "or a class with fields), not " + argumentsType.getName());
    }
    return new ToolFunction(name, description, schema,
        args -> body.apply(JsonSchemas.MAPPER.treeToValue(args, argumentsType)));
  }

  /**
   * The tools of every {@link Tool}-annotated method of {@code target} (public or not, including inherited
   * public ones), in name order. A method's parameters are the arguments object's properties, under their
   * source names: the class must be compiled with {@code -parameters}.
   *
   * @throws IllegalArgumentException when {@code target} has no such method, or parameter names are missing
   */
  public static List<ToolFunction> fromMethods(Object target) {
    List<Method> methods = new ArrayList<>();
    for (Class<?> c = target.getClass(); c != null && c != Object.class; c = c.getSuperclass()) {
      for (Method m : c.getDeclaredMethods()) {
        if (m.isAnnotationPresent(Tool.class) && !m.isBridge()) {
          methods.add(m);
        }
      }
    }
    if (methods.isEmpty()) {
      throw new IllegalArgumentException(target.getClass().getName() + " has no @Tool method");
    }
    List<ToolFunction> out = new ArrayList<>();
    for (Method m : methods) {
      out.add(fromMethod(target, m));
    }
    out.sort(Comparator.comparing(ToolFunction::name));
    return List.copyOf(out);
  }

  private static ToolFunction fromMethod(Object target, Method m) {
    Tool tool = m.getAnnotation(Tool.class);
    String name = tool.name().isEmpty() ? m.getName() : tool.name();
    if (!m.trySetAccessible()) {
      throw new IllegalArgumentException("tool '" + name + "': cannot access " + m);
    }
    Parameter[] params = m.getParameters();
    ObjectNode schema = Json.object().put("type", "object");
    ObjectNode props = schema.putObject("properties");
    ArrayNode required = schema.putArray("required");
    ObjectNode defs = Json.object();
    JavaType[] types = new JavaType[params.length];
    for (int i = 0; i < params.length; i++) {
      Parameter p = params[i];
      if (!p.isNamePresent()) {
        throw new IllegalArgumentException("tool '" + name + "': parameter names are missing; compile "
            + m.getDeclaringClass().getName() + " with -parameters (maven-compiler-plugin <parameters>true)");
      }
      Type type = p.getParameterizedType();
      types[i] = JsonSchemas.MAPPER.getTypeFactory().constructType(type);
      boolean optional = p.getType() == Optional.class;
      Type described = optional && type instanceof ParameterizedType pt ? pt.getActualTypeArguments()[0] : type;
      ObjectNode ps = JsonSchemas.of(described);
      // Each parameter's schema is generated on its own; its $defs move to the root, where its refs point.
      JsonNode own = ps.remove("$defs");
      if (own != null) {
        defs.setAll((ObjectNode) own);
      }
      ToolParam doc = p.getAnnotation(ToolParam.class);
      if (doc != null) {
        ps.put("description", doc.value());
      }
      props.set(p.getName(), ps);
      if (!optional) {
        required.add(p.getName());
      }
    }
    schema.put("additionalProperties", false);
    if (!defs.isEmpty()) {
      schema.set("$defs", defs);
    }
    String[] names = Arrays.stream(params).map(Parameter::getName).toArray(String[]::new);
    Object receiver = Modifier.isStatic(m.getModifiers()) ? null : target;
    return new ToolFunction(name, tool.value(), schema, args -> {
      Object[] values = new Object[names.length];
      for (int i = 0; i < names.length; i++) {
        JsonNode v = args.get(names[i]);
        values[i] = v == null || v.isNull()
            ? (types[i].getRawClass() == Optional.class ? Optional.empty() : null)
            : JsonSchemas.MAPPER.convertValue(v, types[i]);
      }
      try {
        return m.invoke(receiver, values);
      } catch (InvocationTargetException e) {
        Throwable cause = e.getCause();
        if (cause instanceof Exception ex) {
          throw ex;
        }
        throw e;
      }
    });
  }

  public String name() {
    return name;
  }

  public String description() {
    return description;
  }

  /** The JSON Schema of the arguments object (a copy). */
  public JsonNode parameters() {
    return parameters.deepCopy();
  }

  /** The definition sent to the model. */
  public ToolDefinition definition() {
    return ToolDefinition.of(name, description, parameters.deepCopy());
  }

  /** What is wrong with {@code arguments}; empty when they match the schema. */
  List<String> validate(JsonNode arguments) {
    return validator.errors(arguments);
  }

  /** Runs the tool on validated arguments. */
  Object invoke(JsonNode arguments) throws Exception {
    return invoker.invoke(arguments);
  }

  @Override
  public String toString() {
    return "ToolFunction{" + name + "}";
  }

  static Map<String, ToolFunction> byName(List<ToolFunction> tools) {
    Map<String, ToolFunction> out = new java.util.LinkedHashMap<>();
    for (ToolFunction t : tools) {
      if (out.put(t.name(), t) != null) {
        throw new IllegalArgumentException("two tools are named '" + t.name() + "'");
      }
    }
    return out;
  }
}
