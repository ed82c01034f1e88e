package io.marketlift.sdk;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The shared vectors of {@code tests/vectors/assignment.json} (also checked by Python and JS). */
class AssignmentVectorsTest {
  static Map<?, ?> vectors() throws Exception {
    File root = new File(System.getProperty("marketlift.root", "."));
    File file = new File(root, "tests/vectors/assignment.json");
    String text = new String(Files.readAllBytes(file.toPath()), StandardCharsets.UTF_8);
    return (Map<?, ?>) MiniJson.INSTANCE.read(text);
  }

  @Test
  void fnv1aOfKnownInputs() {
    // Published FNV-1a 32-bit values.
    assertEquals(0x811c9dc5L, Experiment.fnv1a32(new byte[0]));
    assertEquals(0xe40c292cL, Experiment.fnv1a32("a".getBytes(StandardCharsets.UTF_8)));
    assertEquals(0xbf9cf968L, Experiment.fnv1a32("foobar".getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void everyBucketEqualsTheVectors() throws Exception {
    List<?> buckets = (List<?>) vectors().get("buckets");
    assertTrue(buckets.size() >= 100, "vectors: " + buckets.size());
    for (Object o : buckets) {
      Map<?, ?> v = (Map<?, ?>) o;
      String salt = (String) v.get("salt");
      String unit = (String) v.get("unit");
      assertEquals(((Number) v.get("bucket")).intValue(), Experiment.bucket(salt, unit),
          salt + ":" + unit);
    }
  }

  @Test
  void everyAssignmentEqualsTheVectors() throws Exception {
    List<?> assignments = (List<?>) vectors().get("assignments");
    assertTrue(assignments.size() >= 100, "vectors: " + assignments.size());
    int nulls = 0;
    for (Object o : assignments) {
      Map<?, ?> v = (Map<?, ?>) o;
      Experiment e = Experiment.fromMap("vector", (Map<?, ?>) v.get("experiment"));
      String unit = (String) v.get("unit");
      String expected = (String) v.get("variant");
      nulls += expected == null ? 1 : 0;
      assertEquals(expected, e.variantOf(unit), v.toString());
    }
    assertTrue(nulls > 0, "the vectors cover holdouts and layers");
  }

  @Test
  void badExperimentsNameTheField() {
    MarketliftException e = assertThrows(MarketliftException.class, () -> new Experiment("k",
        "k", Arrays.asList(new Experiment.Variant("a", 1), new Experiment.Variant("b", 0)), 0,
        null));
    assertEquals("variants[1].weight", e.field);
    assertEquals("Experiment: variants[1].weight == 0.0, expected a positive finite number.",
        e.getMessage());
    e = assertThrows(MarketliftException.class, () -> new Experiment("k", "k",
        Arrays.asList(new Experiment.Variant("a", 1)), 101, null));
    assertEquals("holdout_pct", e.field);
  }
}
