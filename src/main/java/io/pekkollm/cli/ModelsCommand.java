package io.pekkollm.cli;

import io.pekkollm.api.LlmClient;
import io.pekkollm.catalog.Capability;
import io.pekkollm.catalog.ModelEntry;
import io.pekkollm.model.ModelInfo;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * {@code models [--provider P]... [--capability C]... [--max-price USD] [--table | --plain]}. Without a filter or the
 * table it prints the enabled providers' API listings, one id a line, as it always did. With either, the catalog's
 * models of the enabled providers join the listing (the catalog knows capabilities and prices; an API listing does
 * not), and the rows are filtered: {@code --provider} (repeatable: any of them), {@code --capability} (repeatable:
 * all of them; a catalog capability such as {@code vision}, {@code tools}, {@code reasoning}, or {@code embeddings}
 * for embedding models), {@code --max-price} (USD per million input tokens, at most). A model the catalog does not
 * know has no capabilities or price, so a capability or price filter leaves it out. The table is the default when
 * standard output is a terminal; {@code --plain} keeps one id a line there.
 */
final class ModelsCommand {
  /** What a model's mode must be for the pseudo-capability {@code embeddings}. */
  static final String EMBEDDINGS = "embeddings";

  record Options(List<String> providers, List<String> capabilities, BigDecimal maxPrice, Boolean table) {
    boolean filtered() {
      return !providers.isEmpty() || !capabilities.isEmpty() || maxPrice != null;
    }
  }

  /** One row: the id, and the catalog's entry when it has one. */
  record Row(String id, ModelEntry entry) {}

  private ModelsCommand() {}

