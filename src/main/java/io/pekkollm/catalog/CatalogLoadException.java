package io.pekkollm.catalog;

/**
 * A model catalog file that cannot be used: malformed YAML, a value of the wrong type, an unknown field. The
 * message names the file, the line and column, and what is wrong, e.g.
 * {@code config/models/openai.yml:12:21: models.gpt-4o.context_window must be a positive integer, not "abc"}.
 *
 * <p>It is an {@link IllegalArgumentException} because a bad catalog is bad configuration: start-up fails with
 * it (the CLI exits with status 2, as for other configuration errors).
 */
public final class CatalogLoadException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final String file;
  private final int line;
  private final int column;
  private final String problem;

  public CatalogLoadException(String file, int line, int column, String problem, Throwable cause) {
    super(file + (line > 0 ? ":" + line + (column > 0 ? ":" + column : "") : "") + ": " + problem, cause);
    this.file = file;
    this.line = line;
    this.column = column;
    this.problem = problem;
  }

  /** The file at fault, as a path or {@code classpath:} name. */
  public String file() {
    return file;
  }

  /** 1-based line of the problem, or 0 when it concerns the whole file. */
  public int line() {
    return line;
  }

  /** 1-based column of the problem, or 0 when unknown. */
  public int column() {
    return column;
  }

  /** What is wrong, without the location. */
  public String problem() {
    return problem;
  }
}
