package io.pekkollm.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.pattern.Patterns;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * A fast OpenAI-compatible upstream for the benchmarks: {@code POST /v1/chat/completions} answers at once (or
 * after a set latency) with a fixed completion, or streams N chunks with a set gap; {@code POST /v1/embeddings}
 * answers one fixed vector per input; anything else answers {@code 200 {"status":"ok"}}. What to do is read from
 * the model name, so the same request works direct and through the gateway ({@code openai/<model>}): {@code bench-n100-g20-l0} streams 100 content chunks 20 ms
 * apart after 0 ms; missing parts take the command-line defaults. Streams end with a finish chunk, a usage
 * chunk when {@code stream_options.include_usage} is set, and {@code data: [DONE]}, as OpenAI's API does.
 *
 * <p>Usage: {@code FakeUpstream PORT [defaultChunks] [defaultGapMs]}. Its own ActorSystem with a 1 ms
 * scheduler tick, so chunk gaps are not rounded to Pekko's default 10 ms.
 */
public final class FakeUpstream {
  private static final JsonFactory JSON = new JsonFactory();
  private static final String COMPLETION = """
      {"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"%s","choices":[{"index":0,\
      "message":{"role":"assistant","content":"Hello! This is the benchmark upstream answering.","refusal":null},\
      "logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"completion_tokens":9,"total_tokens":21,\
      "prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}}""";

  private final int defaultChunks;
  private final long defaultGapMs;
  private final ConcurrentHashMap<String, ByteString> completions = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, List<ByteString>> streams = new ConcurrentHashMap<>();
  private final ActorSystem<Void> system;
  private final Materializer mat;

  /** What a model name asks for. */
  /** {@code roleFirst}: a role-only chunk at once, then the content chunks, the first of them after the gap too. */
  record Shape(int chunks, long gapMs, long latencyMs, boolean roleFirst) {
    Shape(int chunks, long gapMs, long latencyMs) {
      this(chunks, gapMs, latencyMs, false);
    }
  }

