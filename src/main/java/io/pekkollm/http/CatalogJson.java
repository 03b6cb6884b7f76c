package io.pekkollm.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pekkollm.catalog.ModelEntry;
import io.pekkollm.catalog.Pricing;
import java.math.BigDecimal;

/**
 * Catalog metadata in the gateway's model objects. Every model object carries the same keys; a value the
 * catalog does not know (or a model it does not list) is {@code null}, never a guess. Prices are USD per
 * million tokens, as in {@code config/models/*.yml}.
 */
final class CatalogJson {
  private CatalogJson() {}

  /** Adds mode, context_window, max_output_tokens, pricing, capabilities, deprecation_date to {@code o}. */
  static ObjectNode addMetadata(ObjectNode o, ModelEntry e) {
    if (e == null) {
      o.putNull("mode");
      o.putNull("context_window");
      o.putNull("max_output_tokens");
      o.putNull("pricing");
      o.putNull("capabilities");
      o.putNull("deprecation_date");
      return o;
    }
    putNullable(o, "mode", e.mode().orElse(null));
    if (e.contextWindow().isPresent()) {
      o.put("context_window", e.contextWindow().getAsInt());
    } else {
      o.putNull("context_window");
    }
    if (e.maxOutputTokens().isPresent()) {
      o.put("max_output_tokens", e.maxOutputTokens().getAsInt());
    } else {
      o.putNull("max_output_tokens");
    }
    Pricing p = e.pricing();
    if (p.isUnknown()) {
      o.putNull("pricing");
    } else {
      ObjectNode po = o.putObject("pricing");
      price(po, "input", p.input());
      price(po, "output", p.output());
      price(po, "cache_read", p.cacheRead());
      price(po, "cache_write", p.cacheWrite());
      price(po, "reasoning", p.reasoning());
    }
    ArrayNode caps = o.putArray("capabilities");
    e.capabilityNames().forEach(caps::add);
    putNullable(o, "deprecation_date", e.deprecationDate().map(Object::toString).orElse(null));
    if (!e.aliases().isEmpty()) {
      ArrayNode aliases = o.putArray("aliases");
      e.aliases().forEach(a -> aliases.add(e.provider() + "/" + a));
    }
    return o;
  }

  private static void price(ObjectNode o, String field, BigDecimal v) {
    if (v == null) {
      o.putNull(field);
    } else {
      o.put(field, v);
    }
  }

  private static void putNullable(ObjectNode o, String field, String v) {
    if (v == null) {
      o.putNull(field);
    } else {
      o.put(field, v);
    }
  }
}
