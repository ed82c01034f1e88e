package io.marketlift.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class BackoffTest {
  @Test
  void retryAfterInSecondsOrAsAnHttpDate() {
    long now = 1_796_400_000_000L; // 2026-12-04T16:00:00Z
    assertEquals(120_000, Backoff.parseRetryAfter("120", now));
    assertEquals(30_000, Backoff.parseRetryAfter("Fri, 04 Dec 2026 16:00:30 GMT", now));
    assertEquals(0, Backoff.parseRetryAfter("Fri, 04 Dec 2026 15:00:00 GMT", now));
    assertEquals(-1, Backoff.parseRetryAfter("soon", now));
    assertEquals(-1, Backoff.parseRetryAfter(null, now));
  }

  @Test
  void exponentialWithEqualJitterWithinTheCeiling() {
    Random r = new Random(7);
    for (int attempt = 1; attempt <= 12; attempt++) {
      long ceiling = Math.min(60_000, 1_000L << (attempt - 1));
      for (int i = 0; i < 200; i++) {
        long d = Backoff.delayMs(attempt, 1_000, 60_000, -1, r);
        assertTrue(d >= ceiling / 2 && d <= ceiling, attempt + ": " + d);
      }
    }
  }

  @Test
  void retryAfterWinsOverAShorterBackoffUpToAnHour() {
    Random r = new Random(7);
    assertEquals(45_000, Backoff.delayMs(1, 1_000, 60_000, 45_000, r));
    assertEquals(Backoff.MAX_RETRY_AFTER_MS, Backoff.delayMs(1, 1_000, 60_000, 86_400_000, r));
    assertTrue(Backoff.delayMs(8, 1_000, 60_000, 2_000, r) >= 30_000);
  }
}
