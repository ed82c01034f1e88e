package io.marketlift.sdk;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A durable queue of events in a directory: append-only segment files and a head pointer.
 *
 * <p>Layout: {@code 000000000001.seg}, {@code 000000000002.seg} ... hold one record per line,
 * {@code <enqueue time in ms> <event JSON>\n}; {@code head} holds {@code <segment> <offset>}, the
 * first byte not yet acknowledged by the collector, then the end of a batch that failed and
 * awaits its retry ({@link #hold}), and is replaced atomically (write a temporary file, rename).
 * A held batch is resent as it was, also after a restart: same events, same bytes.
 *
 * <p>{@link #append} hands the whole line to the operating system in one {@code write} before it
 * returns, so a killed process loses nothing it acknowledged; with
 * {@code fsync} the line is also on the disk (survives power loss, costs a disk flush per event).
 * On open, a torn last line (a write cut by a crash before it was acknowledged) is cut off and
 * segments wholly before the head are deleted.
 *
 * <p>Bounds: at most {@code maxBytes} of unacknowledged records (appending past it drops the
 * oldest), and records older than {@code maxAgeMs} are dropped when they come up for sending.
 * One queue directory belongs to one open client: a second one fails (a file lock).
 */
final class FileQueue implements Closeable {
  private static final Charset UTF8 = Charset.forName("UTF-8");
  private static final String SUFFIX = ".seg";

  /** Records taken from the head, to be sent and then acknowledged with {@link #ack}. */
  static final class Batch {
    /** The events' JSON, oldest first. */
    final List<String> events = new ArrayList<String>();
    /** Records skipped because they were older than the age bound or unreadable. */
    int dropped;
    /** Bytes of event JSON in {@link #events}. */
    long bytes;
    long startSeg;
    long startOff;
    long endSeg;
    long endOff;

    /**
     * Records consumed from the queue, events and dropped ones.
     *
     * @return the count
     */
    int consumed() {
      return events.size() + dropped;
    }
  }

  private final File dir;
  private final long maxBytes;
  private final long maxAgeMs;
  private final long segmentBytes;
  private final boolean fsync;
  private final Clock clock;
  private final TreeMap<Long, Long> sizes = new TreeMap<Long, Long>();
  private final RandomAccessFile lockFile;
  private final FileLock lock;
  private FileOutputStream out;
  private long writeSeg;
  private long headSeg;
  private long headOff;
  private long heldSeg = -1;
  private long heldOff = -1;
  private int count;
  private boolean closed;

  /** The time source, in milliseconds since the epoch. */
  interface Clock {
    long nowMs();
  }

  FileQueue(File dir, long maxBytes, long maxAgeMs, long segmentBytes, boolean fsync, Clock clock)
      throws IOException {
    this.dir = dir;
    this.maxBytes = maxBytes;
    this.maxAgeMs = maxAgeMs;
    this.segmentBytes = segmentBytes;
    this.fsync = fsync;
    this.clock = clock;
    if (!dir.isDirectory() && !dir.mkdirs()) {
      throw new IOException("cannot create the queue directory " + dir);
    }
    lockFile = new RandomAccessFile(new File(dir, "lock"), "rw");
    FileLock held;
    try {
      held = lockFile.getChannel().tryLock();
    } catch (OverlappingFileLockException sameProcess) {
      held = null;
    }
    if (held == null) {
      lockFile.close();
      throw new MarketliftException("Marketlift.Config", "queueDir", dir.getPath(),
          "a directory no other open client uses (close the other client first)");
    }
    lock = held;
    try {
      recover();
    } catch (IOException | RuntimeException e) {
      unlock();
      throw e;
    }
  }

  private void recover() throws IOException {
    readHead();
    File[] files = dir.listFiles();
    if (files != null) {
      for (File f : files) {
        String name = f.getName();
        if (!name.endsWith(SUFFIX)) {
          continue;
        }
        long seg;
        try {
          seg = Long.parseLong(name.substring(0, name.length() - SUFFIX.length()));
        } catch (NumberFormatException notOurs) {
          continue;
        }
        if (seg < headSeg) {
          delete(f);
        } else {
          sizes.put(seg, f.length());
        }
      }
    }
    if (sizes.isEmpty()) {
      sizes.put(headSeg, 0L);
      headOff = 0;
    } else if (!sizes.containsKey(headSeg)) {
      headSeg = sizes.firstKey();
      headOff = 0;
    }
    writeSeg = sizes.lastKey();
    cutTornTail(writeSeg);
    if (headOff > sizes.get(headSeg)) {
      headOff = 0;
    }
    out = new FileOutputStream(segment(writeSeg), true);
    count = countRecords();
  }

  private void readHead() {
    headSeg = 1;
    headOff = 0;
    File head = new File(dir, "head");
    if (!head.isFile()) {
      return;
    }
    try {
      String[] parts = new String(readAll(head), UTF8).trim().split(" ");
      headSeg = Long.parseLong(parts[0]);
      headOff = Long.parseLong(parts[1]);
      if (parts.length == 4) {
        heldSeg = Long.parseLong(parts[2]);
        heldOff = Long.parseLong(parts[3]);
      }
    } catch (IOException | RuntimeException unreadable) {
      // Resend from the oldest segment: the collector dedupes on event_id.
      headSeg = 0;
      headOff = 0;
    }
  }

  private void cutTornTail(long seg) throws IOException {
    RandomAccessFile f = new RandomAccessFile(segment(seg), "rw");
    try {
      long end = f.length();
      long pos = end;
      byte[] buf = new byte[4096];
      while (pos > 0) {
        int n = (int) Math.min(buf.length, pos);
        f.seek(pos - n);
        f.readFully(buf, 0, n);
        int i = n - 1;
        while (i >= 0 && buf[i] != '\n') {
          i--;
        }
        if (i >= 0) {
          pos = pos - n + i + 1;
          break;
        }
        pos -= n;
      }
      if (pos != end) {
        f.setLength(pos);
      }
      sizes.put(seg, pos);
    } finally {
      f.close();
    }
  }

  private int countRecords() throws IOException {
    int n = 0;
    for (Map.Entry<Long, Long> e : sizes.tailMap(headSeg, true).entrySet()) {
      InputStream in = open(e.getKey(), e.getKey() == headSeg ? headOff : 0);
      try {
        byte[] buf = new byte[65536];
        int r;
        while ((r = in.read(buf)) > 0) {
          for (int i = 0; i < r; i++) {
            if (buf[i] == '\n') {
              n++;
            }
          }
        }
      } finally {
        in.close();
      }
    }
    return n;
  }

  /**
   * Appends one event; returns when the line is with the operating system (or on the disk).
   *
   * @param json the event's JSON, without line breaks
   * @return how many of the oldest records were dropped to stay within {@code maxBytes}
   * @throws IOException when the file cannot be written
   */
  synchronized int append(String json) throws IOException {
    ensureOpen();
    byte[] line = (clock.nowMs() + " " + json + "\n").getBytes(UTF8);
    long size = sizes.get(writeSeg);
    if (size >= segmentBytes && size > 0) {
      roll();
      size = 0;
    }
    try {
      out.write(line);
      if (fsync) {
        out.getFD().sync();
      }
    } catch (IOException e) {
      // A disk full mid-line: cut the partial line so the next record starts on a line of its own.
      out.getChannel().truncate(size);
      throw e;
    }
    sizes.put(writeSeg, size + line.length);
    count++;
    return bytes() > maxBytes ? dropOldest(bytes() - maxBytes) : 0;
  }

  private void roll() throws IOException {
    out.close();
    writeSeg++;
    sizes.put(writeSeg, 0L);
    out = new FileOutputStream(segment(writeSeg), true);
  }

  private int dropOldest(long excess) throws IOException {
    Batch b = read(count - 1, excess, true);
    if (b.consumed() == 0) {
      return 0;
    }
    advance(b);
    return b.consumed();
  }

  /**
   * The oldest records, at most {@code maxEvents} and about {@code maxBatchBytes} of JSON (at
   * least one event when any is queued). Records past the age bound are skipped and counted.
   *
   * @param maxEvents most events
   * @param maxBatchBytes most bytes of JSON
   * @return the batch, possibly empty
   * @throws IOException when a segment cannot be read
   */
  synchronized Batch peek(int maxEvents, long maxBatchBytes) throws IOException {
    ensureOpen();
    return read(maxEvents, maxBatchBytes, false);
  }

  private Batch read(int maxEvents, long maxBatchBytes, boolean byFileBytes) throws IOException {
    Batch b = new Batch();
    b.startSeg = headSeg;
    b.startOff = headOff;
    b.endSeg = headSeg;
    b.endOff = headOff;
    long now = clock.nowMs();
    long fileBytes = 0;
    for (Map.Entry<Long, Long> e : sizes.tailMap(headSeg, true).entrySet()) {
      long seg = e.getKey();
      long pos = seg == headSeg ? headOff : 0;
      long end = e.getValue();
      if (pos >= end) {
        continue;
      }
      FileInputStream in = new FileInputStream(segment(seg));
      try {
        in.getChannel().position(pos);
        byte[] buf = new byte[65536];
        int have = 0;
        int at = 0;
        while (pos < end) {
          int nl = at;
          while (nl < have && buf[nl] != '\n') {
            nl++;
          }
          if (nl == have) {
            // No complete line in the buffer: keep the partial one, read more of the segment.
            System.arraycopy(buf, at, buf, 0, have - at);
            have -= at;
            at = 0;
            if (have == buf.length) {
              buf = java.util.Arrays.copyOf(buf, buf.length * 2);
            }
            int want = (int) Math.min(buf.length - have, end - pos - have);
            int r = want > 0 ? in.read(buf, have, want) : -1;
            if (r <= 0) {
              break;
            }
            have += r;
            continue;
          }
          long next = pos + (nl - at) + 1;
          long enqueued = 0;
          int i = at;
          while (i < nl && buf[i] >= '0' && buf[i] <= '9') {
            enqueued = enqueued * 10 + (buf[i] - '0');
            i++;
          }
          String json = i > at && i < nl && buf[i] == ' '
              ? new String(buf, i + 1, nl - i - 1, UTF8) : null;
          boolean expired = json == null || now - enqueued > maxAgeMs;
          long size = byFileBytes ? next - pos : (expired ? 0 : json.length());
          boolean held = !byFileBytes && heldSeg >= 0;
          boolean full = byFileBytes ? fileBytes >= maxBatchBytes || b.dropped >= maxEvents
              : held ? seg > heldSeg || (seg == heldSeg && pos >= heldOff)
              : !b.events.isEmpty() && (b.events.size() >= maxEvents
                  || b.bytes + size > maxBatchBytes);
          if (full) {
            return b;
          }
          if (expired || byFileBytes) {
            b.dropped++;
          } else {
            b.events.add(json);
            b.bytes += size;
          }
          fileBytes += next - pos;
          pos = next;
          at = nl + 1;
          b.endSeg = seg;
          b.endOff = pos;
        }
      } finally {
        in.close();
      }
    }
    return b;
  }

  /**
   * Forgets the records of a batch: the collector has them (or they were given up on).
   *
   * @param b a batch from {@link #peek}
   * @throws IOException when the head cannot be written
   */
  synchronized void ack(Batch b) throws IOException {
    ensureOpen();
    if (b.consumed() == 0) {
      return;
    }
    if (b.startSeg != headSeg || b.startOff != headOff) {
      // The head moved meanwhile (oldest records dropped for space): recount after moving.
      if (b.endSeg > headSeg || (b.endSeg == headSeg && b.endOff > headOff)) {
        headSeg = b.endSeg;
        headOff = b.endOff;
        heldSeg = -1;
        heldOff = -1;
        writeHeadAndClean();
      }
      count = countRecords();
      return;
    }
    advance(b);
  }

  private void advance(Batch b) throws IOException {
    headSeg = b.endSeg;
    headOff = b.endOff;
    heldSeg = -1;
    heldOff = -1;
    count -= b.consumed();
    writeHeadAndClean();
  }

  /**
   * Keeps a batch that failed as the next one: {@link #peek} returns its records and no more
   * until {@link #ack} or {@link #release}, also after a restart.
   *
   * @param b the batch from {@link #peek}
   * @throws IOException when the head cannot be written
   */
  synchronized void hold(Batch b) throws IOException {
    ensureOpen();
    if (b.startSeg == headSeg && b.startOff == headOff && b.consumed() > 0) {
      heldSeg = b.endSeg;
      heldOff = b.endOff;
      writeHeadAndClean();
    }
  }

  /**
   * Forgets a held batch (it is to be split), so {@link #peek} forms batches afresh.
   *
   * @throws IOException when the head cannot be written
   */
  synchronized void release() throws IOException {
    ensureOpen();
    if (heldSeg >= 0) {
      heldSeg = -1;
      heldOff = -1;
      writeHeadAndClean();
    }
  }

  private void writeHeadAndClean() throws IOException {
    while (headSeg < writeSeg && headOff >= sizes.get(headSeg)) {
      headSeg = sizes.higherKey(headSeg);
      headOff = 0;
    }
    if (heldSeg >= 0 && (heldSeg < headSeg || (heldSeg == headSeg && heldOff <= headOff))) {
      heldSeg = -1;
      heldOff = -1;
    }
    if (headSeg == writeSeg && headOff == sizes.get(writeSeg) && headOff >= segmentBytes / 4) {
      roll();
      headSeg = writeSeg;
      headOff = 0;
    }
    File tmp = new File(dir, "head.tmp");
    FileOutputStream o = new FileOutputStream(tmp);
    try {
      String held = heldSeg >= 0 ? " " + heldSeg + " " + heldOff : "";
      o.write((headSeg + " " + headOff + held + "\n").getBytes(UTF8));
      if (fsync) {
        o.getFD().sync();
      }
    } finally {
      o.close();
    }
    if (!tmp.renameTo(new File(dir, "head"))) {
      throw new IOException("cannot replace " + new File(dir, "head"));
    }
    while (sizes.firstKey() < headSeg) {
      delete(segment(sizes.pollFirstEntry().getKey()));
    }
  }

  /**
   * Unacknowledged records (including any past the age bound not yet skipped).
   *
   * @return the count
   */
  synchronized int size() {
    return count;
  }

  /**
   * Bytes of unacknowledged records on disk.
   *
   * @return the bytes
   */
  synchronized long bytes() {
    long total = 0;
    for (Map.Entry<Long, Long> e : sizes.tailMap(headSeg, true).entrySet()) {
      total += e.getValue();
    }
    return total - headOff;
  }

  @Override
  public synchronized void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      out.close();
    } finally {
      unlock();
    }
  }

  private void unlock() throws IOException {
    try {
      lock.release();
    } finally {
      lockFile.close();
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("the queue is closed");
    }
  }

  private File segment(long seg) {
    return new File(dir, String.format(java.util.Locale.ROOT, "%012d%s", seg, SUFFIX));
  }

  private InputStream open(long seg, long offset) throws IOException {
    FileInputStream in = new FileInputStream(segment(seg));
    FileChannel ch = in.getChannel();
    ch.position(offset);
    return new BufferedInputStream(in, 65536);
  }

  private static void delete(File f) throws IOException {
    if (!f.delete() && f.exists()) {
      throw new IOException("cannot delete " + f);
    }
  }

  private static byte[] readAll(File f) throws IOException {
    FileInputStream in = new FileInputStream(f);
    try {
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      byte[] chunk = new byte[256];
      int n;
      while ((n = in.read(chunk)) > 0) {
        buf.write(chunk, 0, n);
      }
      return buf.toByteArray();
    } finally {
      in.close();
    }
  }
}
