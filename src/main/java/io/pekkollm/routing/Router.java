package io.pekkollm.routing;

import io.pekkollm.cache.CacheKeys;
import io.pekkollm.catalog.ContextFit;
import io.pekkollm.catalog.ContextGuard;
import io.pekkollm.catalog.ModelCatalog;
import io.pekkollm.metrics.LlmMetrics;
import io.pekkollm.model.CacheOptions;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.EmbeddingRequest;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.TruncationReport;
import io.pekkollm.provider.ProviderActor;
import io.pekkollm.provider.ProviderLoad;
import io.pekkollm.provider.ProviderRegistry;
import io.pekkollm.provider.ProviderSettings;
import io.pekkollm.resilience.ModelGroup;
import io.pekkollm.resilience.RoutingSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * Turns a caller's request into a {@link Plan}: resolves {@code provider/model} ids and model groups to
 * provider actors, fits the request to each model's context window ({@link ContextGuard}; truncating only when
 * asked), keys it for the response cache, and orders a group's members per call by the group's strategy.
 * Immutable and thread-safe; cheap on the hot path (map reads and a character count, tokenizing only near the
 * window).
 */
public final class Router {
  private final ProviderRegistry providers;
  private final RoutingSettings routing;
  private final ModelCatalog catalog;
  private final ContextGuard contextGuard;
  private final Function<CacheOptions, Duration> cacheTtl;
  private final LlmMetrics metrics;

  /**
   * {@code contextGuard} null: no context-window check. {@code cacheTtl} gives the response-cache TTL of a
   * request's cache options, null when the request does not use the cache.
   */
  public Router(ProviderRegistry providers, RoutingSettings routing, ModelCatalog catalog, ContextGuard contextGuard,
      Function<CacheOptions, Duration> cacheTtl, LlmMetrics metrics) {
    this.providers = providers;
    this.routing = routing;
    this.catalog = catalog;
    this.contextGuard = contextGuard;
    this.cacheTtl = cacheTtl;
    this.metrics = metrics;
    checkGroups();
  }

  /** Fails for a group naming a provider that is not configured: a typo should not wait for traffic. */
  private void checkGroups() {
    for (ModelGroup g : routing.groups().values()) {
      for (String m : g.models()) {
        String provider = m.substring(0, m.indexOf('/'));
        if (providers.settings(provider) == null) {
          throw new IllegalArgumentException("pekko-llm.routing.groups." + g.name() + " lists '" + m
              + "', but provider '" + provider + "' is not configured; configured providers: "
              + String.join(", ", providers.names()));
        }
      }
    }
  }

  /** The configured model groups. */
  public RoutingSettings routing() {
    return routing;
  }

  /** The group {@code model} names (a name without {@code /}); null when it names none. */
  public ModelGroup groupOf(String model) {
    return model != null && model.indexOf('/') < 0 ? routing.group(model).orElse(null) : null;
  }

  /** Fails with MODEL_NOT_FOUND (or INVALID_REQUEST) unless {@code model} names a group or a configured provider. */
  public void check(String model) {
    if (groupOf(model) == null) {
      resolve(model);
    }
  }

  /**
   * The model a caller's id names, for the ingress formats that take a provider's own model ids: a
   * {@code provider/model} id or a group name as it is; a configured alias ({@code pekko-llm.routing.model-aliases})
   * as its target; any other bare id ({@code claude-sonnet-4-5}, {@code gpt-4o-mini}) as the {@code provider/model}
   * of the one enabled provider whose catalog lists it (by id or alias). Fails with MODEL_NOT_FOUND when no enabled
   * provider lists it, or when several do (an alias then says which).
   */
  public String canonical(String model) {
    if (model == null || model.isBlank() || model.indexOf('/') >= 0 || groupOf(model) != null) {
      return model;
    }
    String alias = routing.modelAliases().get(model);
    if (alias != null) {
      return alias;
    }
    List<String> found = new ArrayList<>(1);
    for (String provider : providers.enabledNames()) {
      catalog.find(provider, model).ifPresent(e -> found.add(e.id()));
    }
    if (found.size() == 1) {
      return found.get(0);
    }
    if (found.isEmpty()) {
      throw new LlmException(ErrorKind.MODEL_NOT_FOUND, "model '" + model + "' is not a provider/model id, a group "
          + "or an alias, and the catalog of no enabled provider (" + String.join(", ", providers.enabledNames())
          + ") lists it; send provider/model, e.g. anthropic/" + model + ", or add pekko-llm.routing.model-aliases",
          null, false, "model");
    }
    throw new LlmException(ErrorKind.MODEL_NOT_FOUND, "model '" + model + "' is ambiguous: " + String.join(", ", found)
        + " list it; send one of those ids, or add pekko-llm.routing.model-aliases", null, false, "model");
  }

