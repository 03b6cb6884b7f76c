package io.pekkollm.provider.bedrock;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.model.ChatChunk;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.EmbeddingRequest;
import io.pekkollm.model.EmbeddingResponse;
import io.pekkollm.model.ErrorKind;
import io.pekkollm.model.LlmException;
import io.pekkollm.model.ModelInfo;
import io.pekkollm.provider.ErrorClassifier;
import io.pekkollm.stream.Framing;
import io.pekkollm.provider.HttpChatProvider;
import io.pekkollm.provider.ProviderSettings;
import io.pekkollm.provider.StreamDecoder;
import io.pekkollm.util.Json;
import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.model.headers.RawRequestURI;

/**
 * AWS Bedrock through the Converse API: {@code POST /model/{modelId}/converse-stream} (binary
 * {@code application/vnd.amazon.eventstream} responses, both CRCs checked, exception messages mid-stream) and
 * {@code POST /model/{modelId}/converse}; models from the control plane's {@code GET /foundation-models}.
 *
 * <p>Requests are signed with SigV4 (service {@code bedrock}) from the standard variables
 * {@code AWS_ACCESS_KEY_ID}, {@code AWS_SECRET_ACCESS_KEY}, {@code AWS_SESSION_TOKEN} and {@code AWS_REGION}
 * (see reference.conf); the signature is computed when a call starts, so it is always fresh. Errors are named
 * by the {@code x-amzn-ErrorType} header ({@code ThrottlingException} 429, {@code ValidationException} 400,
 * ...), with {@code {"message": ...}} bodies. Thread-safe; the secret key is never logged.
 */
public final class BedrockProvider extends HttpChatProvider {
  private final String runtimeBase;
  private final String controlBase;
  private final SigV4Signer signer;

  public BedrockProvider(ProviderSettings settings, ActorSystem<?> system) {
    this(settings, system, Clock.systemUTC());
  }

  BedrockProvider(ProviderSettings settings, ActorSystem<?> system, Clock signingClock) {
    super(settings, system);
    var config = settings.config();
    String region = config.getString("region").trim();
    this.runtimeBase = withRegion(settings.baseUrl(), region);
    this.controlBase = withRegion(config.getString("control-base-url"), region);
    String accessKeyId = config.getString("access-key-id").trim();
    String secret = settings.apiKey();
    this.signer = accessKeyId.isEmpty() || secret.isEmpty() ? null
        : new SigV4Signer(accessKeyId, secret, config.getString("session-token").trim(), region,
            config.getString("signing-name"), signingClock);
  }

  private static String withRegion(String url, String region) {
    String u = url.trim().replace("{region}", region);
    return u.endsWith("/") ? u.substring(0, u.length() - 1) : u;
  }

  @Override
  protected Framing framing() {
    return Framing.AWS_EVENT_STREAM;
  }

  @Override
  protected HttpRequest toHttpRequest(ChatRequest request, boolean streaming) {
    byte[] body = Json.writeBytes(BedrockMapper.toRequest(request));
    String path = "/model/" + BedrockMapper.encodeSegment(request.model())
        + (streaming ? "/converse-stream" : "/converse");
    return signed("POST", runtimeBase + path, body);
  }

  /**
   * A signed request for {@code url} (path and query already percent-encoded). The request target is sent
   * verbatim (Raw-Request-URI): Pekko would otherwise re-render the path and send the {@code :} of a model id
   * unencoded, which no longer matches the signed canonical URI.
   */
  private HttpRequest signed(String method, String url, byte[] body) {
    if (signer == null) {
      throw new LlmException(ErrorKind.AUTHENTICATION, "provider '" + name() + "' has no AWS credentials: set "
          + "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary credentials)",
          null, false, null);
    }
    URI uri = URI.create(url);
    Map<String, String> signedHeaders = body == null ? Map.of() : Map.of("Content-Type", "application/json");
    Map<String, String> auth = signer.sign(method, uri, signedHeaders, body == null ? new byte[0] : body);
    String target = uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
    HttpRequest req = HttpRequest.create(url)
        .withMethod(method.equals("POST") ? HttpMethods.POST : HttpMethods.GET)
        .addHeader(RawRequestURI.create(target));
    for (Map.Entry<String, String> h : auth.entrySet()) {
      // Raw headers: a modelled Authorization header could be re-rendered and no longer match the signature.
      req = req.addHeader(RawHeader.create(h.getKey(), h.getValue()));
    }
    for (Map.Entry<String, String> h : settings.headers().entrySet()) {
      req = req.addHeader(RawHeader.create(h.getKey(), h.getValue()));
    }
    return body == null ? req : req.withEntity(ContentTypes.APPLICATION_JSON, body);
  }

