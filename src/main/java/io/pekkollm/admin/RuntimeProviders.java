package io.pekkollm.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.pekkollm.api.LlmClient;
import io.pekkollm.api.LlmSettings;
import io.pekkollm.discovery.ProviderModels;
import io.pekkollm.journal.Entities;
import io.pekkollm.journal.JournalSchema;
import io.pekkollm.journal.JournalSettings;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.ModelInfo;
import io.pekkollm.model.RetryOptions;
import io.pekkollm.provider.ChatProvider;
import io.pekkollm.provider.ProviderSettings;
import io.pekkollm.provider.ProviderStatus;
import io.pekkollm.provider.Providers;
import io.pekkollm.util.Futures;
import io.pekkollm.util.Json;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.apache.pekko.stream.Materializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Providers added, changed and removed through the admin API while the gateway runs. Each is kept in the journal
 * ({@link ProviderDirectory}, its secret fields sealed by {@link SecretBox}) and run by the client as a supervised
 * provider actor ({@link LlmClient#putProvider}); on start every stored provider runs again. Providers of the
 * configuration are listed too, read-only. Also: model listings (discovery, with the template's fallback models) and
 * connection tests, for saved providers and for a wizard's form before it is saved. Secrets are never returned and
 * never part of a message or log line. Thread-safe.
 */
public final class RuntimeProviders {
  private static final Logger LOG = LoggerFactory.getLogger(RuntimeProviders.class);
  private static final Pattern NAME = Pattern.compile("^[a-z0-9][a-z0-9_.-]{0,62}$");
  /** Keys of a kind's reference block that come from the environment and must not reach a runtime provider. */
  private static final List<String> ENV_KEYS = List.of("base-url", "api-key", "api-key-env", "access-key-id",
      "session-token", "enabled", "headers", "control-base-url");

  private final LlmClient client;
  private final AdminSettings settings;
  private final ProviderTemplates templates;
  private final SecretBox box;
  private final Entities<ProviderDirectory.Command> directory;
  private final Materializer materializer;
  /** Why a stored provider does not run (cannot be decrypted, invalid settings), by name. */
  private final Map<String, String> problems = new ConcurrentHashMap<>();
  private final CompletableFuture<Void> restored = new CompletableFuture<>();
  /** The version of each stored provider this node has applied (run, or failed to run and said why), by name. */
  private final Map<String, Integer> applied = new ConcurrentHashMap<>();
  /** Counts changes made through this node; a sync that overlapped one skips its round (its list may be stale). */
  private final java.util.concurrent.atomic.AtomicLong localChanges = new java.util.concurrent.atomic.AtomicLong();

  private RuntimeProviders(LlmClient client, AdminSettings settings, ProviderTemplates templates, SecretBox box,
      Entities<ProviderDirectory.Command> directory) {
    this.client = client;
    this.settings = settings;
    this.templates = templates;
    this.box = box;
    this.directory = directory;
    this.materializer = Materializer.matFromSystem(client.system());
  }

  /**
   * Loads the templates, starts the runtime-provider entity on {@code client}'s journal (none when the journal is
   * off: then providers cannot be added) and runs every stored provider again. Throws IllegalArgumentException for
   * a malformed secrets key, IllegalStateException for a malformed template file.
   */
  public static RuntimeProviders start(LlmClient client, AdminSettings settings) {
    ProviderTemplates templates = ProviderTemplates.load();
    SecretBox box = SecretBox.of(settings.secretsKey());
    JournalSettings journal = client.journalSettings();
    Entities<ProviderDirectory.Command> directory = null;
    if (journal.enabled()) {
      JournalSchema.ensure(journal);
      directory = client.entityHost().singleton("runtime-providers", ProviderDirectory.Command.class,
          ProviderDirectory.create(JournalSettings.PLUGIN_ID, journal.pluginConfig(client.system().settings().config())));
    }
    RuntimeProviders rp = new RuntimeProviders(client, settings, templates, box, directory);
    rp.restore();
    if (directory != null && !settings.syncInterval().isZero()) {
      // Another gateway node may add, change or remove providers: follow the journal's list.
      client.system().scheduler().scheduleWithFixedDelay(settings.syncInterval(), settings.syncInterval(),
          rp::sync, client.system().executionContext());
    }
    return rp;
  }

  /** The runtime-provider entity (null when the journal is off); for tests that change it as another node would. */
  Entities<ProviderDirectory.Command> directory() {
    return directory;
  }

  public ProviderTemplates templates() {
    return templates;
  }

  /** Completes when the stored providers have been started again (each that could be). */
  public CompletionStage<Void> restored() {
    return restored;
  }

  private void restore() {
    if (directory == null) {
      restored.complete(null);
      return;
    }
    reconcile().whenComplete((v, err) -> {
      if (err != null) {
        LOG.warn("the runtime providers could not be read from the journal: {}", Futures.cause(err).getMessage());
      }
      restored.complete(null);
    });
  }

  /** Applies what changed in the journal since this node last looked (providers changed through another node). */
  private void sync() {
    if (restored.isDone()) {
      reconcile().whenComplete((v, err) -> {
        if (err != null) {
          LOG.debug("runtime providers not synchronised with the journal: {}", Futures.cause(err).getMessage());
        }
      });
    }
  }

  /** Runs every stored provider whose version this node has not applied, removes those no longer stored. */
  private CompletionStage<Void> reconcile() {
    long changesBefore = localChanges.get();
    return all().thenCompose(list -> {
      if (localChanges.get() != changesBefore) {
        return CompletableFuture.completedFuture(null);
      }
      List<CompletableFuture<?>> started = new ArrayList<>();
      java.util.Set<String> ids = new java.util.HashSet<>();
      for (StoredProvider p : list) {
        ids.add(p.id());
        if (Integer.valueOf(p.version()).equals(applied.get(p.id()))) {
          continue;
        }
        started.add(apply(p).toCompletableFuture().exceptionally(err -> {
          problems.put(p.id(), Futures.cause(err).getMessage());
          LOG.warn("runtime provider '{}' was not started: {}", p.id(), Futures.cause(err).getMessage());
          return null;
        }));
      }
      for (String id : List.copyOf(applied.keySet())) {
        if (!ids.contains(id) && applied.remove(id) != null) {
          problems.remove(id);
          client.removeProvider(id, settings.drainTimeout());
          LOG.info("runtime provider '{}' removed (deleted through another node)", id);
        }
      }
      return CompletableFuture.allOf(started.toArray(CompletableFuture[]::new));
    });
  }

  // ---- management ----

  /** Every provider: the configuration's (read-only) and the runtime ones, with their live status, by name. */
  public CompletionStage<List<ObjectNode>> list() {
    // After the restore, so a restarted gateway lists its stored providers as running, not as failed.
    CompletionStage<List<StoredProvider>> stored = directory == null
        ? CompletableFuture.completedFuture(List.of()) : restored.thenCompose(v -> all());
    return stored.thenCombine(client.providerStatus(), (runtime, status) -> {
      Map<String, ProviderStatus> byName = new LinkedHashMap<>();
      status.forEach(s -> byName.put(s.name(), s));
      Map<String, ObjectNode> out = new java.util.TreeMap<>();
      for (String name : client.configuredProviderNames()) {
        ProviderSettings ps = client.configuredProvider(name);
        ObjectNode o = Json.object().put("id", name).put("source", "config").put("read_only", true)
            .put("template", templates.get(name) != null ? name : null).put("kind", ps.kind())
            .put("base_url", ps.baseUrl()).put("enabled", ps.enabled()).put("disabled_reason", ps.disabledReason());
        o.set("status", status(byName.get(name)));
        out.put(name, o);
      }
      for (StoredProvider p : runtime) {
        ObjectNode o = toJson(p);
        ProviderSettings running = client.providerSettings(p.id());
        o.put("enabled", running != null && problems.get(p.id()) == null);
        o.set("status", status(byName.get(p.id())));
        if (out.containsKey(p.id())) {
          o.put("overrides_config", true);
        }
        out.put(p.id(), o);
      }
      return List.copyOf(out.values());
    });
  }

  /** One runtime provider as {@link #list} shows it; NOT_FOUND when there is none of that name. */
  public CompletionStage<ObjectNode> get(String id) {
    return list().thenApply(l -> l.stream().filter(o -> o.path("id").asText().equals(id)).findFirst()
        .orElseThrow(() -> notFound(id)));
  }

  /**
   * Adds a provider from {@code {"name", "template", "config": {field: value}, "models"?: [id…]}}: checked against
   * the template's schema (INVALID_REQUEST naming the field), stored, and running when this completes.
   */
  public CompletionStage<ObjectNode> create(JsonNode body) {
    StoredProvider p;
    try {
      requireJournal();
      String name = string(body, "name");
      if (name == null || !NAME.matcher(name).matches()) {
        throw LlmException.invalidRequest("name must be 1 to 63 lower-case letters, digits, '.', '_' or '-', starting "
            + "with a letter or digit (it becomes the prefix of the provider's model ids: name/model)", "name");
      }
      ProviderSettings configured = client.configuredProvider(name);
      if (configured != null && configured.enabled()) {
        throw new LlmException(ErrorKind.CONFLICT, "'" + name + "' is a provider of the configuration (environment "
            + "or application.conf), which is read-only: choose another name", null, false, "name");
      }
      ProviderTemplate template = template(string(body, "template"));
      Map<String, String> config = config(body.get("config"));
      ProviderTemplates.validate(template, config);
      List<String> models = models(body.get("models"));
      long now = System.currentTimeMillis();
      p = seal(name, template, config, Map.of(), models, 1, now, now);
      settingsOf(p, config);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    localChanges.incrementAndGet();
    return this.<ProviderDirectory.Reply>ask(r -> new ProviderDirectory.Create(p, r))
        .thenApply(this::checked)
        .thenCompose(stored -> apply(stored).thenApply(d -> stored))
        .thenApply(stored -> {
          problems.remove(stored.id());
          LOG.info("runtime provider '{}' added (template {})", stored.id(), stored.template());
          return toJson(stored).put("enabled", true);
        });
  }

  /**
   * Changes provider {@code id} from {@code {"config"?: {field: value|null}, "models"?: [...]}}: fields not named
   * keep their values (null removes one); the new settings apply to calls routed from now on.
   */
  public CompletionStage<ObjectNode> update(String id, JsonNode body) {
    return stored(id).thenCompose(current -> {
      StoredProvider next;
      try {
        if (body.has("name") && !id.equals(string(body, "name"))) {
          throw LlmException.invalidRequest("a provider's name cannot change: add a new one and delete this", "name");
        }
        if (body.has("template") && !current.template().equals(string(body, "template"))) {
          throw LlmException.invalidRequest("a provider's template cannot change: add a new one", "template");
        }
        ProviderTemplate template = template(current.template());
        Map<String, String> plain = new LinkedHashMap<>(current.config());
        Map<String, String> changedSecrets = new LinkedHashMap<>();
        current.secrets().forEach((k, v) -> plain.put(k, "\0kept"));
        JsonNode cfg = body.get("config");
        if (cfg != null && !cfg.isNull()) {
          if (!cfg.isObject()) {
            throw LlmException.invalidRequest("config must be an object of field values", "config");
          }
          cfg.fields().forEachRemaining(e -> {
            if (e.getValue().isNull()) {
              plain.remove(e.getKey());
            } else {
              plain.put(e.getKey(), scalar(e.getKey(), e.getValue()));
              changedSecrets.put(e.getKey(), "");
            }
          });
        }
        // Kept secrets count as present, not re-checked against their pattern (they were when stored).
        Map<String, String> check = new LinkedHashMap<>(plain);
        check.entrySet().removeIf(e -> "\0kept".equals(e.getValue()));
        java.util.Set<String> kept0 = new java.util.HashSet<>(plain.keySet());
        kept0.removeAll(check.keySet());
        ProviderTemplates.validate(template, check, kept0);
        List<String> models = body.has("models") ? models(body.get("models")) : current.models();
        Map<String, String> values = new LinkedHashMap<>(plain);
        values.entrySet().removeIf(e -> "\0kept".equals(e.getValue()));
        Map<String, String> kept = new LinkedHashMap<>(current.secrets());
        kept.keySet().removeIf(k -> !plain.containsKey(k) || changedSecrets.containsKey(k));
        next = seal(id, template, values, kept, models, current.version() + 1, current.createdAt(),
            System.currentTimeMillis());
        settingsOf(next, null);
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
      localChanges.incrementAndGet();
      return this.<ProviderDirectory.Reply>ask(r -> new ProviderDirectory.Update(next, current.version(), r))
          .thenApply(this::checked)
          .thenCompose(stored -> apply(stored).thenApply(d -> stored))
          .thenApply(stored -> {
            problems.remove(stored.id());
            LOG.info("runtime provider '{}' changed (version {})", stored.id(), stored.version());
            return toJson(stored).put("enabled", true);
          });
    });
  }

  /** Removes runtime provider {@code id}: new calls stop reaching it at once, its admitted calls finish. */
  public CompletionStage<ObjectNode> delete(String id) {
    try {
      requireJournal();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    localChanges.incrementAndGet();
    return this.<ProviderDirectory.Reply>ask(r -> new ProviderDirectory.Delete(id, System.currentTimeMillis(), r))
        .thenApply(this::checked)
        .thenApply(removed -> {
          problems.remove(id);
          applied.remove(id);
          client.removeProvider(id, settings.drainTimeout()).whenComplete((d, err) ->
              LOG.info("runtime provider '{}' removed; its calls have drained", id));
          return Json.object().put("id", id).put("deleted", true);
        });
  }

  // ---- models and tests ----

  /**
   * The models of running provider {@code id} as discovery knows them (its API, kept for the template's TTL; or the
   * fallback when it fails); {@code refresh} forgets the kept list first. NOT_FOUND for an unknown provider.
   */
  public CompletionStage<ObjectNode> models(String id, boolean refresh) {
    if (client.providerSettings(id) == null) {
      return CompletableFuture.failedFuture(notFound(id));
    }
    if (refresh) {
      client.modelDiscovery().invalidate(id);
    }
    return client.modelDiscovery().models(id).thenApply(pm -> {
      String source = switch (pm.source()) {
        case API -> "api";
        case STALE -> "stale";
        case CATALOG -> "fallback";
      };
      ObjectNode o = Json.object().put("provider", id).put("source", source)
          .put("fetched_at", pm.fetchedAt() == null ? null : pm.fetchedAt().toString())
          .put("error", redact(id, pm.error()));
      ArrayNode data = o.putArray("data");
      pm.models().forEach(m -> data.addObject().put("id", m.id()));
      return o;
    });
  }

  /**
   * Tests running provider {@code id}: lists its models, then asks {@code body.model} (or its first picked or
   * listed model) for one token, each step bounded by the test timeout. Never fails for a failing provider: the
   * answer says which step failed and why.
   */
  public CompletionStage<ObjectNode> test(String id, JsonNode body) {
    ProviderSettings ps = client.providerSettings(id);
    if (ps == null) {
      return CompletableFuture.failedFuture(notFound(id));
    }
    String given = string(body, "model");
    CompletionStage<List<String>> picked = directory == null ? CompletableFuture.completedFuture(List.of())
        : all().thenApply(l -> l.stream().filter(p -> p.id().equals(id)).findFirst().map(StoredProvider::models)
            .orElse(List.of()));
    return picked.thenCompose(models -> runTest(ps,
        () -> client.listModels(id).thenApply(l -> l.stream().map(m -> ownId(id, m)).toList()),
        model -> client.chat(oneToken(id + "/" + model)).thenApply(r -> r.text()),
        given != null ? given : models.isEmpty() ? null : models.get(0)));
  }

  /**
   * The models a provider made from {@code template} and {@code body.config} would list, before it is saved: from
   * its API, or the template's fallback models with the error when that fails ({@code "source": "fallback"}).
   * INVALID_REQUEST for a config the schema refuses.
   */
  public CompletionStage<ObjectNode> previewModels(String templateId, JsonNode body) {
    ProviderTemplate template;
    ChatProvider provider;
    ProviderSettings ps;
    try {
      template = template(templateId);
      Map<String, String> config = config(body.get("config"));
      ProviderTemplates.validate(template, config);
      ps = settingsOf(new StoredProvider(previewName(body, template), template.id(), Map.of(), Map.of(), List.of(),
          0, 0, 0), config);
      provider = Providers.factoryFor(ps).create(ps, client.system());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    long start = System.nanoTime();
    return bounded(provider.listModels()).handle((models, err) -> {
      provider.close();
      ObjectNode o = Json.object().put("template", template.id()).put("millis", millis(start));
      ArrayNode data = o.putArray("data");
      if (err == null) {
        o.put("source", "api").putNull("error");
        models.forEach(m -> data.addObject().put("id", ownId(ps.name(), m)));
      } else {
        o.put("source", "fallback").put("error", message(ps, err));
        template.modelFetching().fallbackModels().forEach(m -> data.addObject().put("id", m));
      }
      return o;
    });
  }

  /** {@link #test} for a provider made from {@code template} and {@code body.config}, before it is saved. */
  public CompletionStage<ObjectNode> previewTest(String templateId, JsonNode body) {
    ChatProvider provider;
    ProviderSettings ps;
    try {
      ProviderTemplate template = template(templateId);
      Map<String, String> config = config(body.get("config"));
      ProviderTemplates.validate(template, config);
      ps = settingsOf(new StoredProvider(previewName(body, template), template.id(), Map.of(), Map.of(), List.of(),
          0, 0, 0), config);
      provider = Providers.factoryFor(ps).create(ps, client.system());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    ProviderSettings settingsUsed = ps;
    return runTest(ps, () -> provider.listModels().thenApply(l -> l.stream().map(m -> ownId(settingsUsed.name(), m))
            .toList()),
        model -> provider.complete(oneToken(model), materializer).thenApply(chunks -> {
          StringBuilder text = new StringBuilder();
          chunks.forEach(c -> text.append(c.textDelta() == null ? "" : c.textDelta()));
          return text.toString();
        }),
        string(body, "model")).whenComplete((o, err) -> provider.close());
  }

  private CompletionStage<ObjectNode> runTest(ProviderSettings ps, Supplier<CompletionStage<List<String>>> list,
      java.util.function.Function<String, CompletionStage<String>> complete, String model) {
    ObjectNode out = Json.object().put("provider", ps.name());
    ArrayNode steps = out.putArray("steps");
    long start = System.nanoTime();
    CompletionStage<List<String>> listed;
    try {
      listed = bounded(list.get());
    } catch (RuntimeException e) {
      listed = CompletableFuture.failedFuture(e);
    }
    return listed.handle((models, err) -> {
      ObjectNode step = steps.addObject().put("name", "list_models").put("millis", millis(start));
      if (err == null) {
        step.put("ok", true).put("detail", models.size() + " models listed");
      } else {
        step.put("ok", false).put("error", message(ps, err));
      }
      return model != null ? model : err == null && !models.isEmpty() ? models.get(0) : null;
    }).thenCompose(chosen -> {
      long t = System.nanoTime();
      if (chosen == null) {
        steps.addObject().put("name", "completion").put("ok", false).put("skipped", true).put("millis", 0)
            .put("error", "no model to ask: the model list failed or is empty, and no model was given");
        return CompletableFuture.completedFuture(out);
      }
      CompletionStage<String> answer;
      try {
        answer = bounded(complete.apply(chosen));
      } catch (RuntimeException e) {
        answer = CompletableFuture.failedFuture(e);
      }
      return answer.handle((text, err) -> {
        ObjectNode step = steps.addObject().put("name", "completion").put("model", chosen).put("millis", millis(t));
        if (err == null) {
          step.put("ok", true).put("detail", "answered " + Json.write(Json.MAPPER.getNodeFactory().textNode(
              text.length() > 40 ? text.substring(0, 40) : text)));
        } else {
          step.put("ok", false).put("error", message(ps, err));
        }
        return out;
      });
    }).thenApply(o -> {
      boolean ok = true;
      for (JsonNode s : steps) {
        ok &= s.path("ok").asBoolean();
      }
      String failed = null;
      for (JsonNode s : steps) {
        if (!s.path("ok").asBoolean()) {
          failed = s.path("name").asText();
          break;
        }
      }
      return o.put("ok", ok).put("failed_step", failed);
    });
  }

  /** The name a wizard's provider will have (for its messages), or {@code wizard-<template>} when it has none yet. */
  private static String previewName(JsonNode body, ProviderTemplate template) {
    JsonNode n = body == null ? null : body.get("name");
    return n != null && n.isTextual() && NAME.matcher(n.asText()).matches() ? n.asText() : "wizard-" + template.id();
  }

  private static ChatRequest oneToken(String model) {
    return ChatRequest.builder(model).user("Say OK.").maxTokens(1).retry(RetryOptions.NONE).build();
  }

  private <T> CompletionStage<T> bounded(CompletionStage<T> stage) {
    return stage.toCompletableFuture().orTimeout(settings.testTimeout().toMillis(), TimeUnit.MILLISECONDS);
  }

  private static String ownId(String provider, ModelInfo m) {
    String id = m.id();
    return id.startsWith(provider + "/") ? id.substring(provider.length() + 1) : id;
  }

  private String message(ProviderSettings ps, Throwable err) {
    Throwable t = Futures.cause(err);
    String msg = t instanceof java.util.concurrent.TimeoutException
        ? "no answer within " + settings.testTimeout().toMillis() + " ms"
        : t instanceof LlmException le ? le.kind().name().toLowerCase(java.util.Locale.ROOT) + ": " + le.getMessage()
        : t.getClass().getSimpleName() + ": " + t.getMessage();
    return ps.redactor().redact(msg);
  }

  private String redact(String provider, String text) {
    ProviderSettings ps = client.providerSettings(provider);
    return ps == null || text == null ? text : ps.redactor().redact(text);
  }

  private static long millis(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }

  // ---- helpers ----

  private CompletionStage<org.apache.pekko.Done> apply(StoredProvider p) {
    ProviderSettings ps;
    try {
      ps = settingsOf(p, null);
    } catch (RuntimeException e) {
      applied.put(p.id(), p.version());
      return CompletableFuture.failedFuture(e);
    }
    List<String> fallback = !p.models().isEmpty() ? p.models()
        : template(p.template()).modelFetching().fallbackModels();
    // Recorded first: a failure is reported once (in problems), not retried by every sync.
    applied.put(p.id(), p.version());
    return client.putProvider(ps, fallback, settings.drainTimeout());
  }

  /**
   * The settings provider {@code p} runs with: its kind's reference block (without what comes from the
   * environment), the template's fixed settings, then each field's value (or default). {@code plain}: the field
   * values when they are at hand (a new provider, a wizard); null: from {@code p}, secrets opened.
   */
  private ProviderSettings settingsOf(StoredProvider p, Map<String, String> plain) {
    ProviderTemplate template = template(p.template());
    Map<String, String> values = plain != null ? plain : open(p);
    Map<String, Object> block = new LinkedHashMap<>(template.settings());
    block.put("kind", template.kind());
    block.put("enabled", "on");
    block.put("models-ttl", template.modelFetching().ttlSeconds() + "s");
    for (ProviderTemplate.Field f : template.configSchema()) {
      String v = values.get(f.name());
      v = v == null || v.isBlank() ? f.defaultValue() : v.trim();
      if (v != null) {
        block.put(f.key(), v);
      }
    }
    Config root = client.system().settings().config().withFallback(ConfigFactory.defaultReference());
    Config providers = root.getConfig("pekko-llm.providers");
    String base = providers.hasPath(template.id()) ? template.id() : template.kind();
    Config reference = providers.hasPath(base) ? providers.getConfig(base) : ConfigFactory.empty();
    for (String k : ENV_KEYS) {
      reference = reference.withoutPath(k);
    }
    Config own = ConfigFactory.parseMap(flatKeys(block)).withFallback(reference);
    try {
      return LlmSettings.provider(root, p.id(), own);
    } catch (ConfigException | IllegalArgumentException e) {
      throw LlmException.invalidRequest(redactAll(e.getMessage(), values, template), "config");
    }
  }

  /** Quotes keys so that dotted values such as {@code images.max-bytes} stay one key. */
  private static Map<String, Object> flatKeys(Map<String, Object> block) {
    Map<String, Object> out = new LinkedHashMap<>();
    block.forEach((k, v) -> out.put(k.contains(".") ? "\"" + k + "\"" : k, v));
    return out;
  }

  private static String redactAll(String message, Map<String, String> values, ProviderTemplate template) {
    String out = message;
    for (ProviderTemplate.Field f : template.configSchema()) {
      String v = values.get(f.name());
      if (f.secret() && v != null && !v.isBlank()) {
        out = out.replace(v.trim(), io.pekkollm.util.Redactor.MASK);
      }
    }
    return out;
  }

  /** {@code p}'s stored values with its secrets opened. */
  private Map<String, String> open(StoredProvider p) {
    Map<String, String> values = new LinkedHashMap<>(p.config());
    if (!p.secrets().isEmpty() && box == null) {
      throw new LlmException(ErrorKind.INTERNAL, "provider '" + p.id() + "' has stored secrets, but "
          + "PEKKO_LLM_SECRETS_KEY is not set: set the key it was stored with");
    }
    p.secrets().forEach((field, sealed) -> values.put(field, box.open(p.id(), field, sealed)));
    return values;
  }

  /**
   * The provider to store: non-secret values in the clear, secret ones sealed (fails with INVALID_REQUEST naming the
   * field when there is a secret but no secrets key), {@code kept} sealed ones unchanged.
   */
  private StoredProvider seal(String id, ProviderTemplate template, Map<String, String> values,
      Map<String, String> kept, List<String> models, int version, long createdAt, long updatedAt) {
    Map<String, String> clear = new LinkedHashMap<>();
    Map<String, String> sealed = new LinkedHashMap<>(kept);
    for (Map.Entry<String, String> e : values.entrySet()) {
      if (e.getValue() == null || e.getValue().isBlank()) {
        continue;
      }
      ProviderTemplate.Field f = template.field(e.getKey());
      if (f.secret()) {
        if (box == null) {
          throw new LlmException(ErrorKind.INVALID_REQUEST, "config." + f.name() + " is a secret, and secrets are "
              + "stored only encrypted: set PEKKO_LLM_SECRETS_KEY (32 random bytes, base64: openssl rand -base64 32) "
              + "and restart the gateway", null, false, "config." + f.name()) {
            private static final long serialVersionUID = 1L;

            @Override
            public String errorCode() {
              return "secrets_key_missing";
            }
          };
        }
        sealed.put(f.name(), box.seal(id, f.name(), e.getValue().trim()));
      } else {
        clear.put(f.name(), e.getValue().trim());
      }
    }
    return new StoredProvider(id, template.id(), clear, sealed, models, version, createdAt, updatedAt);
  }

  private ObjectNode toJson(StoredProvider p) {
    ProviderTemplate t = templates.get(p.template());
    ObjectNode o = Json.object().put("id", p.id()).put("source", "runtime").put("read_only", false)
        .put("template", p.template()).put("kind", t == null ? null : t.kind());
    ObjectNode cfg = o.putObject("config");
    p.config().forEach(cfg::put);
    ArrayNode secrets = o.putArray("secrets_set");
    p.secrets().keySet().stream().sorted().forEach(secrets::add);
    ArrayNode models = o.putArray("models");
    p.models().forEach(models::add);
    ProviderSettings running = client.providerSettings(p.id());
    o.put("base_url", running == null ? null : running.baseUrl());
    o.put("version", p.version()).put("created_at", Instant.ofEpochMilli(p.createdAt()).toString())
        .put("updated_at", Instant.ofEpochMilli(p.updatedAt()).toString()).put("error", problems.get(p.id()));
    return o;
  }

  private static ObjectNode status(ProviderStatus s) {
    if (s == null) {
      return null;
    }
    ObjectNode o = Json.object().put("breaker", s.breaker()).put("in_flight", s.inFlight())
        .put("requests", s.requests()).put("failures", s.failures()).put("recent_calls", s.recentCalls())
        .put("recent_error_rate", s.recentErrorRate()).put("avg_latency_ms", s.avgLatencyMillis())
        .put("latency_p50_ms", s.latencyMillis() == null ? null : s.latencyMillis().p50())
        .put("latency_p95_ms", s.latencyMillis() == null ? null : s.latencyMillis().p95())
        .put("last_error", s.lastError())
        .put("last_error_at", s.lastErrorAtMillis() == 0 ? null : Instant.ofEpochMilli(s.lastErrorAtMillis()).toString());
    if (s.healthCheck() != null) {
      o.putObject("health_check").put("ok", s.healthCheck().ok()).put("error", s.healthCheck().error())
          .put("at", Instant.ofEpochMilli(s.healthCheck().atMillis()).toString());
    }
    return o;
  }

  private ProviderTemplate template(String id) {
    ProviderTemplate t = templates.get(id);
    if (t == null) {
      throw LlmException.invalidRequest("template must be one of " + String.join(", ",
          templates.all().stream().map(ProviderTemplate::id).toList()) + (id == null ? "" : ", not '" + id + "'"),
          "template");
    }
    return t;
  }

  private static Map<String, String> config(JsonNode node) {
    Map<String, String> out = new LinkedHashMap<>();
    if (node == null || node.isNull()) {
      return out;
    }
    if (!node.isObject()) {
      throw LlmException.invalidRequest("config must be an object of field values", "config");
    }
    node.fields().forEachRemaining(e -> {
      if (!e.getValue().isNull()) {
        out.put(e.getKey(), scalar(e.getKey(), e.getValue()));
      }
    });
    return out;
  }

  private static String scalar(String field, JsonNode v) {
    if (!v.isValueNode()) {
      throw LlmException.invalidRequest("config." + field + " must be a string, number or boolean", "config." + field);
    }
    return v.asText();
  }

  private static List<String> models(JsonNode node) {
    List<String> out = new ArrayList<>();
    if (node == null || node.isNull()) {
      return out;
    }
    if (!node.isArray() || node.size() > 1000) {
      throw LlmException.invalidRequest("models must be an array of at most 1000 model ids", "models");
    }
    for (JsonNode m : node) {
      if (!m.isTextual() || m.asText().isBlank() || m.asText().length() > 256) {
        throw LlmException.invalidRequest("models must hold model ids (non-empty strings of at most 256 characters)",
            "models");
      }
      if (!out.contains(m.asText().trim())) {
        out.add(m.asText().trim());
      }
    }
    return out;
  }

  private static String string(JsonNode body, String field) {
    JsonNode v = body == null ? null : body.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isTextual()) {
      throw LlmException.invalidRequest(field + " must be a string", field);
    }
    return v.asText().trim();
  }

  private void requireJournal() {
    if (directory == null) {
      throw new LlmException(ErrorKind.OVERLOADED, "runtime providers are kept in the journal, which is off "
          + "(pekko-llm.recovery.enabled = off): turn it on to add providers at runtime");
    }
  }

  private CompletionStage<StoredProvider> stored(String id) {
    try {
      requireJournal();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    return all().thenApply(l -> l.stream().filter(p -> p.id().equals(id)).findFirst()
        .orElseThrow(() -> notFound(id)));
  }

  private CompletionStage<List<StoredProvider>> all() {
    return this.<ProviderDirectory.All>ask(ProviderDirectory.GetAll::new).thenApply(ProviderDirectory.All::providers);
  }

  private StoredProvider checked(ProviderDirectory.Reply reply) {
    if (reply.error() == null) {
      return reply.provider();
    }
    throw reply.notFound() ? new LlmException(ErrorKind.NOT_FOUND, reply.error(), null, false, "id")
        : new LlmException(ErrorKind.CONFLICT, reply.error(), null, false, "name");
  }

  private static LlmException notFound(String id) {
    return new LlmException(ErrorKind.NOT_FOUND, "no provider '" + id + "'", null, false, "id");
  }

  private <R> CompletionStage<R> ask(java.util.function.Function<org.apache.pekko.actor.typed.ActorRef<R>,
      ProviderDirectory.Command> command) {
    return directory.ask("runtime-providers", command, settings.askTimeout());
  }
}
