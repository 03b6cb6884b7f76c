package io.pekkollm.catalog;

import com.fasterxml.jackson.databind.JsonNode;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;
import io.pekkollm.model.ChatRequest;
import io.pekkollm.model.ContentPart;
import io.pekkollm.model.Message;
import io.pekkollm.model.ResponseFormat;
import io.pekkollm.model.ToolCall;
import io.pekkollm.model.ToolDefinition;
import java.util.List;
import java.util.Map;

/**
 * Counts the input tokens of a request for its model ({@code provider/model}).
 *
 * <p><b>OpenAI models</b> ({@code openai/...}, and {@code openrouter/openai/...}) are counted with their own
 * tokenizer via jtokkit: {@code o200k_base} for GPT-4o, GPT-4.1, GPT-4.5, GPT-5 and the o-series,
 * {@code cl100k_base} for GPT-4 and GPT-3.5 (and, as an estimate, for OpenAI models this version does not
 * recognise), in the message format of OpenAI's cookbook ("How to count tokens with tiktoken"): each message
 * costs 3 tokens plus its role and content, a name 1 more plus its own tokens, and every reply is primed with 3.
 * That reproduces the API's counts (the cookbook's example conversation: 129 tokens for GPT-4, 124 for GPT-4o).
 *
 * <p>What OpenAI does not document is approximated, and the count is then reported as not exact:
 * <ul>
 *   <li>tool definitions: the cookbook's {@code num_tokens_for_tools} (per function 7 tokens on o200k models, 10
 *   on cl100k; {@code name:description}; per property 3 + {@code name:type:description}; enums; 12 at the end;
 *   3 more when there are properties). Nested schemas count the tokens of their JSON;</li>
 *   <li>tool calls in assistant messages (3 + name + arguments each) and tool results (as messages);</li>
 *   <li>images: {@link ImageTokens} (tile or patch formula per model; sizes read from inline image data);</li>
 *   <li>a JSON-schema {@code response_format}: the tokens of the schema's JSON;</li>
 *   <li>text with a run of more than {@value #RUN_CAP} letters, spaces or symbols (a pathological "word"), which
 *   is counted in pieces to keep counting linear.</li>
 * </ul>
 *
 * <p><b>Other providers</b> publish no tokenizer for Java (Anthropic, Gemini) or use their own (Llama, Mistral,
 * DeepSeek, ...). Their count is an estimate: the same message format counted with {@code cl100k_base}, a
 * 100k-token BPE vocabulary of the same kind; images by Anthropic's or Gemini's documented formula.
 *
 * <p>Thread-safe; the encodings load on first use (about 5 MB, once per JVM).
 */
public final class TokenCounter {
  static final int REPLY_PRIMING = 3;
  private static final int PER_MESSAGE = 3;
  private static final int PER_NAME = 1;
  private static final TokenCounter SHARED = new TokenCounter();

  private TokenCounter() {}

  /** The one instance; it holds no state besides the shared encodings. */
  public static TokenCounter shared() {
    return SHARED;
  }

  /** Input tokens of {@code request} for its own model: messages, reply priming, tool definitions. */
  public TokenCount count(ChatRequest request) {
    return count(request.model(), request);
  }

  /** Input tokens of {@code request} if sent to {@code model} ({@code provider/model}). */
  public TokenCount count(String model, ChatRequest request) {
    ModelTokens mt = forModel(model);
    int n = REPLY_PRIMING + mt.tools(request.tools()) + mt.responseFormat(request.responseFormat());
    boolean exact = mt.exactText && request.tools().isEmpty() && !hasSchema(request.responseFormat());
    for (Message m : request.messages()) {
      n += mt.message(m);
      exact &= mt.exact(m);
    }
    return new TokenCount(n, exact, mt.encoding.getName());
  }

  /** Tokens of {@code messages} plus the reply priming, as sent to {@code model}. */
  public TokenCount countMessages(String model, List<Message> messages) {
    ModelTokens mt = forModel(model);
    int n = REPLY_PRIMING;
    boolean exact = mt.exactText;
    for (Message m : messages) {
      n += mt.message(m);
      exact &= mt.exact(m);
    }
    return new TokenCount(n, exact, mt.encoding.getName());
  }

  /** Tokens of plain text with {@code model}'s encoding (special tokens counted as ordinary text). */
  public int countText(String model, String text) {
    return forModel(model).text(text);
  }

  /** The encoding used for {@code model}: {@code o200k_base} or {@code cl100k_base}. */
  public String encodingName(String model) {
    return forModel(model).encoding.getName();
  }

  /** Whether text for {@code model} is counted with the model's own tokenizer. */
  public boolean isExact(String model) {
    return forModel(model).exactText;
  }

  private static boolean hasSchema(ResponseFormat rf) {
    return rf != null && rf.schema() != null;
  }

  // ------------------------------------------------------------------ per model

