// The client's queueing, batching and retry logic against a scripted node:http collector.
// (The real collector is exercised by tests/browser/test_sdk.py in headless Chromium.)
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, afterEach, before, beforeEach, test } from 'node:test';

import { MarketliftError, createClient } from '../src/index.js';

/** A collector stand-in: records every request, answers from a script, then 200 by default. */
const collector = {
  server: null,
  url: '',
  requests: [],
  script: [],
  async waitFor(n, ms = 3000) {
    const end = Date.now() + ms;
    while (this.requests.length < n) {
      if (Date.now() > end) throw new Error(`expected ${n} requests, got ${this.requests.length}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  },
};

before(async () => {
  collector.server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const events = JSON.parse(body);
      collector.requests.push({ headers: req.headers, url: req.url, events });
      const answer = collector.script.shift() ?? 200;
      if (answer === 'hangup') {
        req.socket.destroy();
        return;
      }
      const [status, report] = typeof answer === 'number'
        ? [answer, { accepted: events.length, duplicates: 0, rejected: [] }]
        : answer(events);
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(report));
    });
  });
  await new Promise((r) => collector.server.listen(0, '127.0.0.1', r));
  collector.url = `http://127.0.0.1:${collector.server.address().port}`;
});

after(() => {
  collector.server.closeAllConnections();
  collector.server.close();
});

const clients = [];

beforeEach(() => {
  collector.requests = [];
  collector.script = [];
});

afterEach(async () => {
  collector.script = [];
  await Promise.all(clients.splice(0).map((c) => c.shutdown()));
});

const memory = () => {
  const m = new Map();
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => m.set(k, v), removeItem: (k) => m.delete(k), m };
};

/** A client with fast retries, shut down after each test. */
const client = (options = {}) => {
  const c = createClient({
    endpoint: collector.url, storage: memory(), flushIntervalMs: 10_000, retryBaseMs: 5, retryMaxMs: 20, ...options,
  });
  clients.push(c);
  return c;
};
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

const sentIds = () => collector.requests.map((r) => r.events.map((e) => e.event_id));

test('events carry the common fields the collector requires', async () => {
  const ml = client({ appVersion: '1.2.3', locale: 'de-DE', currency: 'EUR', country: 'DE' });
  ml.identify('buyer-42');
  const price = { amount: '12.50', currency: 'EUR' };
  const id = ml.track('add_to_cart', { listing_id: 'L1', price, properties: { ab: true } });
  await ml.flush();
  const [event] = collector.requests[0].events;
  assert.equal(event.event_id, id);
  assert.match(event.event_id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.match(event.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual(
    { ...event, event_id: undefined, ts: undefined, session_id: undefined, anonymous_id: undefined },
    {
      event_id: undefined, ts: undefined, session_id: undefined, anonymous_id: undefined,
      type: 'add_to_cart', schema_version: 1, platform: 'web', buyer_id: 'buyer-42', app_version: '1.2.3',
      locale: 'de-DE', currency: 'EUR', country: 'DE', listing_id: 'L1', price: { amount: '12.50', currency: 'EUR' },
      properties: { ab: true },
    },
  );
  assert.equal(event.anonymous_id, ml.anonymousId);
  assert.equal(typeof event.session_id, 'string');
  assert.equal(collector.requests[0].url, '/v1/events');
  await ml.shutdown();
});

test('the anonymous id persists across clients on the same storage; sessions expire after inactivity', async () => {
  const storage = memory();
  let now = Date.parse('2026-11-26T10:00:00Z');
  const a = client({ storage, now: () => now });
  a.track('page_view');
  now += 29 * 60 * 1000;
  a.track('page_view');
  now += 31 * 60 * 1000;
  a.track('page_view');
  const b = client({ storage, now: () => now });
  b.track('page_view');
  await a.flush();
  await b.flush();
  const events = collector.requests.flatMap((r) => r.events);
  assert.equal(new Set(events.map((e) => e.anonymous_id)).size, 1);
  const sessions = events.map((e) => e.session_id);
  assert.equal(sessions[0], sessions[1], 'same session within 30 minutes');
  assert.notEqual(sessions[1], sessions[2], 'new session after 31 idle minutes');
  assert.equal(sessions[2], sessions[3], 'a second tab shares the session');
  assert.equal(events[0].ts, '2026-11-26T10:00:00.000Z');
});

test('events are sent in batches of batchSize, in order, as soon as a batch fills', async () => {
  const ml = client({ batchSize: 3 });
  const ids = [ml.track('search', { query: 'q0' }), ml.track('search', { query: 'q1' })];
  await tick(50);
  assert.equal(collector.requests.length, 0, 'a partial batch waits for the timer or flush()');
  for (let i = 2; i < 7; i += 1) ids.push(ml.track('search', { query: `q${i}` }));
  await collector.waitFor(3);
  await ml.flush(); // joins the running send
  assert.deepEqual(sentIds(), [ids.slice(0, 3), ids.slice(3, 6), ids.slice(6)], 'a running send drains the rest');
  assert.equal(ml.queued, 0);
});

test('flushIntervalMs sends a partial batch', async () => {
  const ml = client({ flushIntervalMs: 30 });
  ml.track('page_view');
  await collector.waitFor(1, 1000);
  await ml.shutdown();
});

test('a failed batch is retried with the same event_ids (5xx, 429, 408, network error)', async () => {
  collector.script = [503, 429, 408, 'hangup'];
  const ml = client();
  const ids = [ml.track('favorite', { listing_id: 'L1' }), ml.track('favorite', { listing_id: 'L2' })];
  ml.flush();
  await collector.waitFor(5);
  assert.deepEqual(sentIds(), [ids, ids, ids, ids, ids]);
  await tick(50);
  assert.equal(collector.requests.length, 5, 'acknowledged, no more sends');
  assert.equal(ml.queued, 0);
});

test('a retried batch is not widened by events tracked meanwhile', async () => {
  collector.script = [500];
  const ml = client({ retryBaseMs: 40, retryMaxMs: 40 });
  const first = ml.track('page_view');
  await ml.flush();
  const second = ml.track('page_view');
  await collector.waitFor(2);
  await ml.flush();
  assert.deepEqual(sentIds(), [[first], [first], [second]]);
});

test('4xx other than 408/429 is not retried; the events go to onDropped', async () => {
  collector.script = [401];
  const dropped = [];
  const ml = client({ onDropped: (events, reason) => dropped.push({ events, reason }) });
  const id = ml.track('page_view');
  await ml.flush();
  await tick(50);
  assert.equal(collector.requests.length, 1);
  assert.deepEqual(dropped[0].events.map((e) => e.event_id), [id]);
  assert.match(dropped[0].reason, /HTTP 401/);
});

test('retries stop after maxRetries', async () => {
  collector.script = Array(10).fill(503);
  const dropped = [];
  const ml = client({ maxRetries: 2, onDropped: (events, reason) => dropped.push(reason) });
  ml.track('page_view');
  ml.flush();
  await collector.waitFor(3);
  await tick(80);
  assert.equal(collector.requests.length, 3, '1 try + 2 retries');
  assert.deepEqual(dropped, ['gave up after 3 attempts: HTTP 503']);
  assert.equal(ml.queued, 0);
});

test('events the collector rejects go to onRejected and are not retried; the rest are kept', async () => {
  collector.script = [(events) => [200, {
    accepted: 1, duplicates: 0,
    rejected: [{
      index: 1,
      event_id: events[1].event_id,
      errors: [{ field: 'locale', value: 'xx_YY', expected: 'a BCP 47 language tag' }],
    }],
  }]];
  const rejected = [];
  const ml = client({ onRejected: (r) => rejected.push(...r) });
  ml.track('page_view');
  const bad = ml.track('page_view', { locale: 'xx_YY' });
  await ml.flush();
  await tick(30);
  assert.equal(collector.requests.length, 1);
  assert.equal(rejected.length, 1);
  assert.equal(rejected[0].event_id, bad);
  assert.equal(rejected[0].event.locale, 'xx_YY');
  assert.equal(rejected[0].errors[0].field, 'locale');
});

test('a 413 splits the batch in halves', async () => {
  collector.script = [413];
  const ml = client({ batchSize: 4 });
  const ids = ['a', 'b', 'c', 'd'].map((l) => ml.track('favorite', { listing_id: l }));
  await collector.waitFor(3);
  assert.deepEqual(sentIds(), [ids, ids.slice(0, 2), ids.slice(2)]);
});

test('the unsent queue survives in storage and a new client sends it', async () => {
  collector.script = Array(5).fill(503);
  const storage = memory();
  const a = client({ storage, maxRetries: 100, retryBaseMs: 10_000, retryMaxMs: 10_000 });
  const id = a.track('search', { query: 'lamp' });
  await a.flush();
  await tick();
  assert.ok(storage.m.get('marketlift:queue').includes(id));
  collector.script = [];
  const b = client({ storage });
  await b.flush();
  await tick();
  assert.deepEqual(sentIds(), [[id], [id]]);
  assert.equal(storage.m.get('marketlift:queue'), undefined);
});

test('maxQueue drops the oldest events, reported to onDropped', async () => {
  const dropped = [];
  const onDropped = (events, reason) => dropped.push(...events.map((e) => [e.listing_id, reason]));
  const ml = client({ maxQueue: 2, onDropped });
  ['a', 'b', 'c'].forEach((l) => ml.track('favorite', { listing_id: l }));
  assert.deepEqual(dropped, [['a', 'queue full (maxQueue=2)']]);
  await ml.flush();
  assert.deepEqual(collector.requests[0].events.map((e) => e.listing_id), ['b', 'c']);
});

test('a write key is sent as a Bearer token', async () => {
  const ml = client({ writeKey: 'wk_123' });
  ml.track('page_view');
  await ml.flush();
  assert.equal(collector.requests[0].headers.authorization, 'Bearer wk_123');
});

test('invalid track input throws a clear error before anything is queued', () => {
  const ml = client();
  const cases = [
    [() => ml.track('click'), 'type', /type == "click", expected one of page_view, search/],
    [() => ml.track('search', {}), 'query', /track\("search"\): query == <missing>, expected a non-empty string/],
    [() => ml.track('purchase', {
      order_id: 'o1', line_items: [{ listing_id: 'L1', quantity: 1, unit_price: { amount: '5.00', currency: 'EUR' } }],
      revenue: { amount: 5, currency: 'EUR' },
    }), 'revenue.amount', /revenue.amount == 5, expected a decimal string >= 0 such as "12.50" \(never a JS number\)/],
    [() => ml.track('add_to_cart', { listing_id: 'L1', price: { amount: '-24.90', currency: 'EUR' } }),
      'price.amount', /price.amount == "-24.90", expected a decimal string >= 0/],
    [() => ml.track('add_to_cart', { listing_id: 'L1', price: 12.5 }), 'price', /price == 12.5, expected money as/],
    [() => ml.track('purchase', {
      order_id: 'o1', line_items: [{ listing_id: 'L1', quantity: 1, unit_price: { amount: 9.99, currency: 'EUR' } }],
      revenue: { amount: '9.99', currency: 'EUR' },
    }),
      'line_items[0].unit_price.amount', /line_items\[0\]\.unit_price\.amount == 9.99/],
    [() => ml.track('favorite', { listing_id: 'L1', colour: 'red' }),
      'colour', /colour == "red", expected no such field on favorite/],
    [() => ml.track('page_view', { properties: { nested: { a: 1 } } }),
      'properties.nested', /expected a string, a finite number, a boolean or null/],
    [() => ml.track('engagement_shown', { action: 'cart_reminder', channel: 'push', decision_id: 'd1' }),
      'propensity', /propensity == <missing>/],
  ];
  for (const [call, field, message] of cases) {
    assert.throws(call, (e) => e instanceof MarketliftError && e.field === field && message.test(e.message), field);
  }
  assert.equal(ml.queued, 0);
});

test('createClient checks its options', () => {
  assert.throws(() => createClient({}), /createClient: endpoint == <missing>, expected an http\(s\) URL/);
  assert.throws(() => createClient({ endpoint: 'http://x', platform: 'tv' }), /platform == "tv"/);
  assert.throws(
    () => createClient({ endpoint: 'http://x', batchSize: 5000 }),
    /batchSize == 5000, expected an integer from 1 to 1000/,
  );
});

test('a 422 that refuses the body as a whole goes to onDropped, not silently away', async () => {
  collector.script = [() => [422, { error: 'the body is not JSON', accepted: 0, duplicates: 0, rejected: [] }]];
  const dropped = [];
  const ml = client({ onDropped: (events, reason) => dropped.push(reason) });
  ml.track('page_view');
  await ml.flush();
  assert.deepEqual(dropped, ['HTTP 422: the body is not JSON']);
  assert.equal(ml.queued, 0);
});

test('a cleared storage does not lose the anonymous id: it is written back', async () => {
  const storage = memory();
  const ml = client({ storage });
  const first = ml.anonymousId;
  storage.m.clear();
  ml.track('page_view');
  await ml.flush();
  assert.equal(collector.requests[0].events[0].anonymous_id, first);
  assert.equal(storage.m.get('marketlift:anonymous_id'), JSON.stringify(first));
});