  /** The route of a {@code provider/model} id; fails with MODEL_NOT_FOUND for an unknown provider or a bad id. */
  public Route resolve(String model) {
    if (model == null || model.isBlank()) {
      throw LlmException.invalidRequest("'model' is required: use provider/model, e.g. mock/echo", "model");
    }
    int slash = model.indexOf('/');
    if (slash <= 0 || slash == model.length() - 1) {
      String groups = routing.groups().isEmpty() ? ""
          : "; or a model group: " + String.join(", ", routing.groups().keySet().stream().sorted().toList());
      throw new LlmException(ErrorKind.MODEL_NOT_FOUND, "model '" + model
          + "' must be named provider/model, e.g. openai/gpt-4o-mini or mock/echo; providers: "
          + String.join(", ", providers.names()) + groups, null, false, "model");
    }
    String provider = model.substring(0, slash);
    ActorRef<ProviderActor.Command> ref = providers.actor(provider);
    if (ref == null) {
      throw new LlmException(ErrorKind.MODEL_NOT_FOUND, "unknown provider '" + provider + "' in model '" + model
          + "'; configured providers: " + String.join(", ", providers.names()), null, false, "model");
    }
    return new Route(provider, model.substring(slash + 1), ref);
  }

  /**
   * Resolves the provider (or the group's models) and fits the request to each model's context window. Fails
   * with the {@link LlmException} the caller gets (unknown model, too long for every model, no enabled member).
   */
  public Plan plan(ChatRequest request) {
    ModelGroup group = groupOf(request.model());
    if (group == null) {
      Route route = resolve(request.model());
      LlmException refused = imageProblem(request, route);
      if (refused != null) {
        throw refused;
      }
      Candidate only = candidate(request, request.model(), route, true);
      Duration ttl = cacheTtl.apply(request.cache());
      // Keyed by what is sent (after truncation) to which provider/model: requests that send the same share it.
      String key = ttl == null ? null : CacheKeys.of(only.upstream().withModel(only.id()));
      return new Plan(request, null, List.of(only), key, ttl);
    }
    List<Candidate> fits = new ArrayList<>(group.models().size());
    LlmException tooLong = null;
    LlmException refused = null;
    String firstEnabled = null;
    for (String id : group.models()) {
      Route route = resolve(id);
      if (!providers.settings(route.provider()).enabled()) {
        continue;
      }
      LlmException problem = imageProblem(request, route);
      if (problem != null) {
        // Another member's provider may take the images (Bedrock's 3.75 MB is not OpenAI's 20 MB).
        refused = refused == null ? problem : refused;
        metrics.fellBack(group.name(), id, "image_limits");
        continue;
      }
      firstEnabled = firstEnabled == null ? id : firstEnabled;
      try {
        // Truncation is the last resort: first look for a member whose window holds the whole request.
        fits.add(candidate(request, id, route, false));
      } catch (LlmException e) {
        if (e.kind() != ErrorKind.CONTEXT_LENGTH_EXCEEDED) {
          throw e;
        }
        tooLong = e;
        metrics.fellBack(group.name(), id, "context_window");
      }
    }
    if (fits.isEmpty()) {
      if (firstEnabled == null && refused != null) {
        throw refused;
      }
      if (firstEnabled == null) {
        throw new LlmException(ErrorKind.AUTHENTICATION, "no model of group '" + group.name()
            + "' has an enabled provider: " + String.join(", ", group.models()), null, false, "model");
      }
      if (request.truncation() == null) {
        throw new LlmException(ErrorKind.CONTEXT_LENGTH_EXCEEDED, "the request fits the context window of no model "
            + "of group '" + group.name() + "' (" + String.join(", ", group.models()) + "); the last said: "
            + tooLong.getMessage(), tooLong, false, "messages");
      }
      fits.add(candidate(request, firstEnabled, resolve(firstEnabled), true));
    }
    return new Plan(request, group, List.copyOf(fits), null, null);
  }

