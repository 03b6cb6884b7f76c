package io.pekkollm.catalog;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Reads one {@code <provider>.yml} of the catalog schema ({@code config/models/README.md}) with Jackson's
 * streaming YAML parser, so that every problem is reported at its line and column: the tree model would lose
 * locations. Strict: unknown fields, wrong types, nulls and duplicate keys are errors, because a typo in a
 * hand-edited file must not silently mean "unknown". Unknown capability names are the one exception (kept).
 * Stateless and thread-safe.
 */
final class CatalogReader {
  private static final YAMLFactory YAML = YAMLFactory.builder()
      .loaderOptions(largeFiles())
      .build();

  /** One file's content: its header and its models in file order. */
  record ProviderFile(String provider, String source, String sourceDate, String file, List<ModelEntry> models) {}

  private CatalogReader() {}

  private static LoaderOptions largeFiles() {
    LoaderOptions o = new LoaderOptions();
    // SnakeYAML's default limit (3 MB) is near the size of a big generated file; allow growth.
    o.setCodePointLimit(64 * 1024 * 1024);
    return o;
  }

  /**
   * Reads {@code in}, named {@code file} in errors. The file's {@code provider} header, when present, must be
   * {@code provider} (the file name without extension).
   */
  static ProviderFile read(InputStream in, String file, String provider) {
    try (JsonParser p = YAML.createParser(in)) {
      return new CatalogReader.Session(p, file, provider).readFile();
    } catch (StreamReadException e) {
      JsonLocation loc = e.getLocation();
      throw new CatalogLoadException(file, loc == null ? 0 : loc.getLineNr(), loc == null ? 0 : loc.getColumnNr(),
          "malformed YAML: " + yamlProblem(e), e);
    } catch (IOException e) {
      throw new CatalogLoadException(file, 0, 0, "cannot read the file: " + e.getMessage(), e);
    }
  }

