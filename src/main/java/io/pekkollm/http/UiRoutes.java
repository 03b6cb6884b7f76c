package io.pekkollm.http;

import static org.apache.pekko.http.javadsl.server.Directives.complete;
import static org.apache.pekko.http.javadsl.server.Directives.concat;
import static org.apache.pekko.http.javadsl.server.Directives.get;
import static org.apache.pekko.http.javadsl.server.Directives.getFromResource;
import static org.apache.pekko.http.javadsl.server.Directives.getFromResourceDirectory;
import static org.apache.pekko.http.javadsl.server.Directives.pathEnd;
import static org.apache.pekko.http.javadsl.server.Directives.pathPrefix;
import static org.apache.pekko.http.javadsl.server.Directives.pathSingleSlash;
import static org.apache.pekko.http.javadsl.server.Directives.redirect;
import static org.apache.pekko.http.javadsl.server.Directives.respondWithHeaders;

import io.pekkollm.model.ErrorKind;
import java.util.List;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.Uri;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.Route;

/**
 * The admin web UI at {@code /ui}: the static files the Maven build made from {@code src/main/ui} (Vite), served
 * from the jar ({@code io/pekkollm/ui}). They need no key: the page asks for the admin key and keeps it in the tab's
 * sessionStorage only, sending it to {@code /v1} like any client. A strict Content-Security-Policy allows only this
 * origin's scripts, styles and API.
 */
final class UiRoutes {
  static final String RESOURCES = "io/pekkollm/ui";

  private static final List<org.apache.pekko.http.javadsl.model.HttpHeader> HEADERS = List.of(
      RawHeader.create("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; "
          + "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"),
      RawHeader.create("X-Content-Type-Options", "nosniff"),
      RawHeader.create("Referrer-Policy", "no-referrer"));
  private static final List<org.apache.pekko.http.javadsl.model.HttpHeader> INDEX = List.of(
      RawHeader.create("Cache-Control", "no-cache"));

  private UiRoutes() {}

  static Route route() {
    boolean built = UiRoutes.class.getClassLoader().getResource(RESOURCES + "/index.html") != null;
    return pathPrefix("ui", () -> get(() -> respondWithHeaders(HEADERS, () -> concat(
        pathEnd(() -> redirect(Uri.create("/ui/"), StatusCodes.MOVED_PERMANENTLY)),
        pathSingleSlash(() -> built ? respondWithHeaders(INDEX, () -> getFromResource(RESOURCES + "/index.html"))
            : complete(ErrorResponses.simple(ErrorKind.NOT_FOUND, 404, "the web UI is not in this build: build with "
                + "'mvn package' (needs Node 20+ and npm)", null))),
        getFromResourceDirectory(RESOURCES)))));
  }
}
