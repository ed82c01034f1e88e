// Assignment must match the Python implementation byte for byte: checked against the vectors
// that tests/experiments/make_assignment_vectors.py writes from marketlift.experiments.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { MarketliftError, armValues, assignVariant, bucket, fnv1a32 } from '../src/index.js';

const vectors = JSON.parse(
  readFileSync(new URL('../../../tests/vectors/assignment.json', import.meta.url), 'utf8'),
);
const utf8 = (s) => new TextEncoder().encode(s);

test('fnv1a32 matches the published FNV-1a test vectors', () => {
  assert.equal(fnv1a32(utf8('')), 0x811c9dc5);
  assert.equal(fnv1a32(utf8('a')), 0xe40c292c);
  assert.equal(fnv1a32(utf8('foobar')), 0xbf9cf968);
});

test('bucket matches every Python vector', () => {
  assert.ok(vectors.buckets.length > 50);
  for (const { salt, unit, bucket: expected } of vectors.buckets) {
    assert.equal(bucket(salt, unit), expected, `bucket(${JSON.stringify(salt)}, ${JSON.stringify(unit)})`);
  }
});

test('assignVariant matches every Python vector', () => {
  assert.ok(vectors.assignments.length > 100);
  const seen = new Set();
  for (const { experiment, unit, variant } of vectors.assignments) {
    assert.equal(assignVariant(experiment, unit), variant, `${experiment.salt} / ${JSON.stringify(unit)}`);
    seen.add(variant);
  }
  assert.ok(seen.has(null) && seen.size >= 4, 'vectors cover holdouts, layers and several variants');
});

test('assignVariant rejects a malformed experiment with the field named', () => {
  assert.throws(
    () => assignVariant({ salt: 's', variants: [{ name: 'a', weight: -1 }] }, 'u'),
    (e) => e instanceof MarketliftError && e.field === 'variants[0].weight' && /-1/.test(e.message),
  );
  assert.throws(
    () => assignVariant({ salt: 's', variants: [{ name: 'a', weight: 1 }], holdout_pct: 150 }, 'u'),
    /holdout_pct == 150, expected a number from 0 to 100/,
  );
});

test('armValues gives the assigned arm and its values, with the same hashing', () => {
  let assigned = 0;
  for (const { experiment, unit, variant } of vectors.assignments) {
    const withValues = {
      ...experiment,
      variants: experiment.variants.map((v, i) => (i === 0 ? { ...v, values: { limit: 3, policy: 'none' } } : v)),
    };
    const got = armValues(withValues, unit);
    if (variant === null) {
      assert.equal(got, null);
      continue;
    }
    assigned += 1;
    assert.equal(got.variant, variant);
    const first = experiment.variants[0].name === variant;
    assert.deepEqual(got.values, first ? { limit: 3, policy: 'none' } : {});
  }
  assert.ok(assigned > 50);
  const bad = { salt: 's', variants: [{ name: 'a', weight: 1, values: 'x' }] };
  assert.throws(() => armValues(bad, 'u'), MarketliftError);
});
