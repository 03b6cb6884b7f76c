package io.pekkollm.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/**
 * HTTP/1.1 by hand over a loopback socket, for what java.net.http cannot send (a foreign Host, a slow body, a
 * connection that never sends a request) and for connections from other loopback addresses (127.0.0.2 ...).
 */
final class RawHttp {
  private RawHttp() {}

  /** A socket from {@code from} (a 127.x address) to 127.0.0.1:{@code port}, reads timing out after 20 s. */
  static Socket connect(String from, int port) throws IOException {
    Socket s = new Socket();
    s.bind(new InetSocketAddress(InetAddress.getByName(from), 0));
    s.connect(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 5000);
    s.setSoTimeout(20_000);
    return s;
  }

  /** Sends {@code request} (with {@code Connection: close} in it) and reads the whole answer. */
  static String exchange(String from, int port, String request) throws IOException {
    try (Socket s = connect(from, port)) {
      s.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
      s.getOutputStream().flush();
      return readAll(s.getInputStream());
    }
  }

  /** A request with {@code Connection: close}; {@code headers} are extra header lines ending in CRLF. */
  static String request(String method, String path, String host, String headers, String body) {
    byte[] b = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    return method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n" + headers
        + (body == null ? "" : "Content-Length: " + b.length + "\r\n") + "\r\n" + (body == null ? "" : body);
  }

  static String readAll(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[8192];
    int n;
    while ((n = in.read(buf)) >= 0) {
      out.write(buf, 0, n);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** Reads one response with a Content-Length body (the connection may stay open). */
  static String readUntilBody(InputStream in) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int b;
    while (!out.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n") && (b = in.read()) >= 0) {
      out.write(b);
    }
    String head = out.toString(StandardCharsets.ISO_8859_1);
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
    int length = m.find() ? Integer.parseInt(m.group(1)) : 0;
    byte[] body = in.readNBytes(length);
    return head + new String(body, StandardCharsets.UTF_8);
  }

  static int status(String response) {
    return Integer.parseInt(response.substring(9, 12));
  }

  /**
   * True when the server closed {@code s} (end of stream or reset) within {@code millis}; false when it is still
   * open then.
   */
  static boolean closedWithin(Socket s, int millis) throws IOException {
    s.setSoTimeout(millis);
    try {
      return s.getInputStream().read() < 0;
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }
}
