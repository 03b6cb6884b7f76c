package io.pekkollm.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import io.pekkollm.testkit.Upstream.Reply;
import io.pekkollm.util.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Recorded HTTP metadata from {@code ../shared/fixtures}: {@code *.headers.json} ({@code {"status", "headers"}})
 * and raw {@code *.http.txt} dumps (status line, headers, blank line, body), turned into scripted replies.
 * Headers the test server sets itself (length, type, connection, date, server) are left out.
 */
public final class FixtureHttp {
  private static final Set<String> SET_BY_SERVER = Set.of("content-length", "content-type", "connection",
      "transfer-encoding", "date", "server");

  private FixtureHttp() {}

  /** The status recorded in a {@code *.headers.json} fixture. */
  public static int status(String headersFixture) {
    return read(headersFixture).path("status").asInt();
  }

  /** The headers of a {@code *.headers.json} fixture, names lower-cased, server-set ones left out. */
  public static Map<String, String> headers(String headersFixture) {
    Map<String, String> out = new LinkedHashMap<>();
    read(headersFixture).path("headers").fields().forEachRemaining(e -> {
      String name = e.getKey().toLowerCase(Locale.ROOT);
      if (!SET_BY_SERVER.contains(name)) {
        out.put(name, e.getValue().asText());
      }
    });
    return out;
  }

  /** A JSON reply built from a raw HTTP response dump ({@code *.http.txt}). */
  public static Reply reply(String httpFixture) {
    String text = Fixtures.text(httpFixture).replace("\r\n", "\n");
    int blank = text.indexOf("\n\n");
    String head = blank < 0 ? text : text.substring(0, blank);
    String body = blank < 0 ? "" : text.substring(blank + 2);
    String[] lines = head.split("\n");
    int status = Integer.parseInt(lines[0].split(" ")[1]);
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
      if (!SET_BY_SERVER.contains(name)) {
        headers.put(name, lines[i].substring(colon + 1).trim());
      }
    }
    // The dump ends with the newline of the file, not of the body: Content-Length says where the body ends.
    return Reply.json(status, body.stripTrailing()).withHeaders(headers);
  }

  private static JsonNode read(String fixture) {
    try {
      return Json.parse(Fixtures.bytes(fixture));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
