package io.pekkollm.bench;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * An open-loop, fixed-rate HTTP/1.1 load generator on plain blocking sockets (keep-alive, TCP_NODELAY), for
 * latency below saturation: requests are scheduled at fixed times and alternate between the targets, so every
 * target sees the same load at the same moments. Latency is measured from the scheduled time (a late request
 * counts its wait, so there is no coordinated omission) and, separately, from the moment it was written.
 * Not reusable: one {@link #run} per instance.
 */
final class RateClient {

  /** One target: host port, path and request body. */
  record Target(String name, int port, String path, byte[] body) {}

  /** What one target saw. */
  static final class Stats {
    final Samples fromSchedule = new Samples();
    final Samples fromSend = new Samples();
    final AtomicLong errors = new AtomicLong();
    volatile String lastError;
  }

  private record Ticket(long scheduledNanos) {}

  private static final Ticket STOP = new Ticket(-1);

  /**
   * Sends {@code ratePerTarget} requests per second to each target for {@code seconds}, round robin, with
   * {@code workers} connections per target. Returns the stats per target, in order.
   */
  static List<Stats> run(List<Target> targets, int ratePerTarget, double seconds, int workers) throws Exception {
    List<Stats> stats = new ArrayList<>();
    List<BlockingQueue<Ticket>> queues = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (Target t : targets) {
      Stats s = new Stats();
      BlockingQueue<Ticket> q = new LinkedBlockingQueue<>();
      stats.add(s);
      queues.add(q);
      for (int w = 0; w < workers; w++) {
        Thread th = new Thread(() -> work(t, q, s), "rate-" + t.name() + "-" + w);
        th.setDaemon(true);
        th.start();
        threads.add(th);
      }
    }
    long total = (long) (ratePerTarget * seconds) * targets.size();
    double intervalNanos = 1e9 / ((double) ratePerTarget * targets.size());
    long start = System.nanoTime() + 20_000_000L;
    for (long i = 0; i < total; i++) {
      long at = start + (long) (i * intervalNanos);
      long wait;
      while ((wait = at - System.nanoTime()) > 0) {
        LockSupport.parkNanos(wait);
      }
      queues.get((int) (i % targets.size())).add(new Ticket(at));
    }
    for (BlockingQueue<Ticket> q : queues) {
      for (int w = 0; w < workers; w++) {
        q.add(STOP);
      }
    }
    for (Thread th : threads) {
      th.join(TimeUnit.SECONDS.toMillis(30));
    }
    return stats;
  }

  private static void work(Target t, BlockingQueue<Ticket> q, Stats s) {
    byte[] request = request(t);
    Connection c = null;
    try {
      while (true) {
        Ticket ticket = q.take();
        if (ticket == STOP) {
          break;
        }
        try {
          if (c == null) {
            c = new Connection(t.port());
          }
          long sent = System.nanoTime();
          int status = c.exchange(request);
          long now = System.nanoTime();
          if (status != 200) {
            s.errors.incrementAndGet();
            s.lastError = "HTTP " + status;
          } else {
            s.fromSchedule.add(now - ticket.scheduledNanos());
            s.fromSend.add(now - sent);
          }
        } catch (IOException e) {
          s.errors.incrementAndGet();
          s.lastError = e.toString();
          if (c != null) {
            c.close();
          }
          c = null;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      if (c != null) {
        c.close();
      }
    }
  }

  static byte[] request(Target t) {
    String head = "POST " + t.path() + " HTTP/1.1\r\nHost: 127.0.0.1:" + t.port() + "\r\n"
        + "Content-Type: application/json\r\nAuthorization: Bearer bench\r\nContent-Length: " + t.body().length
        + "\r\n\r\n";
    byte[] h = head.getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[h.length + t.body().length];
    System.arraycopy(h, 0, out, 0, h.length);
    System.arraycopy(t.body(), 0, out, h.length, t.body().length);
    return out;
  }

  /** One keep-alive connection; reads responses with Content-Length or chunked bodies. */
  static final class Connection implements AutoCloseable {
    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;

    Connection(int port) throws IOException {
      socket = new Socket();
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
      socket.setSoTimeout(30_000);
      out = socket.getOutputStream();
      in = new BufferedInputStream(socket.getInputStream(), 65536);
    }

    /** Sends one request and reads the whole response; returns the status. */
    int exchange(byte[] request) throws IOException {
      out.write(request);
      out.flush();
      String statusLine = line();
      if (statusLine == null || !statusLine.startsWith("HTTP/1.1 ")) {
        throw new IOException("bad status line: " + statusLine);
      }
      int status = Integer.parseInt(statusLine.substring(9, 12));
      long length = -1;
      boolean chunked = false;
      boolean close = false;
      String h;
      while ((h = line()) != null && !h.isEmpty()) {
        String lower = h.toLowerCase(Locale.ROOT);
        if (lower.startsWith("content-length:")) {
          length = Long.parseLong(lower.substring(15).trim());
        } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
          chunked = true;
        } else if (lower.startsWith("connection:") && lower.contains("close")) {
          close = true;
        }
      }
      if (chunked) {
        while (true) {
          String size = line();
          if (size == null) {
            throw new IOException("connection closed in a chunked body");
          }
          int semi = size.indexOf(';');
          long n = Long.parseLong((semi >= 0 ? size.substring(0, semi) : size).trim(), 16);
          if (n == 0) {
            while ((h = line()) != null && !h.isEmpty()) {
              // trailers
            }
            break;
          }
          skip(n);
          line();
        }
      } else if (length >= 0) {
        skip(length);
      } else {
        throw new IOException("response without a length");
      }
      if (close) {
        throw new IOException("server closed the connection");
      }
      return status;
    }

    private void skip(long n) throws IOException {
      while (n > 0) {
        long k = in.skip(n);
        if (k <= 0) {
          if (in.read() < 0) {
            throw new IOException("connection closed in a body");
          }
          k = 1;
        }
        n -= k;
      }
    }

    private String line() throws IOException {
      StringBuilder sb = new StringBuilder(64);
      int b;
      while ((b = in.read()) >= 0) {
        if (b == '\n') {
          int len = sb.length();
          if (len > 0 && sb.charAt(len - 1) == '\r') {
            sb.setLength(len - 1);
          }
          return sb.toString();
        }
        sb.append((char) b);
      }
      return sb.length() == 0 ? null : sb.toString();
    }

    @Override
    public void close() {
      try {
        socket.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }
}
