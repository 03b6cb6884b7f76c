package io.pekkollm.catalog;

import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.CRC32;

/**
 * The bundled catalog in a compact binary form, written by the build ({@code mvn package}, phase
 * process-classes, see pom.xml) from the YAML files next to it: reading it at start-up takes a few milliseconds and
 * loads no YAML parser, where parsing 1,000 models of YAML cost over a second of CPU in a cold JVM. The YAML files
 * stay the source of truth: each compiled file carries the CRC-32 and size of the YAML it was made from, and
 * {@link ModelCatalog} uses a compiled file only when they match the YAML resource it would otherwise parse, so a
 * stale or missing compiled catalog (an IDE build, a hand-edited class path) only costs time. A YAML file the
 * build cannot read is left out, so that loading it fails at start-up with its file, line and column, as before.
 */
final class CompiledCatalog {
  static final String RESOURCE = ModelCatalog.RESOURCE_DIR + "catalog.bin";
  private static final int MAGIC = 0x504c4c43; // "PLLC"
  private static final int VERSION = 2;

  private static final int MODE = 1;
  private static final int CONTEXT = 2;
  private static final int MAX_OUTPUT = 4;
  private static final int PRICING = 8;
  private static final int DEPRECATION = 16;

  /** One compiled file: the checksum and size of its YAML, and its content. */
  record Entry(long crc, int size, CatalogReader.ProviderFile file) {
    boolean matches(byte[] yaml) {
      return yaml.length == size && crc32(yaml) == crc;
    }
  }

  private CompiledCatalog() {}

  static long crc32(byte[] bytes) {
    CRC32 crc = new CRC32();
    crc.update(bytes, 0, bytes.length);
    return crc.getValue();
  }

  // ------------------------------------------------------------------ build time

