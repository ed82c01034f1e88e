package io.marketlift.sdk;

/**
 * Turns JSON text into plain Java values and back.
 *
 * <p>Values are {@code java.util.Map<String, Object>} (objects, keys in order), {@code
 * java.util.List<Object>} (arrays), {@code String}, {@code Long} or {@code Double} (numbers;
 * {@code Integer}, {@code BigDecimal} and other {@code Number}s are accepted when writing),
 * {@code Boolean} and {@code null}. The SDK ships {@link MiniJson}; an app may plug in its own
 * (for instance one over Android's {@code org.json}) through {@link Marketlift.Config#json}.
 */
public interface JsonCodec {
  /**
   * Writes a value as compact JSON with no raw line breaks (the file queue relies on it).
   *
   * @param value a value made of the types above
   * @return the JSON text
   * @throws IllegalArgumentException for a value of another type or a non-finite number
   */
  String write(Object value);

  /**
   * Reads JSON text.
   *
   * @param text one JSON value
   * @return the value, made of the types above
   * @throws IllegalArgumentException when the text is not JSON
   */
  Object read(String text);
}
