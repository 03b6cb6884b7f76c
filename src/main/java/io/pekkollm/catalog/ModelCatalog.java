package io.pekkollm.catalog;

import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLConnection;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model catalog: limits, prices and capabilities of every model in {@code config/models/<provider>.yml},
 * looked up by {@code provider/model} or an alias.
 *
 * <p><b>Loading.</b> The bundled files ship in the jar under {@code config/models/}; the build writes their
 * names to {@code config/models/index.txt}, so they are found through any class loader, and compiles them into
 * {@code config/models/catalog.bin} ({@link CompiledCatalog}), used for each file whose YAML it was made from. Without the index
 * (e.g. classes compiled by an IDE) the directory is listed instead, from a directory or a jar. An external
 * directory ({@code pekko-llm.catalog.models-dir}, {@code PEKKO_LLM_MODELS_DIR}) holds files of the same
 * schema: each model in them replaces the bundled entry of the same id as a whole, other models and new
 * providers are added, bundled models they do not name stay. Any malformed file fails loading with a
 * {@link CatalogLoadException} naming file, line and problem.
 *
 * <p><b>Unknown stays unknown.</b> A model the catalog does not list has no entry ({@link #find} is empty,
 * {@link #supports} says {@link Support#UNKNOWN}); the library still routes it to its provider.
 *
 * <p>Immutable and thread-safe. A lookup by {@code provider/model} is one hash-map read and allocates nothing.
 */
public final class ModelCatalog {
  /** Only for warnings: created on first use, so that loading the catalog does not initialise logging. */
  private static Logger log() {
    return LoggerFactory.getLogger(ModelCatalog.class);
  }

  static final String RESOURCE_DIR = "config/models/";
  static final String INDEX = RESOURCE_DIR + "index.txt";

  /** The bundled catalog, loaded once (again after a failure). */
  private static final BackgroundLoad<ModelCatalog> BUNDLED =
      new BackgroundLoad<>(() -> loadBundled(ModelCatalog.class.getClassLoader()), "pekko-llm-catalog-load");

  private final Map<String, ProviderModels> providers;
  /** Every {@code provider/model} and {@code provider/alias}: the per-call lookup is one hash read. */
  private final Map<String, ModelEntry> byFullId;
  private final Map<String, CatalogSource> sources;
  private final List<ModelEntry> all;

  /** The models of one provider, by id and by alias. */
  private record ProviderModels(Map<String, ModelEntry> byId, Map<String, ModelEntry> byAlias) {}

  private ModelCatalog(Map<String, LinkedHashMap<String, ModelEntry>> entries, Map<String, CatalogSource> sources) {
    Map<String, ProviderModels> index = new HashMap<>();
    Map<String, ModelEntry> full = new HashMap<>();
    List<ModelEntry> list = new ArrayList<>();
    entries.forEach((provider, models) -> {
      Map<String, ModelEntry> byId = new TreeMap<>(models);
      Map<String, ModelEntry> byAlias = new HashMap<>();
      // Ids in order, so that when two entries claim the same alias the first id wins, on every start.
      for (ModelEntry e : byId.values()) {
        for (String alias : e.aliases()) {
          if (!byId.containsKey(alias)) {
            byAlias.putIfAbsent(alias, e);
          }
        }
      }
      index.put(provider, new ProviderModels(Map.copyOf(byId), Map.copyOf(byAlias)));
      byAlias.forEach((alias, e) -> full.put(provider + "/" + alias, e));
      byId.forEach((id, e) -> full.put(provider + "/" + id, e));
      list.addAll(byId.values());
    });
    list.sort(Comparator.comparing(ModelEntry::provider).thenComparing(ModelEntry::model));
    this.providers = Map.copyOf(index);
    this.byFullId = Map.copyOf(full);
    this.sources = Map.copyOf(sources);
    this.all = List.copyOf(list);
  }

  // ------------------------------------------------------------------ loading

  /** A catalog of exactly these entries (tests, or catalogs built in code). Later duplicates replace earlier. */
  public static ModelCatalog of(Collection<ModelEntry> entries) {
    Map<String, LinkedHashMap<String, ModelEntry>> map = new TreeMap<>();
    for (ModelEntry e : entries) {
      map.computeIfAbsent(e.provider(), p -> new LinkedHashMap<>()).put(e.model(), e);
    }
    return new ModelCatalog(map, Map.of());
  }

  /** The catalog bundled in the jar, loaded once per class loader of this class and shared. */
  public static ModelCatalog bundled() {
    return BUNDLED.get();
  }

  /**
   * Starts loading the bundled catalog on a background thread, so that start-up can do other work meanwhile;
   * {@link #bundled()} waits for it and throws what it threw (a malformed file's {@link CatalogLoadException}).
   */
  public static void preloadBundled() {
    BUNDLED.startInBackground();
  }

  /** The bundled catalog extended by {@code settings.modelsDir()}, when set. */
  public static ModelCatalog load(CatalogSettings settings) {
    return settings.modelsDir() == null ? bundled() : bundled().withDirectory(settings.modelsDir());
  }

  /**
   * This catalog with the files of {@code dir} laid over it: each model there replaces the entry of the same
   * id, other models and providers are added. Fails with {@link CatalogLoadException} when the directory is
   * missing or a file is malformed.
   */
  public ModelCatalog withDirectory(Path dir) {
    List<CatalogReader.ProviderFile> files = readDirectory(dir);
    Map<String, LinkedHashMap<String, ModelEntry>> entries = new TreeMap<>();
    providers.forEach((p, pm) -> entries.put(p, new LinkedHashMap<>(pm.byId())));
    Map<String, CatalogSource> src = new HashMap<>(sources);
    for (CatalogReader.ProviderFile f : files) {
      LinkedHashMap<String, ModelEntry> models = entries.computeIfAbsent(f.provider(), p -> new LinkedHashMap<>());
      f.models().forEach(m -> models.put(m.model(), m));
      src.put(f.provider(), new CatalogSource(f.provider(), f.source(), f.sourceDate(), f.file()));
    }
    return new ModelCatalog(entries, src);
  }

  static ModelCatalog loadBundled(ClassLoader loader) {
    List<String> names = bundledFileNames(loader);
    if (names.isEmpty()) {
      log().warn("no model catalog found on the class path under {}: every model's metadata is unknown",
          RESOURCE_DIR);
    }
    Map<String, CompiledCatalog.Entry> compiled = names.isEmpty() ? Map.of() : CompiledCatalog.read(loader);
    Map<String, LinkedHashMap<String, ModelEntry>> entries = new TreeMap<>();
    Map<String, CatalogSource> src = new HashMap<>();
    for (String name : names) {
      String resource = RESOURCE_DIR + name;
      String shown = "classpath:" + resource;
      String provider = providerOf(name, shown);
      byte[] yaml;
      try (InputStream in = loader.getResourceAsStream(resource)) {
        if (in == null) {
          throw new CatalogLoadException(shown, 0, 0, "listed in " + INDEX + " but missing from the class path",
              null);
        }
        yaml = in.readAllBytes();
      } catch (IOException e) {
        throw new CatalogLoadException(shown, 0, 0, "cannot read: " + e.getMessage(), e);
      }
      // The build's compiled form when it was made from exactly this YAML, else the YAML itself.
      CompiledCatalog.Entry c = compiled.get(name);
      CatalogReader.ProviderFile f = c != null && c.file().provider().equals(provider) && c.matches(yaml) ? c.file()
          : CatalogReader.read(new ByteArrayInputStream(yaml), shown, provider);
      LinkedHashMap<String, ModelEntry> models = new LinkedHashMap<>();
      f.models().forEach(m -> models.put(m.model(), m));
      entries.put(provider, models);
      src.put(provider, new CatalogSource(provider, f.source(), f.sourceDate(), shown));
    }
    return new ModelCatalog(entries, src);
  }

  /** The bundled file names: from the build's index, else by listing the resource directory. Sorted. */
  static List<String> bundledFileNames(ClassLoader loader) {
    try (InputStream in = loader.getResourceAsStream(INDEX)) {
      if (in != null) {
        TreeSet<String> names = new TreeSet<>();
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        for (String line = r.readLine(); line != null; line = r.readLine()) {
          String name = line.trim();
          if (!name.isEmpty() && !name.startsWith("#")) {
            if (name.contains("/") || !isCatalogFileName(name)) {
              throw new CatalogLoadException("classpath:" + INDEX, 0, 0, "'" + name
                  + "' is not a catalog file name (<provider>.yml)", null);
            }
            names.add(name);
          }
        }
        return List.copyOf(names);
      }
      return List.copyOf(listResourceDirectory(loader));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the bundled model catalog", e);
    }
  }

  private static TreeSet<String> listResourceDirectory(ClassLoader loader) throws IOException {
    TreeSet<String> names = new TreeSet<>();
    Enumeration<URL> dirs = loader.getResources(RESOURCE_DIR.substring(0, RESOURCE_DIR.length() - 1));
    while (dirs.hasMoreElements()) {
      URL url = dirs.nextElement();
      if ("file".equals(url.getProtocol())) {
        try (Stream<Path> files = Files.list(Path.of(url.toURI()))) {
          files.map(f -> f.getFileName().toString()).filter(ModelCatalog::isCatalogFileName).forEach(names::add);
        } catch (URISyntaxException e) {
          throw new IOException("bad resource URL " + url, e);
        }
      } else if ("jar".equals(url.getProtocol())) {
        URLConnection conn = url.openConnection();
        if (conn instanceof JarURLConnection jar) {
          jar.setUseCaches(false);
          try (JarFile jf = jar.getJarFile()) {
            Enumeration<JarEntry> en = jf.entries();
            while (en.hasMoreElements()) {
              String n = en.nextElement().getName();
              if (n.startsWith(RESOURCE_DIR) && n.indexOf('/', RESOURCE_DIR.length()) < 0) {
                String name = n.substring(RESOURCE_DIR.length());
                if (isCatalogFileName(name)) {
                  names.add(name);
                }
              }
            }
          }
        }
      } else {
        log().warn("cannot list {} from a '{}' URL ({}); build with Maven so that {} exists", RESOURCE_DIR,
            url.getProtocol(), url, INDEX);
      }
    }
    return names;
  }

  private static List<CatalogReader.ProviderFile> readDirectory(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new CatalogLoadException(dir.toString(), 0, 0, "is not a directory (set by pekko-llm.catalog.models-dir"
          + " or PEKKO_LLM_MODELS_DIR)", null);
    }
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(f -> isCatalogFileName(f.getFileName().toString()) && Files.isRegularFile(f)).sorted().toList();
    } catch (IOException e) {
      throw new CatalogLoadException(dir.toString(), 0, 0, "cannot list the directory: " + e.getMessage(), e);
    }
    Map<String, Path> byProvider = new HashMap<>();
    List<CatalogReader.ProviderFile> out = new ArrayList<>();
    for (Path f : files) {
      String shown = f.toString();
      String provider = providerOf(f.getFileName().toString(), shown);
      Path other = byProvider.putIfAbsent(provider, f);
      if (other != null) {
        throw new CatalogLoadException(shown, 0, 0, "a second file for provider '" + provider + "' (the first is "
            + other.getFileName() + ")", null);
      }
      try (InputStream in = Files.newInputStream(f)) {
        out.add(CatalogReader.read(in, shown, provider));
      } catch (IOException e) {
        throw new CatalogLoadException(shown, 0, 0, "cannot read: " + e.getMessage(), e);
      }
    }
    return out;
  }

  private static boolean isCatalogFileName(String name) {
    return !name.startsWith(".") && (name.endsWith(".yml") || name.endsWith(".yaml")) && !name.equals(".yml");
  }

  static String providerOf(String fileName, String shown) {
    String p = fileName.substring(0, fileName.lastIndexOf('.'));
    if (p.isEmpty() || p.contains("/") || p.chars().anyMatch(Character::isWhitespace)) {
      throw new CatalogLoadException(shown, 0, 0, "the file name must be <provider>.yml with a provider name"
          + " without '/' or spaces", null);
    }
    return p;
  }

  // ------------------------------------------------------------------ lookup

  /** The entry for {@code provider/model} (the model part may be an alias); empty when unknown. */
  public Optional<ModelEntry> find(String id) {
    return Optional.ofNullable(get(id));
  }

  /** Like {@link #find(String)}, null when unknown: for hot paths. */
  ModelEntry get(String id) {
    return id == null ? null : byFullId.get(id);
  }

  /** The entry for {@code model} (an id or alias) of {@code provider}; empty when unknown. */
  public Optional<ModelEntry> find(String provider, String model) {
    return Optional.ofNullable(get(provider, model));
  }

  /** Like {@link #find(String, String)}, null when unknown: for hot paths. */
  ModelEntry get(String provider, String model) {
    ProviderModels pm = providers.get(provider);
    if (pm == null || model == null) {
      return null;
    }
    ModelEntry e = pm.byId().get(model);
    return e != null ? e : pm.byAlias().get(model);
  }

  /** Every entry, sorted by provider and model. */
  public List<ModelEntry> models() {
    return all;
  }

  /** The entries of one provider, sorted by model; empty for a provider the catalog does not know. */
  public List<ModelEntry> models(String provider) {
    ProviderModels pm = providers.get(provider);
    return pm == null ? List.of() : List.copyOf(pm.byId().values());
  }

  /** The providers with a catalog file, sorted. */
  public Set<String> providers() {
    return new TreeSet<>(providers.keySet());
  }

  public boolean hasProvider(String provider) {
    return providers.containsKey(provider);
  }

  /** Where the provider's entries came from; empty for catalogs built in code. */
  public Optional<CatalogSource> source(String provider) {
    return Optional.ofNullable(sources.get(provider));
  }

  // ------------------------------------------------------------------ queries

  /** Whether {@code id} supports {@code capability}: {@link Support#UNKNOWN} when the model is not listed. */
  public Support supports(String id, Capability capability) {
    return find(id).map(e -> e.has(capability) ? Support.SUPPORTED : Support.UNSUPPORTED).orElse(Support.UNKNOWN);
  }

  /** The models that list every one of {@code capabilities}, sorted by id. */
  public List<ModelEntry> withCapabilities(Collection<Capability> capabilities) {
    Set<Capability> wanted = capabilities.isEmpty() ? EnumSet.noneOf(Capability.class) : EnumSet.copyOf(capabilities);
    return all.stream().filter(e -> e.capabilities().containsAll(wanted)).toList();
  }

  /** {@link #withCapabilities(Collection)} for a few capabilities. */
  public List<ModelEntry> withCapabilities(Capability... capabilities) {
    return withCapabilities(List.of(capabilities));
  }

  /**
   * Compares two listed models. Throws {@link LlmException} of kind MODEL_NOT_FOUND when either is not in
   * the catalog: there is nothing to compare.
   */
  public ModelComparison compare(String firstId, String secondId) {
    ModelEntry a = require(firstId);
    ModelEntry b = require(secondId);
    Set<Capability> common = copy(a.capabilities());
    common.retainAll(b.capabilities());
    Set<Capability> onlyA = copy(a.capabilities());
    onlyA.removeAll(b.capabilities());
    Set<Capability> onlyB = copy(b.capabilities());
    onlyB.removeAll(a.capabilities());
    return new ModelComparison(a, b, Set.copyOf(common), Set.copyOf(onlyA), Set.copyOf(onlyB));
  }

  private ModelEntry require(String id) {
    return find(id).orElseThrow(() -> new LlmException(ErrorKind.MODEL_NOT_FOUND, "model '" + id
        + "' is not in the model catalog", null, false, "model"));
  }

  private static Set<Capability> copy(Set<Capability> s) {
    return s.isEmpty() ? EnumSet.noneOf(Capability.class) : EnumSet.copyOf(s);
  }

  /**
   * The models that meet {@code req}, best first. Filters: mode, providers, every required capability, prices
   * at most the maxima, context window at least the minimum (a model whose value is unknown fails a filter on
   * it), not deprecated as of {@link Requirements#asOf()}.
   *
   * <p>Order, deterministic: lower blended price ({@link Pricing#blended()}) first, models without one after
   * all priced models; then the larger context window (unknown last); then {@code provider/model}
   * alphabetically.
   */
  public List<ModelEntry> recommend(Requirements req) {
    LocalDate asOf = req.asOf() != null ? req.asOf() : LocalDate.now(ZoneOffset.UTC);
    Comparator<ModelEntry> order = Comparator
        .comparing((ModelEntry e) -> e.pricing().blended().orElse(null),
            Comparator.nullsLast(Comparator.<BigDecimal>naturalOrder()))
        .thenComparing(e -> e.contextWindow().isPresent() ? -e.contextWindow().getAsInt() : null,
            Comparator.nullsLast(Comparator.<Integer>naturalOrder()))
        .thenComparing(ModelEntry::provider)
        .thenComparing(ModelEntry::model);
    Stream<ModelEntry> s = all.stream()
        .filter(e -> req.mode() == null || req.mode().equals(e.mode().orElse(null)))
        .filter(e -> req.providers().isEmpty() || req.providers().contains(e.provider()))
        .filter(e -> e.capabilities().containsAll(req.capabilities()))
        .filter(e -> atMost(e.pricing().input(), req.maxInputPrice()))
        .filter(e -> atMost(e.pricing().output(), req.maxOutputPrice()))
        .filter(e -> atLeast(e.contextWindow(), req.minContextWindow()))
        .filter(e -> !e.isDeprecated(asOf))
        .sorted(order);
    if (req.limit() > 0) {
      s = s.limit(req.limit());
    }
    return s.toList();
  }

  private static boolean atMost(BigDecimal value, BigDecimal max) {
    return max == null || (value != null && value.compareTo(max) <= 0);
  }

  private static boolean atLeast(OptionalInt value, Integer min) {
    return min == null || (value.isPresent() && value.getAsInt() >= min);
  }

  @Override
  public String toString() {
    return "ModelCatalog{providers=" + providers.size() + ", models=" + all.size() + "}";
  }
}