  /**
   * {@code CompiledCatalog <models dir> <output file>}: compiles every {@code *.yml} of the directory. Run by the
   * build; a file that does not load is reported and left out (start-up then reports it with its position).
   */
  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      System.err.println("usage: CompiledCatalog <models dir> <output file>");
      System.exit(2);
    }
    Path dir = Path.of(args[0]);
    List<Path> files;
    try (Stream<Path> s = Files.list(dir)) {
      files = s.filter(f -> f.getFileName().toString().endsWith(".yml")).sorted().toList();
    }
    List<Entry> entries = new ArrayList<>();
    for (Path f : files) {
      String name = f.getFileName().toString();
      String shown = "classpath:" + ModelCatalog.RESOURCE_DIR + name;
      byte[] yaml = Files.readAllBytes(f);
      try {
        CatalogReader.ProviderFile pf = CatalogReader.read(new ByteArrayInputStream(yaml), shown,
            ModelCatalog.providerOf(name, shown));
        entries.add(new Entry(crc32(yaml), yaml.length, pf));
      } catch (CatalogLoadException e) {
        System.err.println("[WARNING] model catalog: not compiled, start-up will report it: " + e.getMessage());
      }
    }
    Path out = Path.of(args[1]);
    Files.createDirectories(out.toAbsolutePath().getParent());
    try (OutputStream os = Files.newOutputStream(out)) {
      write(entries, os);
    }
  }

  static void write(List<Entry> entries, OutputStream os) throws IOException {
    Out out = new Out(new BufferedOutputStream(os));
    out.writeInt(MAGIC);
    out.writeInt(VERSION);
    out.writeInt(entries.size());
    for (Entry e : entries) {
      CatalogReader.ProviderFile f = e.file();
      out.writeUTF8(f.provider());
      out.writeLong(e.crc());
      out.writeInt(e.size());
      writeNullable(out, f.source());
      writeNullable(out, f.sourceDate());
      out.writeInt(f.models().size());
      for (ModelEntry m : f.models()) {
        writeModel(out, m);
      }
    }
    out.flush();
  }

  private static void writeModel(Out out, ModelEntry m) throws IOException {
    out.writeUTF8(m.model());
    int flags = (m.mode().isPresent() ? MODE : 0) | (m.contextWindow().isPresent() ? CONTEXT : 0)
        | (m.maxOutputTokens().isPresent() ? MAX_OUTPUT : 0) | (m.pricing().isUnknown() ? 0 : PRICING)
        | (m.deprecationDate().isPresent() ? DEPRECATION : 0);
    out.writeByte(flags);
    if (m.mode().isPresent()) {
      out.writeUTF8(m.mode().get());
    }
    if (m.contextWindow().isPresent()) {
      out.writeInt(m.contextWindow().getAsInt());
    }
    if (m.maxOutputTokens().isPresent()) {
      out.writeInt(m.maxOutputTokens().getAsInt());
    }
    if (!m.pricing().isUnknown()) {
      Pricing p = m.pricing();
      writePrice(out, p.input());
      writePrice(out, p.output());
      writePrice(out, p.cacheRead());
      writePrice(out, p.cacheWrite());
      writePrice(out, p.reasoning());
    }
    if (m.deprecationDate().isPresent()) {
      out.writeLong(m.deprecationDate().get().toEpochDay());
    }
    writeStrings(out, m.capabilityNames());
    writeStrings(out, m.aliases());
    writeStrings(out, m.litellmKeys());
  }

  private static void writePrice(Out out, BigDecimal v) throws IOException {
    // BigDecimal's toString and String constructor round-trip exactly (unscaled value and scale).
    writeNullable(out, v == null ? null : v.toString());
  }

  private static void writeNullable(Out out, String s) throws IOException {
    out.writeBoolean(s != null);
    if (s != null) {
      out.writeUTF8(s);
    }
  }

  private static void writeStrings(Out out, List<String> values) throws IOException {
    out.writeShort(values.size());
    for (String s : values) {
      out.writeUTF8(s);
    }
  }

  /** Strings as their UTF-8 length (an int) and bytes: read back without a per-character decoding loop. */
  private static final class Out extends DataOutputStream {
    Out(OutputStream out) {
      super(out);
    }

    void writeUTF8(String s) throws IOException {
      byte[] b = s.getBytes(StandardCharsets.UTF_8);
      writeInt(b.length);
      write(b);
    }
  }

  // ------------------------------------------------------------------ start-up

  /**
   * The compiled files on {@code loader}'s class path by file name ({@code openai.yml}); empty when there is no
   * compiled catalog or it is unreadable (the YAML is read instead).
   */
  static Map<String, Entry> read(ClassLoader loader) {
    try (InputStream in = loader.getResourceAsStream(RESOURCE)) {
      return in == null ? Map.of() : read(in);
    } catch (IOException | RuntimeException e) {
      return Map.of();
    }
  }

  static Map<String, Entry> read(InputStream is) throws IOException {
    In in = new In(is.readAllBytes());
    if (in.remaining() < 8 || in.getInt() != MAGIC || in.getInt() != VERSION) {
      return Map.of();
    }
    int files = in.getInt();
    Map<String, Entry> out = new HashMap<>();
    for (int i = 0; i < files; i++) {
      String provider = in.string();
      long crc = in.getLong();
      int size = in.getInt();
      String source = in.nullable();
      String sourceDate = in.nullable();
      int n = in.getInt();
      List<ModelEntry> models = new ArrayList<>(n);
      for (int k = 0; k < n; k++) {
        models.add(readModel(in, provider));
      }
      String name = provider + ".yml";
      out.put(name, new Entry(crc, size, new CatalogReader.ProviderFile(provider, source, sourceDate,
          "classpath:" + ModelCatalog.RESOURCE_DIR + name, List.copyOf(models))));
    }
    return out;
  }

  private static ModelEntry readModel(In in, String provider) {
    ModelEntry.Builder b = ModelEntry.builder(provider, in.string());
    int flags = in.get();
    if ((flags & MODE) != 0) {
      b.mode(in.string());
    }
    if ((flags & CONTEXT) != 0) {
      b.contextWindow(in.getInt());
    }
    if ((flags & MAX_OUTPUT) != 0) {
      b.maxOutputTokens(in.getInt());
    }
    if ((flags & PRICING) != 0) {
      b.pricing(new Pricing(price(in), price(in), price(in), price(in), price(in)));
    }
    if ((flags & DEPRECATION) != 0) {
      b.deprecationDate(LocalDate.ofEpochDay(in.getLong()));
    }
    for (int i = in.getShort(); i > 0; i--) {
      b.capability(in.string());
    }
    b.aliases(in.strings());
    b.litellmKeys(in.strings());
    return b.build();
  }

  private static BigDecimal price(In in) {
    String s = in.nullable();
    return s == null ? null : new BigDecimal(s);
  }

  /** Reads what {@link Out} wrote; a truncated or corrupt file throws (BufferUnderflowException and the like). */
  private static final class In {
    private final ByteBuffer buf;

    In(byte[] bytes) {
      this.buf = ByteBuffer.wrap(bytes); // big-endian, as DataOutputStream writes
    }

    int remaining() {
      return buf.remaining();
    }

    int get() {
      return buf.get();
    }

    int getShort() {
      return buf.getShort();
    }

    int getInt() {
      return buf.getInt();
    }

    long getLong() {
      return buf.getLong();
    }

    String string() {
      int n = buf.getInt();
      if (n < 0 || n > buf.remaining()) {
        throw new IllegalStateException("corrupt compiled catalog");
      }
      String s = new String(buf.array(), buf.position(), n, StandardCharsets.UTF_8);
      buf.position(buf.position() + n);
      return s;
    }

    String nullable() {
      return buf.get() != 0 ? string() : null;
    }

    List<String> strings() {
      int n = buf.getShort();
      if (n == 0) {
        return List.of();
      }
      String[] out = new String[n];
      for (int i = 0; i < n; i++) {
        out[i] = string();
      }
      return List.of(out);
    }
  }
}
