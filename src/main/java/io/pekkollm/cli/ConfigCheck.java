package io.pekkollm.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import io.pekkollm.api.LlmSettings;
import io.pekkollm.cache.CacheSettings;
import io.pekkollm.callback.CallbackSettings;
import io.pekkollm.catalog.CatalogSettings;
import io.pekkollm.catalog.ModelCatalog;
import io.pekkollm.catalog.ModelEntry;
import io.pekkollm.discovery.DiscoverySettings;
import io.pekkollm.http.GatewaySettings;
import io.pekkollm.journal.JournalSettings;
import io.pekkollm.metrics.MetricsSettings;
import io.pekkollm.provider.ProviderSettings;
import io.pekkollm.resilience.ModelGroup;
import io.pekkollm.resilience.RoutingSettings;
import io.pekkollm.session.SessionSettings;
import io.pekkollm.util.LoggingSettings;
import io.pekkollm.util.Redactor;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Enumeration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@code check-config} (and {@code serve}, before it starts) finds in a loaded configuration: errors (keys under
 * {@code pekko-llm} that reference.conf does not know, with the nearest known key; values that do not parse, such
 * as bad durations; model groups naming unconfigured providers; with {@code connect}, a journal that does not
 * answer), warnings (groups naming disabled providers or models the catalog does not know, unknown
 * {@code PEKKO_LLM_*} variables), and the plan: which providers run and why, where the journal is.
 */
final class ConfigCheck {
  /** Maps whose keys are names the user chooses: what is inside them is not checked against reference.conf. */
  /**
   * Keys read as JVM system properties only, before the configuration is loaded (so not in reference.conf):
   * {@code -Dpekko-llm.no-preload=true} turns off the start-up class preloading.
   */
  private static final Set<String> SYSTEM_PROPERTY_ONLY = Set.of("pekko-llm.no-preload");

  private static final Set<String> FREE_FORM = Set.of("pekko-llm.routing.groups", "pekko-llm.callbacks.webhook.headers",
      "pekko-llm.provider-defaults.headers");
  /** Variables read outside reference.conf (logback, tests, features configured elsewhere). */
  private static final Set<String> KNOWN_VARIABLES = Set.of("PEKKO_LLM_LOG_LEVEL", "PEKKO_LLM_PEKKO_LOG_LEVEL",
      "PEKKO_LLM_TEST_PG_URL", "PEKKO_LLM_TEST_PG_USER", "PEKKO_LLM_TEST_PG_PASSWORD", "PEKKO_LLM_FIXTURES", "PEKKO_LLM_CLUSTER_SEED_NODES",
      "PEKKO_LLM_CLUSTER_HOST", "PEKKO_LLM_CLUSTER_PORT", "PEKKO_LLM_MASTER_KEY", "PEKKO_LLM_SECRETS_KEY");

  /** The findings: errors fail the check (exit 2), an unreachable journal fails it as a runtime failure (exit 1). */
  record Report(List<String> errors, List<String> warnings, List<String> plan, String unreachable) {
    int exitCode() {
      return !errors.isEmpty() ? 2 : unreachable != null ? 1 : 0;
    }
  }

  private final Config config;
  private final Map<String, String> env;
  private final List<String> errors = new ArrayList<>();
  private final List<String> warnings = new ArrayList<>();
  private final List<String> plan = new ArrayList<>();

  private ConfigCheck(Config config, Map<String, String> env) {
    this.config = config;
    this.env = env;
  }

  /** Checks {@code config} (as {@code serve} loads it; reference.conf included) and the environment {@code env}. */
  static Report run(Config config, Map<String, String> env, boolean connect) {
    return run(config, env, connect, true);
  }

