package io.pekkollm.tracing;

import io.opentelemetry.api.common.AttributeKey;
import java.util.List;

/**
 * The attribute keys of the spans: OpenTelemetry's GenAI semantic conventions
 * (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-spans/), the HTTP and server ones, and ours under
 * {@code pekko_llm.}. Made once: a key is an object.
 */
final class GenAi {
  private GenAi() {}

  static final AttributeKey<String> OPERATION = AttributeKey.stringKey("gen_ai.operation.name");
  static final AttributeKey<String> SYSTEM = AttributeKey.stringKey("gen_ai.system");
  static final AttributeKey<String> REQUEST_MODEL = AttributeKey.stringKey("gen_ai.request.model");
  static final AttributeKey<String> RESPONSE_MODEL = AttributeKey.stringKey("gen_ai.response.model");
  static final AttributeKey<Long> INPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.input_tokens");
  static final AttributeKey<Long> OUTPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.output_tokens");
  static final AttributeKey<List<String>> FINISH_REASONS = AttributeKey.stringArrayKey("gen_ai.response.finish_reasons");
  static final AttributeKey<String> SERVER_ADDRESS = AttributeKey.stringKey("server.address");
  static final AttributeKey<Long> SERVER_PORT = AttributeKey.longKey("server.port");
  static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");

  static final AttributeKey<String> HTTP_METHOD = AttributeKey.stringKey("http.request.method");
  static final AttributeKey<String> HTTP_ROUTE = AttributeKey.stringKey("http.route");
  static final AttributeKey<String> URL_PATH = AttributeKey.stringKey("url.path");
  static final AttributeKey<Long> HTTP_STATUS = AttributeKey.longKey("http.response.status_code");

  static final AttributeKey<String> PROVIDER = AttributeKey.stringKey("pekko_llm.provider");
  static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("pekko_llm.attempt");
  static final AttributeKey<String> RECOVERY_ID = AttributeKey.stringKey("pekko_llm.recovery_id");
  static final AttributeKey<String> CACHE_STATUS = AttributeKey.stringKey("pekko_llm.cache_status");
  static final AttributeKey<Double> COST = AttributeKey.doubleKey("pekko_llm.cost_usd");
  static final AttributeKey<String> KEY_ID = AttributeKey.stringKey("pekko_llm.key_id");
  static final AttributeKey<String> SERVED_MODEL = AttributeKey.stringKey("pekko_llm.served_model");
  static final AttributeKey<Long> JOURNAL_WRITE = AttributeKey.longKey("pekko_llm.journal.write");
  static final AttributeKey<Long> JOURNAL_CHUNKS = AttributeKey.longKey("pekko_llm.journal.chunks");
}