  /** Why {@code route}'s provider would refuse the request's images, or null. */
  private LlmException imageProblem(ChatRequest request, Route route) {
    return providers.settings(route.provider()).images().problem(request, route.provider());
  }

  /**
   * The plan of an embedding call: the model or the group's enabled members, in configured order, each a
   * candidate whose chat request is empty (only its model and the caller's retry budget count; embeddings are
   * not fitted to a context window, the provider judges their length), with its response-cache key and TTL as for
   * chat calls. Fails like {@link #plan(ChatRequest)}.
   */
  public Plan plan(EmbeddingRequest request) {
    ChatRequest call = ChatRequest.builder(request.model()).retry(request.retry()).build();
    ModelGroup group = groupOf(request.model());
    List<String> ids = group == null ? List.of(request.model()) : group.models();
    List<Candidate> candidates = new ArrayList<>(ids.size());
    for (String id : ids) {
      Route route = resolve(id);
      if (group == null || providers.settings(route.provider()).enabled()) {
        candidates.add(new Candidate(id, route, ChatRequest.builder(route.model()).build(), null));
      }
    }
    if (candidates.isEmpty()) {
      throw new LlmException(ErrorKind.AUTHENTICATION, "no model of group '" + group.name()
          + "' has an enabled provider: " + String.join(", ", group.models()), null, false, "model");
    }
    // Keyed by what is sent to which provider/model, as chat calls; calls to a group are not cached, as chat calls.
    Duration ttl = group == null ? cacheTtl.apply(request.cache()) : null;
    String key = ttl == null ? null : CacheKeys.of(request.withModel(candidates.get(0).id()));
    return new Plan(call, group, List.copyOf(candidates), key, ttl);
  }

  private Candidate candidate(ChatRequest request, String id, Route route, boolean mayTruncate) {
    ChatRequest toSend = id.equals(request.model()) ? request : request.withModel(id);
    TruncationReport truncation = null;
    if (contextGuard != null) {
      ContextFit fit = contextGuard.fit(mayTruncate || toSend.truncation() == null ? toSend
          : toSend.withTruncation(null));
      toSend = fit.request();
      truncation = fit.truncation().orElse(null);
    }
    // The truncation, retry and cache options are the client's business; the provider gets a copy without them.
    ChatRequest upstream = toSend.truncation() == null && toSend.retry() == null && toSend.cache() == null
        ? toSend.withModel(route.model())
        : toSend.toBuilder().model(route.model()).truncation(null).retry(null).cache(null).build();
    return new Candidate(id, route, upstream, truncation);
  }

  /** The plan's models in the order its group's strategy gives now; models with an open breaker go last. */
  public List<Candidate> order(Plan plan) {
    List<Candidate> c = plan.candidates();
    if (c.size() == 1) {
      return c;
    }
    List<Candidate> out = new ArrayList<>(c);
    switch (plan.group().strategy()) {
      case LEAST_LATENCY -> out.sort(Comparator.comparingDouble(p -> load(p).ttftEwmaMillis() > 0
          ? load(p).ttftEwmaMillis() : load(p).latencyEwmaMillis()));
      case LEAST_BUSY -> out.sort(Comparator.comparingInt(p -> load(p).inFlight() + load(p).queued()));
      case LOWEST_COST -> out.sort(Comparator.comparing(p -> catalog.find(p.id())
          .flatMap(e -> e.pricing().blended()).orElse(null), Comparator.nullsLast(Comparator.naturalOrder())));
      case ORDERED -> { }
    }
    out.sort(Comparator.comparingInt(p -> load(p).breakerState() == ProviderLoad.OPEN ? 1 : 0));
    return out;
  }

  private ProviderLoad load(Candidate p) {
    return providers.load(p.route().provider());
  }

  /** The settings of the provider {@code candidate} goes to. */
  ProviderSettings settings(Candidate candidate) {
    return providers.settings(candidate.route().provider());
  }
}