  /**
   * {@code POST /model/{modelId}/invoke} with the model family's own body: Titan text embeddings take one
   * {@code inputText} a call, Cohere embed models up to 96 {@code texts}.
   */
  @Override
  public CompletionStage<EmbeddingResponse> embed(EmbeddingRequest request, Map<String, String> headers) {
    return embedWith(() -> signed("POST", runtimeBase + "/model/" + BedrockMapper.encodeSegment(request.model())
            + "/invoke", Json.writeBytes(BedrockMapper.embeddingBody(request))), headers,
        (root, body) -> BedrockMapper.readEmbeddings(name(), request, root, body));
  }

  @Override
  public int embeddingBatchSize(String model) {
    return BedrockMapper.isCohereEmbedding(model) ? Math.min(96, super.embeddingBatchSize(model)) : 1;
  }

  @Override
  protected StreamDecoder newDecoder(ChatRequest request) {
    return new Decoder(name());
  }

  @Override
  protected List<ChatChunk> parseBody(String body) {
    try {
      ChatChunk chunk = BedrockMapper.readResponse(Json.parse(body));
      return chunk.isEmpty() ? List.of() : List.of(chunk);
    } catch (IOException e) {
      throw ErrorClassifier.malformed(name(), "response body is not JSON: " + e.getMessage(), body, e);
    }
  }

  /**
   * AWS names the error in {@code x-amzn-ErrorType} ({@code ThrottlingException:http://internal.amazon.com/...};
   * the part before the colon), or in a {@code __type} body field ({@code ...#ThrottlingException}) on some
   * paths. The message is {@code message} (or {@code Message}).
   */
  @Override
  protected ErrorClassifier.ErrorDetails errorDetails(int status, Map<String, String> headers, String body) {
    ErrorClassifier.ErrorDetails common = ErrorClassifier.parseCommonBody(body);
    String message = common.message();
    String type = headers.get("x-amzn-errortype");
    try {
      JsonNode root = body == null || body.isBlank() ? null : Json.parse(body);
      if (root != null && root.isObject()) {
        message = message != null ? message : Json.text(root, "Message");
        String bodyType = Json.text(root, "__type");
        if (type == null && bodyType != null) {
          type = bodyType.substring(bodyType.lastIndexOf('#') + 1);
        }
      }
    } catch (IOException notJson) {
      // keep what parseCommonBody found (the first line of the body)
    }
    if (type != null && type.indexOf(':') > 0) {
      type = type.substring(0, type.indexOf(':'));
    }
    return new ErrorClassifier.ErrorDetails(message, type != null ? type : common.type(), common.code(), null);
  }

  @Override
  public CompletionStage<List<ModelInfo>> listModels() {
    HttpRequest req;
    try {
      req = signed("GET", controlBase + "/foundation-models?byOutputModality=TEXT", null);
    } catch (LlmException e) {
      return CompletableFuture.failedFuture(e);
    }
    return getJson(req).thenApply(root -> BedrockMapper.readModels(name(), root));
  }

  /**
   * One event-stream message per frame. Exception messages ({@code throttlingException},
   * {@code modelStreamErrorException}, ...; every AWS exception name ends in {@code Exception}) and protocol
   * errors fail the stream; {@code messageStop} ends the answer.
   */
  private static final class Decoder implements StreamDecoder {
    private final String provider;
    private final BedrockMapper.StreamReader reader = new BedrockMapper.StreamReader();

    Decoder(String provider) {
      this.provider = provider;
    }

    @Override
    public List<ChatChunk> onFrame(String eventType, String data) {
      if (eventType == null) {
        return List.of();
      }
      if (eventType.equals("error") || eventType.endsWith("Exception")) {
        ErrorClassifier.ErrorDetails d = ErrorClassifier.parseCommonBody(data);
        String type = eventType.equals("error") && d.code() != null ? d.code() : eventType;
        throw ErrorClassifier.midStream(provider, new ErrorClassifier.ErrorDetails(d.message(), type, null, null),
            data);
      }
      JsonNode event;
      try {
        event = Json.parse(data);
      } catch (IOException e) {
        throw ErrorClassifier.malformed(provider, "event " + eventType + " is not JSON: " + e.getMessage(), data, e);
      }
      ChatChunk chunk = reader.read(eventType, event);
      return chunk == null || chunk.isEmpty() ? List.of() : List.of(chunk);
    }

    @Override
    public boolean isComplete() {
      return reader.isStopped();
    }
  }
}
