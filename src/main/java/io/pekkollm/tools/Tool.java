package io.pekkollm.tools;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a method as a tool the model may call; {@link ToolFunction#fromMethods(Object)} turns every such method
 * of an object into a {@link ToolFunction}. The parameters become the properties of the arguments object, named
 * as in the source (compile with {@code -parameters}), described by {@link ToolParam}.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface Tool {
  /** What the tool does, for the model. */
  String value();

  /** The tool's name; default the method's. Must match {@code ^[a-zA-Z0-9_-]{1,64}$}. */
  String name() default "";
}
