package io.marketlift.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MiniJsonTest {
  private final MiniJson json = MiniJson.INSTANCE;

  @Test
  void writesCompactJsonWithEscapesAndNoRawLineBreak() {
    Map<String, Object> v = Marketlift.fields("s", "a\"b\\c\nd\te\u0001\u2028ü", "n", 3,
        "d", 2.5, "whole", 2.0, "big", new BigDecimal("12.50"), "t", true, "z", null,
        "l", Arrays.asList(1L, "x"));
    String text = json.write(v);
    assertEquals("{\"s\":\"a\\\"b\\\\c\\nd\\te\\u0001\\u2028ü\",\"n\":3,\"d\":2.5,\"whole\":2.0,"
        + "\"big\":12.50,\"t\":true,\"z\":null,\"l\":[1,\"x\"]}", text);
    assertFalse(text.contains("\n"));
  }

  @Test
  void readsWhatItWritesAndStandardJson() {
    Object v = json.read(" {\"a\": [1, -2.5e3, \"\\u00e9\\n\", true, false, null, {}], \"b\": \"\"} ");
    Map<?, ?> m = (Map<?, ?>) v;
    List<?> a = (List<?>) m.get("a");
    assertEquals(1L, a.get(0));
    assertEquals(-2500.0, a.get(1));
    assertEquals("é\n", a.get(2));
    assertEquals(Boolean.TRUE, a.get(3));
    assertEquals(null, a.get(5));
    assertTrue(((Map<?, ?>) a.get(6)).isEmpty());
    assertEquals(v, json.read(json.write(v)));
  }

  @Test
  void rejectsInvalidJsonWithTheOffset() {
    for (String bad : new String[] {"", "{", "[1,]", "{\"a\" 1}", "01", "\"a", "tru", "1 2",
        "\"\t\""}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> json.read(bad), bad);
      assertTrue(e.getMessage().startsWith("invalid JSON at offset"), e.getMessage());
    }
  }

  @Test
  void refusesValuesJsonCannotHold() {
    assertThrows(IllegalArgumentException.class, () -> json.write(Double.NaN));
    assertThrows(IllegalArgumentException.class, () -> json.write(new Object()));
  }
}