  /** How one model counts. Package-private for the context window's per-message arithmetic. */
  ModelTokens forModel(String model) {
    String provider = "";
    String name = model == null ? "" : model;
    int slash = name.indexOf('/');
    if (slash > 0) {
      provider = name.substring(0, slash);
      name = name.substring(slash + 1);
    }
    if (provider.equals("openrouter") && name.startsWith("openai/")) {
      provider = "openai";
      name = name.substring("openai/".length());
    }
    if (provider.equals("openai")) {
      return openAi(name.startsWith("ft:") ? name.substring(3) : name);
    }
    boolean anthropic = provider.equals("anthropic") || name.startsWith("anthropic/")
        || (provider.equals("bedrock") && name.contains("anthropic."));
    boolean gemini = provider.equals("gemini") || name.startsWith("google/gemini");
    ImageTokens images = anthropic ? new ImageTokens.Anthropic() : gemini ? new ImageTokens.Gemini()
        : new ImageTokens.Tiles(85, 170, false);
    return new ModelTokens(Encodings.CL100K, false, 10, images);
  }

  private static final String[] O200K_PREFIXES = {"gpt-4o", "chatgpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1",
      "o3", "o4", "codex-mini", "computer-use", "gpt-realtime", "gpt-audio", "omni-moderation"};
  private static final String[] CL100K_PREFIXES = {"gpt-4", "gpt-3.5", "text-embedding-", "davinci-002",
      "babbage-002"};

  private static ModelTokens openAi(String m) {
    for (String p : O200K_PREFIXES) {
      if (m.startsWith(p)) {
        return new ModelTokens(Encodings.O200K, true, 7, openAiImages(m));
      }
    }
    boolean known = false;
    for (String p : CL100K_PREFIXES) {
      known |= m.startsWith(p);
    }
    return new ModelTokens(Encodings.CL100K, known, 10, new ImageTokens.Tiles(85, 170, known));
  }

  /** The image formula of an OpenAI model (vision guide, "Calculating costs"). */
  private static ImageTokens openAiImages(String m) {
    if (m.startsWith("gpt-4o-mini")) {
      // GPT-4o mini bills images as many more tokens, so that they cost what they cost on GPT-4o.
      return new ImageTokens.Tiles(2833, 5667, true);
    }
    if (m.startsWith("gpt-4.1-mini") || m.startsWith("gpt-5-mini")) {
      return new ImageTokens.Patches(1.62);
    }
    if (m.startsWith("gpt-4.1-nano") || m.startsWith("gpt-5-nano")) {
      return new ImageTokens.Patches(2.46);
    }
    if (m.startsWith("o4-mini")) {
      return new ImageTokens.Patches(1.72);
    }
    if (m.startsWith("o1") || m.startsWith("o3")) {
      return new ImageTokens.Tiles(75, 150, false);
    }
    if (m.startsWith("gpt-5")) {
      return new ImageTokens.Tiles(70, 140, false);
    }
    if (m.startsWith("computer-use")) {
      return new ImageTokens.Tiles(65, 129, false);
    }
    boolean documented = m.startsWith("gpt-4o") || m.startsWith("chatgpt-4o") || m.startsWith("gpt-4.1")
        || m.startsWith("gpt-4.5");
    return new ImageTokens.Tiles(85, 170, documented);
  }

  /** The shared encodings, each loaded on first use. */
  private static final class Encodings {
    static final Encoding CL100K = Cl100k.E;
    static final Encoding O200K = O200k.E;

    private static final class Cl100k {
      static final Encoding E = com.knuddels.jtokkit.Encodings.newLazyEncodingRegistry()
          .getEncoding(EncodingType.CL100K_BASE);
    }

    private static final class O200k {
      static final Encoding E = com.knuddels.jtokkit.Encodings.newLazyEncodingRegistry()
          .getEncoding(EncodingType.O200K_BASE);
    }
  }

  /**
   * Longest run of characters of one kind that is tokenized whole. Byte-pair encoding splits text into pieces
   * (a word, a run of spaces, a run of symbols) and merges within each; jtokkit takes about a second per MB on
   * one long piece (a 7.8 MB "word" took 8 s and gigabytes) against ~45 MB/s on prose. Pieces of this length
   * cost a token or so more per cut (0.1% on random letters), and the count is then an estimate.
   */
  static final int RUN_CAP = 256;

  /**
   * Where {@link ModelTokens#text} cuts {@code s} next, scanning from {@code from}: the index at which a run
   * of letters, of whitespace or of other symbols (digits are split in threes by the encodings themselves and
   * never cut) reaches {@link #RUN_CAP} characters, never inside a surrogate pair; -1 when there is none.
   */
  static int nextCut(String s, int from) {
    if (s == null || s.length() - from <= RUN_CAP) {
      return -1;
    }
    int kind = -1;
    int runStart = from;
    for (int i = from; i < s.length(); ) {
      int cp = s.codePointAt(i);
      int k = Character.isLetter(cp) || Character.getType(cp) == Character.NON_SPACING_MARK
          || Character.getType(cp) == Character.COMBINING_SPACING_MARK ? 0
          : Character.isWhitespace(cp) ? 1 : Character.isDigit(cp) ? 2 : 3;
      if (k != kind) {
        kind = k;
        runStart = i;
      } else if (k != 2 && i - runStart >= RUN_CAP) {
        return i;
      }
      i += Character.charCount(cp);
    }
    return -1;
  }

