package io.marketlift.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.text.SimpleDateFormat;
import java.util.Date;
import java.util.Locale;
import java.util.Random;
import java.util.TimeZone;
import org.junit.jupiter.api.Test;

class IsoTimeTest {
  @Test
  void knownInstants() {
    assertEquals("1970-01-01T00:00:00.000Z", Marketlift.iso(0));
    assertEquals("2026-12-04T16:00:00.000Z", Marketlift.iso(1_796_400_000_000L));
    assertEquals("2024-02-29T23:59:59.999Z", Marketlift.iso(1_709_251_199_999L));
    assertEquals("1969-12-31T23:59:59.999Z", Marketlift.iso(-1));
  }

  @Test
  void equalsTheJdkFormatterOverFourCenturies() {
    SimpleDateFormat f = new SimpleDateFormat("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", Locale.ROOT);
    f.setTimeZone(TimeZone.getTimeZone("UTC"));
    Random r = new Random(25);
    for (int i = 0; i < 20_000; i++) {
      long ms = (long) (r.nextDouble() * 12_600_000_000_000L) - 3_000_000_000_000L;
      assertEquals(f.format(new Date(ms)), Marketlift.iso(ms), Long.toString(ms));
    }
  }
}