  /**
   * Like {@link #run(Config, Map, boolean)}; without {@code withCatalog} group members are not looked up in the
   * model catalog (only warnings come of it), so {@code serve} does not wait for the catalog before it starts the
   * actor system (the catalog loads in the background meanwhile).
   */
  static Report run(Config config, Map<String, String> env, boolean connect, boolean withCatalog) {
    ConfigCheck c = new ConfigCheck(config, env);
    c.unknownKeys();
    c.unknownVariables();
    LlmSettings llm = c.settings("providers", () -> LlmSettings.create(config));
    RoutingSettings routing = c.settings("routing", () -> RoutingSettings.create(config));
    CatalogSettings catalogSettings = c.settings("catalog", () -> CatalogSettings.create(config));
    JournalSettings journal = c.settings("recovery", () -> JournalSettings.create(config));
    GatewaySettings gateway = c.settings("gateway", () -> GatewaySettings.create(config));
    CallbackSettings callbacks = c.settings("callbacks", () -> CallbackSettings.create(config));
    LoggingSettings logging = c.settings("logging", () -> LoggingSettings.create(config.getConfig("pekko-llm.logging")));
    c.settings("cache", () -> CacheSettings.create(config));
    c.settings("model-discovery", () -> DiscoverySettings.create(config));
    c.settings("sessions", () -> SessionSettings.create(config));
    c.settings("metrics", () -> MetricsSettings.create(config));
    c.settings("keys", () -> io.pekkollm.keys.KeySettings.of(config.getConfig("pekko-llm.keys")));
    io.pekkollm.journal.ClusterSettings cluster = c.settings("cluster",
        () -> io.pekkollm.journal.ClusterSettings.create(config));
    ModelCatalog catalog = catalogSettings == null || !withCatalog ? null
        : c.settings("catalog", () -> ModelCatalog.load(catalogSettings));
    if (llm != null) {
      c.providers(llm);
      if (routing != null) {
        c.groups(llm, routing, catalog);
      }
    }
    String unreachable = null;
    if (journal != null) {
      c.journal(journal);
      if (connect && journal.enabled()) {
        unreachable = connect(journal);
        c.plan.add("  " + (unreachable == null ? "reachable" : "NOT reachable: " + unreachable));
      }
    }
    if (cluster != null) {
      c.plan.add("cluster: " + (cluster.enabled() ? "seed nodes " + String.join(", ", cluster.seedNodes()) + ", this node "
          + cluster.host() + ":" + cluster.port() : "off (one node)"));
    }
    if (gateway != null) {
      c.plan.add("gateway: http://" + gateway.host() + ":" + gateway.port() + " (API key "
          + (gateway.apiKey().isEmpty() ? "not set: loopback only" : "set") + ")");
    }
    if (callbacks != null) {
      c.plan.add("callbacks: " + (callbacks.file() == null && callbacks.webhook() == null ? "none configured"
          : (callbacks.file() == null ? "" : "file " + callbacks.file() + " ")
              + (callbacks.webhook() == null ? "" : "webhook " + callbacks.webhook().url().getHost())).trim());
    }
    io.pekkollm.tracing.TracingSettings tracing = c.settings("tracing",
        () -> io.pekkollm.tracing.TracingSettings.create(config, env));
    if (tracing != null) {
      String endpoint = env.getOrDefault("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
          env.getOrDefault("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4318 (the OTLP default)"));
      c.plan.add("tracing: " + (tracing.enabled() ? "on, OTLP to " + endpoint
          : "off (set OTEL_EXPORTER_OTLP_ENDPOINT or pekko-llm.tracing.enabled = on)"));
    }
    if (logging != null) {
      c.plan.add("body logging: " + logging.bodies().name().toLowerCase(java.util.Locale.ROOT)
          + (logging.maskPii() ? " (PII masked)" : ""));
    }
    return new Report(List.copyOf(c.errors), List.copyOf(c.warnings), List.copyOf(c.plan), unreachable);
  }

  /** {@code create}'s settings, or null with its error recorded. */
  private <T> T settings(String section, Supplier<T> create) {
    try {
      return create.get();
    } catch (RuntimeException e) {
      errors.add("pekko-llm." + section + ": " + e.getMessage());
      return null;
    }
  }

  private void unknownKeys() {
    // Unresolved: a key whose value is an unset ${?VARIABLE} is still a key the user may set.
    ConfigObject reference = ConfigFactory.parseResourcesAnySyntax(ConfigCheck.class.getClassLoader(), "reference")
        .root();
    ConfigObject refRoot = child(reference, "pekko-llm");
    if (!config.hasPath("pekko-llm") || refRoot == null) {
      return;
    }
    // A provider block may hold any key of provider-defaults or of any bundled provider, and a logging block.
    Set<String> providerKeys = new TreeSet<>(child(refRoot, "provider-defaults").keySet());
    for (ConfigValue p : child(refRoot, "providers").values()) {
      if (p instanceof ConfigObject o) {
        providerKeys.addAll(o.keySet());
      }
    }
    providerKeys.add("logging");
    walk(config.getObject("pekko-llm"), "pekko-llm", refRoot);
    ConfigObject providers = config.getObject("pekko-llm").get("providers") instanceof ConfigObject o ? o : null;
    if (providers != null) {
      for (Map.Entry<String, ConfigValue> p : providers.entrySet()) {
        if (!(p.getValue() instanceof ConfigObject block)) {
          continue;
        }
        String base = "pekko-llm.providers." + quote(p.getKey());
        for (Map.Entry<String, ConfigValue> e : block.entrySet()) {
          String key = e.getKey();
          if (!providerKeys.contains(key)) {
            errors.add("unknown key " + base + "." + quote(key) + suggestion(key, providerKeys) + origin(e.getValue()));
          } else if (e.getValue() instanceof ConfigObject nested && !key.equals("headers")) {
            // Nested blocks (retry, circuit-breaker, logging, ...) are checked against their reference block.
            ConfigObject ref = key.equals("logging") ? child(refRoot, "logging")
                : child(child(refRoot, "provider-defaults"), key);
            if (ref != null) {
              walkAgainst(nested, base + "." + key, ref);
            }
          }
        }
      }
    }
  }

