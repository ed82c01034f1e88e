package io.marketlift.sdk;

import java.nio.charset.Charset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * An experiment as the assignment needs it: a salt, weighted variants, a holdout and an optional
 * layer. Same fields and rules as {@code marketlift.experiments.config} and the JS SDK.
 *
 * <p>{@code new Experiment("checkout_copy", "checkout_copy", Arrays.asList(new
 * Experiment.Variant("control", 1), new Experiment.Variant("urgency", 1)), 5, null)}
 */
public final class Experiment {
  private static final Charset UTF8 = Charset.forName("UTF-8");

  /** The experiment's key (names the cached arm and the exposure events). */
  public final String key;
  /** The hashing salt (the key unless the config sets another). */
  public final String salt;
  /** The variants, in order. */
  public final List<Variant> variants;
  /** Percent of units held out (0 to 100): they get no variant. */
  public final double holdoutPct;
  /** The layer, or null: units whose layer bucket is outside [start, end) are not in it. */
  public final Layer layer;

  /** A variant and its weight (a positive finite number). */
  public static final class Variant {
    /** The variant's name. */
    public final String name;
    /** Its weight relative to the others. */
    public final double weight;

    /**
     * Creates a variant.
     *
     * @param name the name
     * @param weight a positive finite weight
     */
    public Variant(String name, double weight) {
      this.name = name;
      this.weight = weight;
    }
  }

  /** A layer: a salt and the range [start, end) of its buckets (0 to 10000) in the experiment. */
  public static final class Layer {
    /** The layer's salt. */
    public final String salt;
    /** First bucket in the layer's range. */
    public final int start;
    /** First bucket past the range. */
    public final int end;

    /**
     * Creates a layer.
     *
     * @param salt the layer's salt
     * @param start first bucket, 0 to 10000
     * @param end first bucket past the range, start to 10000
     */
    public Layer(String salt, int start, int end) {
      this.salt = salt;
      this.start = start;
      this.end = end;
    }
  }

  /**
   * Creates an experiment; checks every field.
   *
   * @param key the experiment key
   * @param salt the hashing salt
   * @param variants at least one variant
   * @param holdoutPct 0 to 100
   * @param layer a layer or null
   * @throws MarketliftException naming the bad field
   */
  public Experiment(String key, String salt, List<Variant> variants, double holdoutPct,
      Layer layer) {
    String ctx = "Experiment";
    if (key == null || key.isEmpty()) {
      throw new MarketliftException(ctx, "key", key, "a non-empty string");
    }
    if (salt == null) {
      throw new MarketliftException(ctx, "salt", null, "a string");
    }
    if (variants == null || variants.isEmpty()) {
      throw new MarketliftException(ctx, "variants", variants == null ? null : "[]",
          "a non-empty list");
    }
    for (int i = 0; i < variants.size(); i++) {
      Variant v = variants.get(i);
      if (v == null || v.name == null || v.name.isEmpty()) {
        throw new MarketliftException(ctx, "variants[" + i + "].name", v == null ? null : v.name,
            "a non-empty string");
      }
      if (!(v.weight > 0) || Double.isInfinite(v.weight)) {
        throw new MarketliftException(ctx, "variants[" + i + "].weight", v.weight,
            "a positive finite number");
      }
    }
    if (!(holdoutPct >= 0 && holdoutPct <= 100)) {
      throw new MarketliftException(ctx, "holdout_pct", holdoutPct, "a number from 0 to 100");
    }
    if (layer != null && (layer.salt == null || layer.start < 0 || layer.end > 10000
        || layer.start > layer.end)) {
      throw new MarketliftException(ctx, "layer", layer.salt + "[" + layer.start + ", "
          + layer.end + ")", "a salt and 0 <= start <= end <= 10000");
    }
    this.key = key;
    this.salt = salt;
    this.variants = Collections.unmodifiableList(new ArrayList<Variant>(variants));
    this.holdoutPct = holdoutPct;
    this.layer = layer;
  }

  /**
   * Reads the JSON shape of {@code tests/vectors/assignment.json} and of the JS SDK:
   * {@code {salt, variants: [{name, weight}], holdout_pct, layer: null | {salt, start, end}}}.
   *
   * @param key the experiment key
   * @param json the decoded object
   * @return the experiment
   */
  public static Experiment fromMap(String key, Map<?, ?> json) {
    Object raw = json.get("variants");
    List<Variant> variants = new ArrayList<Variant>();
    if (raw instanceof List) {
      for (Object o : (List<?>) raw) {
        Map<?, ?> v = (Map<?, ?>) o;
        Object w = v.get("weight");
        variants.add(new Variant((String) v.get("name"),
            w == null ? 1.0 : ((Number) w).doubleValue()));
      }
    }
    Object hold = json.get("holdout_pct");
    Object layer = json.get("layer");
    Layer l = null;
    if (layer instanceof Map) {
      Map<?, ?> m = (Map<?, ?>) layer;
      l = new Layer((String) m.get("salt"), ((Number) m.get("start")).intValue(),
          ((Number) m.get("end")).intValue());
    }
    Object salt = json.get("salt");
    return new Experiment(key, salt == null ? key : (String) salt, variants,
        hold == null ? 0 : ((Number) hold).doubleValue(), l);
  }

  /**
   * 32-bit FNV-1a of bytes: offset 2166136261, prime 16777619.
   *
   * @param bytes the input
   * @return the hash as an unsigned value in a long
   */
  public static long fnv1a32(byte[] bytes) {
    int h = 0x811c9dc5;
    for (byte b : bytes) {
      h ^= b & 0xff;
      h *= 16777619;
    }
    return h & 0xffffffffL;
  }

  /**
   * The bucket, 0 to 9999, of {@code unit} under {@code salt}: {@code fnv1a32(utf8(decimal of
   * fnv1a32(utf8(salt + ":" + unit)))) % 10000}.
   *
   * @param salt the salt
   * @param unit a buyer id or anonymous id
   * @return the bucket
   */
  public static int bucket(String salt, String unit) {
    long inner = fnv1a32((salt + ":" + unit).getBytes(UTF8));
    return (int) (fnv1a32(Long.toString(inner).getBytes(UTF8)) % 10000);
  }

  /**
   * The variant {@code unit} sees, or null outside the layer or in the holdout (hashing only;
   * no targeting, no schedule).
   *
   * @param unit a buyer id or anonymous id
   * @return the variant's name, or null
   */
  public String variantOf(String unit) {
    if (layer != null) {
      int b = bucket(layer.salt, unit);
      if (!(layer.start <= b && b < layer.end)) {
        return null;
      }
    }
    double hold = Math.floor(holdoutPct * 100.0);
    int b = bucket(salt, unit);
    if (b < hold) {
      return null;
    }
    double total = 0;
    double[] cumulative = new double[variants.size()];
    for (int i = 0; i < cumulative.length; i++) {
      total += variants.get(i).weight;
      cumulative[i] = total;
    }
    for (int i = 0; i < cumulative.length; i++) {
      double t = i == cumulative.length - 1 ? 10000
          : hold + Math.floor((10000 - hold) * cumulative[i] / total);
      if (b < t) {
        return variants.get(i).name;
      }
    }
    return null;
  }
}
