package io.pekkollm.tools;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Describes a parameter of a {@link Tool} method for the model. A parameter of type {@link java.util.Optional}
 * is optional; every other one is required. (Record components of an argument type are described with Jackson's
 * {@code @JsonPropertyDescription}.)
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.PARAMETER)
public @interface ToolParam {
  /** What the parameter means. */
  String value();
}
