package io.marketlift.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.FileOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileQueueTest {
  @TempDir File dir;

  private long now = 1_000_000L;

  private FileQueue open(long maxBytes, long maxAgeMs, long segmentBytes) throws IOException {
    return new FileQueue(dir, maxBytes, maxAgeMs, segmentBytes, false, () -> now);
  }

  private static String event(int i) {
    return "{\"event_id\":\"e" + i + "\"}";
  }

  private File[] segments() {
    File[] files = dir.listFiles((d, name) -> name.endsWith(".seg"));
    Arrays.sort(files);
    return files;
  }

  @Test
  void unacknowledgedRecordsSurviveReopenAndAckedOnesDoNot() throws IOException {
    FileQueue q = open(1 << 20, 60_000, 100);
    for (int i = 0; i < 10; i++) {
      q.append(event(i));
    }
    FileQueue.Batch b = q.peek(4, 1 << 20);
    assertEquals(Arrays.asList(event(0), event(1), event(2), event(3)), b.events);
    q.ack(b);
    assertEquals(6, q.size());
    q.close();
    // Reopen, as after the process was killed: the same next batch, same bytes.
    FileQueue again = open(1 << 20, 60_000, 100);
    assertEquals(6, again.size());
    FileQueue.Batch next = again.peek(100, 1 << 20);
    assertEquals(event(4), next.events.get(0));
    assertEquals(6, next.events.size());
    FileQueue.Batch retry = again.peek(100, 1 << 20);
    assertEquals(next.events, retry.events);
    again.ack(next);
    assertEquals(0, again.size());
    assertEquals(0, again.bytes());
    again.close();
  }

  @Test
  void aHeldBatchIsResentAsItWasAlsoAfterARestart() throws IOException {
    FileQueue q = open(1 << 20, 60_000, 1 << 20);
    q.append(event(0));
    q.append(event(1));
    FileQueue.Batch failed = q.peek(100, 1 << 20);
    q.hold(failed);
    q.append(event(2));
    assertEquals(failed.events, q.peek(100, 1 << 20).events);
    q.close();
    FileQueue again = open(1 << 20, 60_000, 1 << 20);
    FileQueue.Batch retry = again.peek(100, 1 << 20);
    assertEquals(Arrays.asList(event(0), event(1)), retry.events);
    again.ack(retry);
    assertEquals(Arrays.asList(event(2)), again.peek(100, 1 << 20).events);
    again.close();
  }

  @Test
  void fullyAcknowledgedSegmentsAreDeleted() throws IOException {
    FileQueue q = open(1 << 20, 60_000, 64);
    for (int i = 0; i < 20; i++) {
      q.append(event(i));
    }
    int before = segments().length;
    assertTrue(before >= 5, "segments: " + before);
    q.ack(q.peek(15, 1 << 20));
    assertTrue(segments().length < before, "segments left: " + segments().length);
    assertEquals(5, q.size());
    assertEquals(event(15), q.peek(1, 1 << 20).events.get(0));
    q.close();
  }

  @Test
  void aTornLastLineIsCutOnOpen() throws IOException {
    FileQueue q = open(1 << 20, 60_000, 1 << 20);
    q.append(event(0));
    q.append(event(1));
    q.close();
    // A write cut by a crash: part of a record without its line break.
    FileOutputStream out = new FileOutputStream(segments()[0], true);
    out.write("1000000 {\"event_id\":\"e2".getBytes("UTF-8"));
    out.close();
    FileQueue again = open(1 << 20, 60_000, 1 << 20);
    assertEquals(2, again.size());
    again.append(event(3));
    assertEquals(Arrays.asList(event(0), event(1), event(3)), again.peek(10, 1 << 20).events);
    again.close();
  }

  @Test
  void boundedInBytesByDroppingTheOldest() throws IOException {
    FileQueue q = open(200, 60_000, 1 << 20);
    int dropped = 0;
    for (int i = 0; i < 20; i++) {
      dropped += q.append(event(i));
    }
    assertTrue(q.bytes() <= 200, "bytes: " + q.bytes());
    assertEquals(20, dropped + q.size());
    List<String> left = q.peek(100, 1 << 20).events;
    assertEquals(event(19), left.get(left.size() - 1));
    assertEquals(event(20 - left.size()), left.get(0));
    q.close();
  }

  @Test
  void boundedInAgeWhenRecordsComeUpForSending() throws IOException {
    FileQueue q = open(1 << 20, 60_000, 1 << 20);
    q.append(event(0));
    q.append(event(1));
    now += 30_000;
    q.append(event(2));
    now += 40_000;
    FileQueue.Batch b = q.peek(10, 1 << 20);
    assertEquals(Arrays.asList(event(2)), b.events);
    assertEquals(2, b.dropped);
    q.ack(b);
    assertEquals(0, q.size());
    q.close();
  }

  @Test
  void batchesAreBoundedInEventsAndBytes() throws IOException {
    FileQueue q = open(1 << 20, 60_000, 1 << 20);
    for (int i = 0; i < 10; i++) {
      q.append(event(i));
    }
    assertEquals(3, q.peek(3, 1 << 20).events.size());
    assertEquals(2, q.peek(100, 2 * event(0).length()).events.size());
    assertEquals(1, q.peek(100, 1).events.size());
    q.close();
  }

  @Test
  void oneOpenClientPerDirectory() throws IOException {
    FileQueue q = open(1 << 20, 60_000, 1 << 20);
    MarketliftException e = assertThrows(MarketliftException.class,
        () -> open(1 << 20, 60_000, 1 << 20));
    assertEquals("queueDir", e.field);
    q.close();
    open(1 << 20, 60_000, 1 << 20).close();
  }
}