  /** Checks every key of {@code object} (at {@code path}) against {@code ref}, except under free-form maps. */
  private void walk(ConfigObject object, String path, ConfigObject ref) {
    if (path.equals("pekko-llm.providers") || FREE_FORM.contains(path) || ref == null) {
      return;
    }
    for (Map.Entry<String, ConfigValue> e : object.entrySet()) {
      String child = path + "." + quote(e.getKey());
      if (SYSTEM_PROPERTY_ONLY.contains(child)) {
        continue;
      }
      if (!ref.containsKey(e.getKey())) {
        errors.add("unknown key " + child + suggestion(e.getKey(), ref.keySet()) + origin(e.getValue()));
      } else if (e.getValue() instanceof ConfigObject o) {
        walk(o, child, child(ref, e.getKey()));
      }
    }
  }

  /** The object at {@code key} of {@code parent}; null when there is none or it is not an object. */
  private static ConfigObject child(ConfigObject parent, String key) {
    return parent != null && parent.get(key) instanceof ConfigObject o ? o : null;
  }

  private void walkAgainst(ConfigObject object, String path, ConfigObject ref) {
    for (Map.Entry<String, ConfigValue> e : object.entrySet()) {
      ConfigValue known = ref.get(e.getKey());
      if (known == null) {
        errors.add("unknown key " + path + "." + quote(e.getKey()) + suggestion(e.getKey(), ref.keySet())
            + origin(e.getValue()));
      } else if (e.getValue() instanceof ConfigObject o && known instanceof ConfigObject k
          && !e.getKey().equals("headers")) {
        walkAgainst(o, path + "." + quote(e.getKey()), k);
      }
    }
  }

  private static String origin(ConfigValue v) {
    String d = v.origin() == null ? null : v.origin().description();
    return d == null || d.isEmpty() ? "" : " (" + d + ")";
  }

  private static String quote(String key) {
    return key.matches("[A-Za-z0-9_-]+") ? key : "\"" + key + "\"";
  }