  /** Parses the options after {@code models}; a bad one throws IllegalArgumentException with what is wrong. */
  static Options parse(List<String> args) {
    List<String> providers = new ArrayList<>();
    List<String> capabilities = new ArrayList<>();
    BigDecimal maxPrice = null;
    Boolean table = null;
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      switch (a) {
        case "--provider", "-p" -> providers.add(value(args, ++i, a));
        case "--capability", "-c" -> {
          String c = value(args, ++i, a).toLowerCase(Locale.ROOT);
          if (!c.equals(EMBEDDINGS) && Capability.fromWireName(c).isEmpty()) {
            throw new IllegalArgumentException("unknown capability '" + c + "' for --capability; known: "
                + String.join(", ", capabilityNames()));
          }
          capabilities.add(c);
        }
        case "--max-price" -> {
          String v = value(args, ++i, a);
          try {
            maxPrice = new BigDecimal(v);
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--max-price needs a number (USD per million input tokens), not '" + v
                + "'");
          }
          if (maxPrice.signum() < 0) {
            throw new IllegalArgumentException("--max-price must not be negative: " + v);
          }
        }
        case "--table" -> table = Boolean.TRUE;
        case "--plain" -> table = Boolean.FALSE;
        default -> throw new IllegalArgumentException("unknown option '" + a + "' for models (--provider, "
            + "--capability, --max-price, --table, --plain)");
      }
    }
    return new Options(List.copyOf(providers), List.copyOf(capabilities), maxPrice, table);
  }

  static List<String> capabilityNames() {
    List<String> names = new ArrayList<>();
    Arrays.stream(Capability.values()).map(Capability::wireName).forEach(names::add);
    names.add(EMBEDDINGS);
    names.sort(null);
    return names;
  }

  /** Runs {@code models} with {@code options}; {@code terminal}: standard output is a terminal. */
  static int run(Options options, Supplier<LlmClient> clients, PrintStream out, boolean terminal) {
    boolean table = options.table() != null ? options.table() : terminal;
    try (LlmClient client = clients.get()) {
      for (String p : options.providers()) {
        if (!client.enabledProviderNames().contains(p)) {
          throw new IllegalArgumentException("--provider '" + p + "' is not an enabled provider; enabled: "
              + String.join(", ", client.enabledProviderNames()));
        }
      }
      List<ModelInfo> listed = client.listModels().toCompletableFuture().join();
      if (!options.filtered() && !table) {
        listed.forEach(m -> out.println(m.id()));
        return 0;
      }
      List<Row> rows = filter(rows(client, listed), options);
      if (table) {
        printTable(rows, out);
      } else {
        rows.forEach(r -> out.println(r.id()));
      }
      return 0;
    }
  }

  /** The listed models and the catalog's models of the enabled providers, by id. */
  static List<Row> rows(LlmClient client, List<ModelInfo> listed) {
    TreeMap<String, Row> byId = new TreeMap<>();
    for (String provider : client.enabledProviderNames()) {
      for (ModelEntry e : client.catalog().models(provider)) {
        byId.put(e.id(), new Row(e.id(), e));
      }
    }
    for (ModelInfo m : listed) {
      byId.computeIfAbsent(m.id(), id -> new Row(id, client.catalog().find(id).orElse(null)));
    }
    return new ArrayList<>(byId.values());
  }

  static List<Row> filter(List<Row> rows, Options o) {
    List<Row> out = new ArrayList<>();
    for (Row r : rows) {
      if (!o.providers().isEmpty() && o.providers().stream().noneMatch(p -> r.id().startsWith(p + "/"))) {
        continue;
      }
      ModelEntry e = r.entry();
      if (!o.capabilities().isEmpty() && (e == null || !o.capabilities().stream().allMatch(c -> has(e, c)))) {
        continue;
      }
      if (o.maxPrice() != null && (e == null || e.pricing().input() == null
          || e.pricing().input().compareTo(o.maxPrice()) > 0)) {
        continue;
      }
      out.add(r);
    }
    return out;
  }

  private static boolean has(ModelEntry e, String capability) {
    return capability.equals(EMBEDDINGS) ? e.mode().map(m -> m.equals("embedding")).orElse(false)
        : e.hasCapability(capability);
  }

  /** Columns: model, context window, input and output price (USD per million tokens), capabilities. */
  static void printTable(List<Row> rows, PrintStream out) {
    List<String[]> cells = new ArrayList<>();
    cells.add(new String[] {"MODEL", "CONTEXT", "IN $/1M", "OUT $/1M", "CAPABILITIES"});
    for (Row r : rows) {
      ModelEntry e = r.entry();
      cells.add(new String[] {r.id(),
          e == null || e.contextWindow().isEmpty() ? "-" : Integer.toString(e.contextWindow().getAsInt()),
          price(e == null ? null : e.pricing().input()), price(e == null ? null : e.pricing().output()),
          e == null ? "-" : capabilities(e)});
    }
    int[] width = new int[5];
    for (String[] row : cells) {
      for (int i = 0; i < row.length; i++) {
        width[i] = Math.max(width[i], row[i].length());
      }
    }
    for (String[] row : cells) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.length; i++) {
        boolean number = i >= 1 && i <= 3;
        String cell = row[i];
        String pad = " ".repeat(width[i] - cell.length());
        line.append(number ? pad + cell : i == row.length - 1 ? cell : cell + pad);
        if (i < row.length - 1) {
          line.append("  ");
        }
      }
      out.println(line.toString().stripTrailing());
    }
    out.println(rows.size() + (rows.size() == 1 ? " model" : " models"));
  }

  private static String capabilities(ModelEntry e) {
    List<String> names = new ArrayList<>(e.capabilityNames());
    if (e.mode().map(m -> m.equals("embedding")).orElse(false)) {
      names.add(EMBEDDINGS);
    }
    return names.isEmpty() ? "-" : String.join(",", names);
  }

  private static String price(BigDecimal usd) {
    return Optional.ofNullable(usd).map(p -> p.stripTrailingZeros().toPlainString()).orElse("-");
  }

  private static String value(List<String> args, int i, String option) {
    if (i >= args.size()) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args.get(i);
  }
}