  /** SnakeYAML's problem and its context ("expected ',' or ']' (while parsing a flow sequence ...)"). */
  private static String yamlProblem(StreamReadException e) {
    if (e.getCause() instanceof MarkedYAMLException m && m.getProblem() != null) {
      String context = m.getContext() == null ? "" : " (" + m.getContext()
          + (m.getContextMark() == null ? "" : " that starts at line " + (m.getContextMark().getLine() + 1)) + ")";
      return m.getProblem().trim() + context;
    }
    return firstLine(e.getOriginalMessage());
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "unreadable";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl).trim();
  }

  /** The state of reading one file. */
  private static final class Session {
    private final JsonParser p;
    private final String file;
    private final String provider;

    Session(JsonParser p, String file, String provider) {
      this.p = p;
      this.file = file;
      this.provider = provider;
    }

    ProviderFile readFile() throws IOException {
      JsonToken t = p.nextToken();
      if (t == null) {
        throw new CatalogLoadException(file, 0, 0, "the file is empty: expected 'provider' and 'models'", null);
      }
      if (t != JsonToken.START_OBJECT) {
        throw fail("the top level must be a mapping with source, source_date, provider and models, not "
            + describe(t));
      }
      String source = null;
      String sourceDate = null;
      List<ModelEntry> models = null;
      Set<String> seen = new HashSet<>();
      while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
        String key = fieldName(seen, "");
        p.nextToken();
        switch (key) {
          case "source" -> source = string(key);
          case "source_date" -> sourceDate = string(key);
          case "provider" -> {
            String declared = string(key);
            if (!declared.equals(provider)) {
              throw fail("provider is '" + declared + "' but the file name says '" + provider
                  + "': a file holds the models of the provider it is named after");
            }
          }
          case "models" -> models = readModels();
          default -> throw failAt(fieldLocation, "unknown top-level key '" + key
              + "'; allowed: source, source_date, provider, models");
        }
      }
      if (models == null) {
        throw new CatalogLoadException(file, 0, 0, "'models' is missing (write models: {} for a provider without"
            + " known models)", null);
      }
      if (p.nextToken() != null) {
        throw fail("only one YAML document is allowed per file");
      }
      return new ProviderFile(provider, source, sourceDate, file, models);
    }

    private List<ModelEntry> readModels() throws IOException {
      if (p.currentToken() != JsonToken.START_OBJECT) {
        throw fail("models must be a mapping of model ids (models: {} for none), not " + describe(p.currentToken()));
      }
      List<ModelEntry> out = new ArrayList<>();
      Set<String> seen = new HashSet<>();
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String id = fieldName(seen, "models.");
        if (id.isBlank()) {
          throw failAt(fieldLocation, "a model id must not be empty");
        }
        p.nextToken();
        out.add(readModel(id));
      }
      return out;
    }

    private ModelEntry readModel(String id) throws IOException {
      String path = "models." + id;
      if (p.currentToken() != JsonToken.START_OBJECT) {
        throw fail(path + " must be a mapping of fields (write {} for a model with nothing known), not "
            + describe(p.currentToken()));
      }
      ModelEntry.Builder b = ModelEntry.builder(provider, id);
      Set<String> seen = new HashSet<>();
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String key = fieldName(seen, path + ".");
        p.nextToken();
        String field = path + "." + key;
        switch (key) {
          case "mode" -> b.mode(string(field));
          case "context_window" -> b.contextWindow(positiveInt(field));
          case "max_output_tokens" -> b.maxOutputTokens(positiveInt(field));
          case "pricing" -> b.pricing(readPricing(field));
          case "capabilities" -> strings(field).forEach(b::capability);
          case "deprecation_date" -> b.deprecationDate(date(field));
          case "aliases" -> b.aliases(strings(field));
          case "litellm_keys" -> b.litellmKeys(strings(field));
          default -> throw failAt(fieldLocation, "unknown field '" + key + "' in " + path + "; allowed: mode, "
              + "context_window, max_output_tokens, pricing, capabilities, deprecation_date, aliases, litellm_keys");
        }
      }
      return b.build();
    }

    private Pricing readPricing(String path) throws IOException {
      if (p.currentToken() != JsonToken.START_OBJECT) {
        throw fail(path + " must be a mapping of prices in USD per 1M tokens, not " + describe(p.currentToken()));
      }
      BigDecimal input = null;
      BigDecimal output = null;
      BigDecimal cacheRead = null;
      BigDecimal cacheWrite = null;
      BigDecimal reasoning = null;
      Set<String> seen = new HashSet<>();
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String key = fieldName(seen, path + ".");
        p.nextToken();
        String field = path + "." + key;
        switch (key) {
          case "input" -> input = price(field);
          case "output" -> output = price(field);
          case "cache_read" -> cacheRead = price(field);
          case "cache_write" -> cacheWrite = price(field);
          case "reasoning" -> reasoning = price(field);
          default -> throw failAt(fieldLocation, "unknown price '" + key + "' in " + path
              + "; allowed: input, output, cache_read, cache_write, reasoning");
        }
      }
      return new Pricing(input, output, cacheRead, cacheWrite, reasoning);
    }

    // ------------------------------------------------------------ scalars

    private JsonLocation fieldLocation;

    private String fieldName(Set<String> seen, String prefix) throws IOException {
      fieldLocation = p.currentTokenLocation();
      String name = p.currentName();
      if (!seen.add(name)) {
        throw failAt(fieldLocation, "duplicate key '" + prefix + name + "'");
      }
      return name;
    }

    private String string(String path) throws IOException {
      if (p.currentToken() != JsonToken.VALUE_STRING) {
        throw fail(path + " must be a string, not " + describe(p.currentToken()));
      }
      return p.getText();
    }

    private Integer positiveInt(String path) throws IOException {
      JsonToken t = p.currentToken();
      if (t != JsonToken.VALUE_NUMBER_INT) {
        throw fail(path + " must be a positive integer (tokens), not " + describe(t));
      }
      if (p.getNumberType() != JsonParser.NumberType.INT || p.getIntValue() < 1) {
        throw fail(path + " must be a positive integer of at most " + Integer.MAX_VALUE + ", not " + p.getText());
      }
      return p.getIntValue();
    }

    private BigDecimal price(String path) throws IOException {
      JsonToken t = p.currentToken();
      if (t != JsonToken.VALUE_NUMBER_INT && t != JsonToken.VALUE_NUMBER_FLOAT) {
        throw fail(path + " must be a number (USD per 1M tokens), not " + describe(t));
      }
      BigDecimal v;
      try {
        v = new BigDecimal(p.getText().trim());
      } catch (NumberFormatException e) {
        throw fail(path + " must be a finite decimal number, not " + p.getText());
      }
      if (v.signum() < 0) {
        throw fail(path + " must not be negative, not " + p.getText());
      }
      return v;
    }

    private LocalDate date(String path) throws IOException {
      String s = string(path);
      try {
        return LocalDate.parse(s);
      } catch (DateTimeParseException e) {
        throw fail(path + " must be a date \"YYYY-MM-DD\", not \"" + s + "\"");
      }
    }

    private List<String> strings(String path) throws IOException {
      if (p.currentToken() != JsonToken.START_ARRAY) {
        throw fail(path + " must be a list of strings, e.g. [a, b], not " + describe(p.currentToken()));
      }
      List<String> out = new ArrayList<>();
      JsonToken t;
      while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
        if (t != JsonToken.VALUE_STRING) {
          throw fail(path + " must hold only strings, not " + describe(t));
        }
        out.add(p.getText());
      }
      return out;
    }

    private String describe(JsonToken t) throws IOException {
      if (t == null) {
        return "the end of the file";
      }
      return switch (t) {
        case START_OBJECT -> "a mapping";
        case START_ARRAY -> "a list";
        case VALUE_NULL -> "null (an empty value)";
        case VALUE_TRUE, VALUE_FALSE -> "a boolean (" + p.getText() + "; quote it if it is meant as text)";
        case VALUE_STRING -> p.getText().isEmpty() ? "an empty value" : "the string \"" + p.getText() + "\"";
        case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "the number " + p.getText();
        default -> t.asString() == null ? t.name() : t.asString();
      };
    }

    private CatalogLoadException fail(String problem) {
      return failAt(p.currentTokenLocation(), problem);
    }

    private CatalogLoadException failAt(JsonLocation loc, String problem) {
      return new CatalogLoadException(file, loc == null ? 0 : loc.getLineNr(), loc == null ? 0 : loc.getColumnNr(),
          problem, null);
    }
  }
}