  /** {@code "; did you mean 'x'?"} for the nearest of {@code known}, when one is near enough; else empty. */
  static String suggestion(String key, Collection<String> known) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String k : known) {
      int d = distance(key.toLowerCase(java.util.Locale.ROOT), k.toLowerCase(java.util.Locale.ROOT));
      if (d < bestDistance) {
        bestDistance = d;
        best = k;
      }
    }
    return best != null && bestDistance <= Math.max(2, key.length() / 3) ? "; did you mean '" + best + "'?" : "";
  }

  /** Levenshtein distance. */
  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  /** {@code PEKKO_LLM_*} variables that nothing reads: a typo there silently leaves a default in place. */
  private void unknownVariables() {
    Set<String> known = new TreeSet<>(KNOWN_VARIABLES);
    known.addAll(referencedVariables());
    for (String name : new TreeSet<>(env.keySet())) {
      if (name.startsWith("PEKKO_LLM_") && !known.contains(name)) {
        warnings.add("environment variable " + name + " is not read by pekko-llm" + suggestion(name, known));
      }
    }
  }

  /** The variables our reference.conf substitutes ({@code ${?PEKKO_LLM_...}}). */
  private static Set<String> referencedVariables() {
    Set<String> out = new TreeSet<>();
    Pattern var = Pattern.compile("\\$\\{\\?(PEKKO_LLM_[A-Z0-9_]+)}");
    try {
      Enumeration<URL> urls = ConfigCheck.class.getClassLoader().getResources("reference.conf");
      while (urls.hasMoreElements()) {
        try (InputStream in = urls.nextElement().openStream()) {
          String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
          Matcher m = var.matcher(text);
          while (m.find()) {
            out.add(m.group(1));
          }
        }
      }
    } catch (IOException e) {
      // the check goes on without the list: at worst more warnings
    }
    return out;
  }

  private void providers(LlmSettings llm) {
    plan.add("providers:");
    for (ProviderSettings p : llm.providers()) {
      String line = String.format("  %-12s %s", p.name(), p.enabled() ? "enabled   " + whyEnabled(p) + "  " + p.baseUrl()
          : "disabled  " + p.disabledReason());
      plan.add(line);
    }
  }

  private static String whyEnabled(ProviderSettings p) {
    Config c = p.config();
    if (c.getString("enabled").equals("on") || c.getString("enabled").equals("true")) {
      return "(enabled = on)";
    }
    if (!p.apiKey().isEmpty()) {
      String var = c.hasPath("api-key-env") ? c.getString("api-key-env") : p.name().toUpperCase() + "_API_KEY";
      return "(API key set, e.g. by " + var + ")";
    }
    if (c.hasPath("base-url") && !c.getString("base-url").isBlank()) {
      return "(base URL set)";
    }
    return "(needs no API key)";
  }

  private void groups(LlmSettings llm, RoutingSettings routing, ModelCatalog catalog) {
    List<String> names = llm.providers().stream().map(ProviderSettings::name).toList();
    if (!routing.groups().isEmpty()) {
      plan.add("model groups:");
    }
    for (ModelGroup g : routing.groups().values()) {
      plan.add("  " + g.name() + " (" + g.strategy() + "): " + String.join(", ", g.models()));
      for (String m : g.models()) {
        int slash = m.indexOf('/');
        String where = "pekko-llm.routing.groups." + g.name() + " lists '" + m + "'";
        if (slash <= 0) {
          errors.add(where + ": not a provider/model id");
          continue;
        }
        String provider = m.substring(0, slash);
        ProviderSettings ps = llm.providers().stream().filter(p -> p.name().equals(provider)).findFirst().orElse(null);
        if (ps == null) {
          errors.add(where + ": no provider '" + provider + "' is configured" + suggestion(provider, names));
        } else if (!ps.enabled()) {
          warnings.add(where + ", but " + ps.disabledReason());
        } else if (catalog != null && !catalog.models(provider).isEmpty() && catalog.find(m).isEmpty()) {
          List<String> ids = catalog.models(provider).stream().map(ModelEntry::id).toList();
          warnings.add(where + ": the model catalog does not know it (it is sent as it is)" + suggestion(m, ids));
        }
      }
    }
  }

  private void journal(JournalSettings j) {
    if (!j.enabled()) {
      plan.add("journal: disabled (pekko-llm.recovery.enabled = off): streams cannot be resumed");
    } else if (j.postgres()) {
      plan.add("journal: PostgreSQL " + Redactor.DEFAULT.redact(j.url()) + " (user " + j.user() + ")");
    } else {
      plan.add("journal: H2 file " + j.dataDir().resolve("journal.mv.db")
          + (Files.exists(j.dataDir().resolve("journal.mv.db")) ? "" : " (created on first start)"));
    }
  }

  /** Why the journal cannot be opened now; null when it can (an H2 file in use by a running gateway can). */
  private static String connect(JournalSettings j) {
    if (!j.postgres()) {
      if (!Files.exists(j.dataDir().resolve("journal.mv.db"))) {
        java.nio.file.Path dir = j.dataDir();
        while (dir != null && !Files.exists(dir)) {
          dir = dir.getParent();
        }
        return dir != null && Files.isDirectory(dir) && Files.isWritable(dir) ? null
            : "cannot create " + j.dataDir() + " (" + (dir == null ? "no parent" : dir + " is not a writable directory")
                + ")";
      }
    }
    DriverManager.setLoginTimeout(5);
    String url = j.postgres() ? j.url() : j.url() + ";IFEXISTS=TRUE";
    try (Connection c = DriverManager.getConnection(url, j.user(), j.password())) {
      return c.isValid(5) ? null : "the connection did not answer";
    } catch (SQLException e) {
      String msg = String.valueOf(e.getMessage());
      if (!j.postgres() && msg.contains("already in use")) {
        return null;
      }
      return Redactor.of(List.of(j.password())).redact(msg.lines().findFirst().orElse(msg));
    }
  }
}
