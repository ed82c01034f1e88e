package io.marketlift.sdk;

import java.text.ParsePosition;
import java.text.SimpleDateFormat;
import java.util.Date;
import java.util.Locale;
import java.util.Random;
import java.util.TimeZone;

/**
 * Waits between retries of a batch: exponential with equal jitter, never shorter than the
 * server's {@code Retry-After} (seconds or an HTTP date), which is honoured up to
 * {@link #MAX_RETRY_AFTER_MS}.
 */
final class Backoff {
  /** Longest {@code Retry-After} honoured: one hour. */
  static final long MAX_RETRY_AFTER_MS = 3600_000L;

  private Backoff() {}

  /**
   * The wait before retry number {@code attempt}.
   *
   * @param attempt 1 for the first retry
   * @param baseMs the first wait's ceiling
   * @param maxMs the largest ceiling
   * @param retryAfterMs the server's Retry-After in ms, or a negative number for none
   * @param random the jitter's source
   * @return milliseconds to wait
   */
  static long delayMs(int attempt, long baseMs, long maxMs, long retryAfterMs, Random random) {
    long ceiling = baseMs;
    for (int i = 1; i < attempt && ceiling < maxMs; i++) {
      ceiling *= 2;
    }
    ceiling = Math.min(ceiling, maxMs);
    long half = ceiling / 2;
    long jittered = half + (half > 0 ? (long) (random.nextDouble() * (ceiling - half)) : 0);
    return Math.max(jittered, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
  }

  /**
   * Reads a {@code Retry-After} header: delay-seconds or an IMF-fixdate (RFC 9110).
   *
   * @param header the header or null
   * @param nowMs the current time
   * @return milliseconds to wait, or -1 when the header is absent or unreadable
   */
  static long parseRetryAfter(String header, long nowMs) {
    if (header == null) {
      return -1;
    }
    String h = header.trim();
    if (h.matches("[0-9]{1,10}")) {
      return Long.parseLong(h) * 1000L;
    }
    SimpleDateFormat f = new SimpleDateFormat("EEE, dd MMM yyyy HH:mm:ss zzz", Locale.US);
    f.setTimeZone(TimeZone.getTimeZone("GMT"));
    Date d = f.parse(h, new ParsePosition(0));
    return d == null ? -1 : Math.max(0, d.getTime() - nowMs);
  }
}