  private FakeUpstream(ActorSystem<Void> system, int defaultChunks, long defaultGapMs) {
    this.system = system;
    this.mat = Materializer.matFromSystem(system);
    this.defaultChunks = defaultChunks;
    this.defaultGapMs = defaultGapMs;
  }

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    int chunks = args.length > 1 ? Integer.parseInt(args[1]) : 100;
    long gap = args.length > 2 ? Long.parseLong(args[2]) : 0;
    var config = ConfigFactory.parseString("""
        pekko.loglevel = WARNING
        pekko.scheduler.tick-duration = 1ms
        pekko.http.server.max-connections = 60000
        pekko.http.server.backlog = 4096
        pekko.http.server.idle-timeout = 30 min
        pekko.http.server.request-timeout = 30 min
        pekko.http.server.parsing.max-content-length = 64m
        """).withFallback(ConfigFactory.load());
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "fake-upstream", config);
    FakeUpstream upstream = new FakeUpstream(system, chunks, gap);
    Http.get(system).newServerAt("127.0.0.1", port).bind(upstream::handle).toCompletableFuture().get();
    System.out.println("fake upstream listening on http://127.0.0.1:" + port);
    System.out.flush();
    system.getWhenTerminated().toCompletableFuture().join();
  }

  private CompletionStage<HttpResponse> handle(HttpRequest req) {
    if (req.method() == HttpMethods.POST && req.getUri().path().endsWith("/embeddings")) {
      return req.entity().toStrict(10_000, mat).thenApply(strict -> embeddings(strict.getData()));
    }
    if (req.method() != HttpMethods.POST || !req.getUri().path().endsWith("/chat/completions")) {
      req.discardEntityBytes(mat);
      return CompletableFuture.completedFuture(HttpResponse.create()
          .withEntity(ContentTypes.APPLICATION_JSON, "{\"status\":\"ok\"}"));
    }
    // An explicit (direct) executor: Pekko's CompletionStages run plain callbacks on the common pool, which on a
    // 2-CPU machine means a new thread per callback.
    return req.entity().toStrict(10_000, mat).thenComposeAsync(strict -> {
      Request r;
      try {
        r = Request.parse(strict.getData().toArray());
      } catch (IOException e) {
        return CompletableFuture.completedFuture(HttpResponse.create().withStatus(StatusCodes.BAD_REQUEST)
            .withEntity(ContentTypes.APPLICATION_JSON, "{\"error\":{\"message\":\"bad json\",\"type\":\"invalid_request_error\"}}"));
      }
      Shape shape = shape(r.model);
      HttpResponse resp = r.stream ? streamed(r, shape) : HttpResponse.create().withEntity(
          HttpEntities.create(ContentTypes.APPLICATION_JSON,
              completions.computeIfAbsent(r.model, m -> ByteString.fromString(COMPLETION.formatted(m)))));
      if (shape.latencyMs() <= 0) {
        return CompletableFuture.completedFuture(resp);
      }
      return Patterns.after(Duration.ofMillis(shape.latencyMs()), system.classicSystem().scheduler(),
          system.executionContext(), () -> CompletableFuture.completedFuture(resp));
    }, Runnable::run);
  }

  private HttpResponse streamed(Request r, Shape shape) {
    List<ByteString> events = streams.computeIfAbsent(r.model + "|" + shape.chunks(), k -> events(r.model, shape.chunks()));
    List<ByteString> body = new ArrayList<>(events.size() + 3);
    if (shape.roleFirst()) {
      // As OpenAI and most compatible servers do: the role alone as soon as the request is accepted.
      body.add(ByteString.fromString("data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\","
          + "\"created\":1700000000,\"model\":\"" + r.model + "\",\"system_fingerprint\":\"fp_bench\",\"choices\":[{"
          + "\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,"
          + "\"finish_reason\":null}]}\n\n"));
    }
    body.addAll(events);
    if (r.includeUsage) {
      body.add(ByteString.fromString("data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\","
          + "\"created\":1700000000,\"model\":\"" + r.model + "\",\"choices\":[],\"usage\":{\"prompt_tokens\":12,"
          + "\"completion_tokens\":" + shape.chunks() + ",\"total_tokens\":" + (12 + shape.chunks()) + "}}\n\n"));
    }
    body.add(ByteString.fromString("data: [DONE]\n\n"));
    Source<ByteString, ?> source;
    if (shape.gapMs() <= 0) {
      source = Source.from(body);
    } else {
      // The first content chunk goes at once; each later one waits the gap. The trailer follows the last chunk.
      int n = events.size() + (shape.roleFirst() ? 1 : 0);
      source = Source.from(body.subList(0, 1))
          .concat(Source.from(body.subList(1, n)).throttle(1, Duration.ofMillis(shape.gapMs())))
          .concat(Source.from(body.subList(n, body.size())));
    }
    return HttpResponse.create().withEntity(HttpEntities.create(MediaTypes.TEXT_EVENT_STREAM.toContentType(), source));
  }

  /**
   * {@code POST /v1/embeddings}: one fixed 256-dimension vector per input (a string or an array of strings), as
   * OpenAI answers, with 4 prompt tokens per input.
   */
  private HttpResponse embeddings(ByteString body) {
    int inputs;
    try (JsonParser p = JSON.createParser(body.toArray())) {
      inputs = 1;
      if (p.nextToken() == JsonToken.START_OBJECT) {
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String f = p.currentName();
          JsonToken t = p.nextToken();
          if (f.equals("input") && t == JsonToken.START_ARRAY) {
            inputs = 0;
            while (p.nextToken() != JsonToken.END_ARRAY) {
              inputs++;
              p.skipChildren();
            }
          } else {
            p.skipChildren();
          }
        }
      }
    } catch (IOException e) {
      return HttpResponse.create().withStatus(StatusCodes.BAD_REQUEST)
          .withEntity(ContentTypes.APPLICATION_JSON, "{\"error\":{\"message\":\"bad json\",\"type\":\"invalid_request_error\"}}");
    }
    StringBuilder sb = new StringBuilder(inputs * 2200 + 200).append("{\"object\":\"list\",\"data\":[");
    for (int i = 0; i < inputs; i++) {
      sb.append(i == 0 ? "" : ",").append("{\"object\":\"embedding\",\"index\":").append(i).append(",\"embedding\":")
          .append(VECTOR).append('}');
    }
    sb.append("],\"model\":\"text-embedding-3-small\",\"usage\":{\"prompt_tokens\":").append(4 * inputs)
        .append(",\"total_tokens\":").append(4 * inputs).append("}}");
    return HttpResponse.create().withEntity(ContentTypes.APPLICATION_JSON, sb.toString());
  }

  private static final String VECTOR;

  static {
    StringBuilder v = new StringBuilder("[");
    for (int i = 0; i < 256; i++) {
      v.append(i == 0 ? "" : ",").append(String.format(java.util.Locale.ROOT, "%.6f", Math.sin(i) / 16));
    }
    VECTOR = v.append(']').toString();
  }

  /** The content chunks and the finish chunk of a stream. */
  private static List<ByteString> events(String model, int chunks) {
    List<ByteString> out = new ArrayList<>(chunks + 1);
    String head = "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
        + "\"model\":\"" + model + "\",\"system_fingerprint\":\"fp_bench\",\"choices\":[{\"index\":0,\"delta\":{";
    for (int i = 0; i < chunks; i++) {
      String role = i == 0 ? "\"role\":\"assistant\"," : "";
      out.add(ByteString.fromString(head + role + "\"content\":\"tok" + i + " \"},\"logprobs\":null,\"finish_reason\":null}]}\n\n"));
    }
    out.add(ByteString.fromString(head + "},\"logprobs\":null,\"finish_reason\":\"stop\"}]}\n\n"));
    return out;
  }

  Shape shape(String model) {
    int chunks = defaultChunks;
    long gap = defaultGapMs;
    long latency = 0;
    boolean roleFirst = false;
    String name = model.contains("/") ? model.substring(model.lastIndexOf('/') + 1) : model;
    for (String part : name.split("-")) {
      if (part.length() < 2) {
        continue;
      }
      try {
        switch (part.charAt(0)) {
          case 'n' -> chunks = Integer.parseInt(part.substring(1));
          case 'g' -> gap = Long.parseLong(part.substring(1));
          case 'l' -> latency = Long.parseLong(part.substring(1));
          case 'r' -> roleFirst = Integer.parseInt(part.substring(1)) > 0;
          default -> { }
        }
      } catch (NumberFormatException notAParameter) {
        // "bench" and other words are names, not parameters.
      }
    }
    return new Shape(Math.max(1, chunks), gap, latency, roleFirst);
  }

  /** The three request fields the upstream cares about, read with Jackson's streaming parser. */
  private record Request(String model, boolean stream, boolean includeUsage) {
    static Request parse(byte[] body) throws IOException {
      String model = "bench";
      boolean stream = false;
      boolean usage = false;
      try (JsonParser p = JSON.createParser(body)) {
        if (p.nextToken() != JsonToken.START_OBJECT) {
          throw new IOException("not an object");
        }
        while (p.nextToken() == JsonToken.FIELD_NAME) {
          String f = p.currentName();
          JsonToken t = p.nextToken();
          switch (f) {
            case "model" -> model = p.getText();
            case "stream" -> stream = t == JsonToken.VALUE_TRUE;
            case "stream_options" -> {
              if (t == JsonToken.START_OBJECT) {
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                  String g = p.currentName();
                  JsonToken v = p.nextToken();
                  if (g.equals("include_usage")) {
                    usage = v == JsonToken.VALUE_TRUE;
                  } else {
                    p.skipChildren();
                  }
                }
              }
            }
            default -> p.skipChildren();
          }
        }
      }
      return new Request(model, stream, usage);
    }
  }
}