  /** Counting rules of one model. Immutable. */
  static final class ModelTokens {
    private final Encoding encoding;
    private final boolean exactText;
    private final int functionInit;
    private final ImageTokens images;

    ModelTokens(Encoding encoding, boolean exactText, int functionInit, ImageTokens images) {
      this.encoding = encoding;
      this.exactText = exactText;
      this.functionInit = functionInit;
      this.images = images;
    }

    boolean exactText() {
      return exactText;
    }

    /**
     * Tokens of {@code s}; a run longer than {@value TokenCounter#RUN_CAP} characters of one kind (letters, whitespace, other
     * symbols) is counted in pieces of that length (see {@link #nextCut}).
     */
    int text(String s) {
      if (s == null || s.isEmpty()) {
        return 0;
      }
      int cut = nextCut(s, 0);
      if (cut < 0) {
        return encoding.countTokensOrdinary(s);
      }
      int n = 0;
      int from = 0;
      while (cut >= 0) {
        n += encoding.countTokensOrdinary(s.substring(from, cut));
        from = cut;
        cut = nextCut(s, from);
      }
      return n + encoding.countTokensOrdinary(s.substring(from));
    }

    /** One message in OpenAI's format: 3 + role + content (+ 1 + name). */
    int message(Message m) {
      int n = PER_MESSAGE + text(m.role());
      if (m instanceof Message.System s) {
        n += text(s.content());
      } else if (m instanceof Message.User u) {
        for (ContentPart p : u.content()) {
          if (p instanceof ContentPart.Text t) {
            n += text(t.text());
          } else if (p instanceof ContentPart.Image img) {
            n += images.tokens(ImageSize.of(img).orElse(null), img.detail());
          }
        }
        if (u.name() != null) {
          n += PER_NAME + text(u.name());
        }
      } else if (m instanceof Message.Assistant a) {
        n += text(a.content());
        for (ToolCall c : a.toolCalls()) {
          n += 3 + text(c.name()) + text(c.arguments());
        }
      } else if (m instanceof Message.Tool t) {
        n += text(t.content());
      }
      return n;
    }

    /**
     * Whether {@link #message} follows a documented format for this message, with its text counted whole (no
     * run cut into pieces).
     */
    boolean exact(Message m) {
      if (!exactText) {
        return false;
      }
      if (m instanceof Message.User u) {
        for (ContentPart p : u.content()) {
          if (p instanceof ContentPart.Image img
              && (!images.exact() || (!"low".equals(img.detail()) && ImageSize.of(img).isEmpty()))) {
            return false;
          }
          if (p instanceof ContentPart.Text t && nextCut(t.text(), 0) >= 0) {
            return false;
          }
        }
        return u.name() == null || nextCut(u.name(), 0) < 0;
      }
      if (m instanceof Message.Assistant a) {
        return a.toolCalls().isEmpty() && (a.content() == null || nextCut(a.content(), 0) < 0);
      }
      return m instanceof Message.System s && nextCut(s.content(), 0) < 0;
    }

    /** The cookbook's approximation for tool definitions; 0 without tools. */
    int tools(List<ToolDefinition> tools) {
      if (tools.isEmpty()) {
        return 0;
      }
      int n = 0;
      for (ToolDefinition t : tools) {
        n += functionInit;
        n += text(t.name() + ":" + stripPeriod(t.description()));
        JsonNode props = t.parameters() == null ? null : t.parameters().get("properties");
        if (props != null && props.isObject() && !props.isEmpty()) {
          n += 3;
          for (Map.Entry<String, JsonNode> e : props.properties()) {
            JsonNode schema = e.getValue();
            n += 3;
            JsonNode en = schema.get("enum");
            if (en != null && en.isArray()) {
              n -= 3;
              for (JsonNode item : en) {
                n += 3 + text(item.isTextual() ? item.asText() : item.toString());
              }
            }
            JsonNode type = schema.get("type");
            String typeText = type == null ? "" : type.isTextual() ? type.asText() : type.toString();
            n += text(e.getKey() + ":" + typeText + ":" + stripPeriod(textOf(schema, "description")));
            for (String nested : new String[] {"properties", "items", "anyOf", "oneOf", "allOf"}) {
              JsonNode sub = schema.get(nested);
              if (sub != null) {
                n += text(sub.toString());
              }
            }
          }
        }
      }
      return n + 12;
    }

    int responseFormat(ResponseFormat rf) {
      return hasSchema(rf) ? text(rf.schema().toString()) : 0;
    }

    private static String textOf(JsonNode node, String field) {
      JsonNode v = node.get(field);
      return v != null && v.isTextual() ? v.asText() : "";
    }

    private static String stripPeriod(String s) {
      if (s == null) {
        return "";
      }
      return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }
  }
}
