// decide(): the client side of POST /v1/decide, against a node:http server answering the contract.
// (The real server is exercised by tests/browser/test_storefront.py in headless Chromium.)
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, afterEach, before, beforeEach, test } from 'node:test';

import { DecideError, MarketliftError, createClient, validateDecideRequest } from '../src/index.js';

/** A decision API stand-in: records requests, answers from a script, else a valid decision. */
const server = {
  http: null,
  url: '',
  requests: [],
  script: [],
};

const decision = (request) => ({
  decision_id: 'd-1',
  listings: (request.candidates ?? ['L1', 'L2', 'L3']).slice(0, request.limit ?? 20)
    .map((listing_id, i) => ({ listing_id, score: 1 - i / 10, reason: 'personalized' })),
  engagement: {
    action: 'cart_reminder', channel: 'onsite', propensity: 0.42, touchpoint: 'banner',
    copy: { headline: 'Still thinking it over?', body: 'Your cart is waiting.' }, copy_status: 'hit',
  },
  assignments: [{ experiment_key: 'ranking_v2', variant: 'treatment', unit: request.buyer_id ?? request.anonymous_id }],
  models: { ranker: 'ranker@3', intent: 'intent@1', policy: 'policy@2' },
  degraded: false,
  degraded_reasons: [],
  timings_ms: { assign: 0.01, features: 0.2, score: 0.4 },
});

before(async () => {
  server.http = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      const request = body ? JSON.parse(body) : null;
      server.requests.push({ method: req.method, url: req.url, headers: req.headers, body: request });
      const answer = server.script.shift() ?? 200;
      if (answer === 'hangup') {
        req.socket.destroy();
        return;
      }
      if (typeof answer === 'object' && answer.delayMs) {
        setTimeout(() => {
          if (res.writableEnded || res.destroyed) return;
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify(decision(request)));
        }, answer.delayMs);
        return;
      }
      const [status, reply] = typeof answer === 'number' ? [answer, decision(request)] : answer(request);
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(typeof reply === 'string' ? reply : JSON.stringify(reply));
    });
  });
  await new Promise((r) => server.http.listen(0, '127.0.0.1', r));
  server.url = `http://127.0.0.1:${server.http.address().port}`;
});

after(() => {
  server.http.closeAllConnections();
  server.http.close();
});

const clients = [];
beforeEach(() => {
  server.requests = [];
  server.script = [];
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.shutdown()));
});

const memory = () => {
  const m = new Map();
  return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => m.set(k, v), removeItem: (k) => m.delete(k) };
};
const client = (options = {}) => {
  const c = createClient({ endpoint: server.url, storage: memory(), flushIntervalMs: 10_000, ...options });
  clients.push(c);
  return c;
};

test('decide posts the request with the client defaults and returns the decision', async () => {
  const ml = client({ locale: 'de-DE', country: 'DE' });
  ml.identify('buyer-7');
  const answer = await ml.decide({
    surface: 'cart', context: { listing_id: null, query: null, cart: ['L9'] }, candidates: ['L1', 'L2'], limit: 1,
  });
  assert.equal(server.requests.length, 1);
  const [sent] = server.requests;
  assert.equal(sent.method, 'POST');
  assert.equal(sent.url, '/v1/decide');
  assert.equal(sent.headers['content-type'], 'application/json');
  assert.equal(sent.headers.authorization, undefined, 'no decide key, no header');
  assert.equal(typeof sent.body.session_id, 'string');
  assert.deepEqual({ ...sent.body, session_id: undefined }, {
    buyer_id: 'buyer-7', anonymous_id: ml.anonymousId, session_id: undefined, platform: 'web', locale: 'de-DE',
    country: 'DE', surface: 'cart', context: { listing_id: null, query: null, cart: ['L9'] },
    candidates: ['L1', 'L2'], limit: 1,
  });
  assert.equal(answer.decision_id, 'd-1');
  assert.deepEqual(answer.listings.map((l) => l.listing_id), ['L1']);
  assert.equal(answer.engagement.copy.headline, 'Still thinking it over?');
  assert.deepEqual(answer.assignments, [{ experiment_key: 'ranking_v2', variant: 'treatment', unit: 'buyer-7' }]);
  assert.equal(answer.degraded, false);
});

test('the session of decide is the session of the events', async () => {
  const ml = client({ locale: 'en-US' });
  ml.track('page_view');
  await ml.flush();
  await ml.decide({ surface: 'home' });
  const [events, decide] = server.requests;
  assert.equal(decide.body.session_id, events.body[0].session_id);
  assert.equal(decide.body.buyer_id, null, 'an anonymous buyer sends buyer_id null');
  assert.equal(decide.body.anonymous_id, events.body[0].anonymous_id);
});

test('an endpoint given as .../v1/events still decides at .../v1/decide', async () => {
  const ml = client({ endpoint: `${server.url}/v1/events/`, locale: 'fr-FR' });
  await ml.decide({ surface: 'home' });
  assert.equal(server.requests[0].url, '/v1/decide');
});

test('a decide key is sent as a Bearer token (the write key is not)', async () => {
  const ml = client({ locale: 'en-US', writeKey: 'wk_public', decideKey: 'dk_secret_1' });
  await ml.decide({ surface: 'home' });
  assert.equal(server.requests[0].headers.authorization, 'Bearer dk_secret_1');
});

test('an explicit field overrides the default, null included', async () => {
  const ml = client({ locale: 'en-US' });
  ml.identify('buyer-1');
  await ml.decide({ surface: 'search', buyer_id: null, locale: 'fr-FR', context: { query: 'vase' } });
  const { body } = server.requests[0];
  assert.equal(body.buyer_id, null);
  assert.equal(body.locale, 'fr-FR');
  assert.deepEqual(body.context, { query: 'vase' });
});

test('invalid input throws a MarketliftError naming the field, before anything is sent', async () => {
  const ml = client({ locale: 'en-US' });
  const cases = [
    [{ surface: 'checkout' }, 'surface', /decide: surface == "checkout", expected one of home, search, listing, cart, push/],
    [{ surface: 'home', limit: 0 }, 'limit', /limit == 0, expected an integer from 1 to 100/],
    [{ surface: 'home', limit: 2.5 }, 'limit', /limit == 2.5/],
    [{ surface: 'home', platform: 'tv' }, 'platform', /platform == "tv", expected one of web, ios, android/],
    [{ surface: 'home', locale: 'en_US' }, 'locale', /locale == "en_US", expected a BCP 47 tag/],
    [{ surface: 'home', colour: 'red' }, 'colour', /colour == "red", expected no such field/],
    [{ surface: 'home', context: { cart: 'L1' } }, 'context.cart', /context.cart == "L1", expected an array/],
    [{ surface: 'home', context: { cart: Array(201).fill('L1') } }, 'context.cart', /expected an array of at most 200 listing ids/],
    [{ surface: 'home', context: { recent: Array(51).fill('L1') } }, 'context.recent', /expected an array of at most 50 listing ids/],
    [{ surface: 'search', context: { query: 'q'.repeat(513) } }, 'context.query', /expected null or a string of at most 512 characters/],
    [{ surface: 'home', context: { basket: [] } }, 'context.basket', /no such field \(one of listing_id, query, cart, recent, channels\)/],
    [{ surface: 'push', context: { channels: ['sms'] } }, 'context.channels', /context.channels == \["sms"\], expected null or an array of push, email/],
    [{ surface: 'home', candidates: ['L1', 7] }, 'candidates[1]', /candidates\[1\] == 7/],
    [{ surface: 'home', buyer_id: null, anonymous_id: null }, 'buyer_id', /a buyer_id or an anonymous_id/],
  ];
  for (const [request, field, message] of cases) {
    await assert.rejects(ml.decide(request), (e) => e instanceof MarketliftError && e.field === field && message.test(e.message), field);
  }
  await assert.rejects(ml.decide('home'), /decide: request == "home", expected an object/);
  assert.equal(server.requests.length, 0);
  assert.doesNotThrow(() => validateDecideRequest({ surface: 'push', anonymous_id: 'a', platform: 'ios', locale: 'de-DE' }));
  assert.doesNotThrow(() => validateDecideRequest({ surface: 'push', anonymous_id: 'a', platform: 'ios', locale: 'de-DE', context: { channels: ['email'] } }));
});

test('a 422 becomes a DecideError with the field names of the answer', async () => {
  server.script = [() => [422, {
    error: 'invalid decide request',
    errors: [{ field: 'context.listing_id', value: 'x'.repeat(3), expected: 'a known listing id' }],
  }]];
  const ml = client({ locale: 'en-US' });
  await assert.rejects(ml.decide({ surface: 'listing', context: { listing_id: 'xxx' } }), (e) => {
    assert.ok(e instanceof DecideError);
    assert.equal(e.status, 422);
    assert.equal(e.field, 'context.listing_id');
    assert.equal(e.retryable, false);
    assert.equal(e.message, 'decide: HTTP 422: invalid decide request; context.listing_id == "xxx", expected a known listing id');
    return true;
  });
});

test('401, 5xx, a hang-up and a malformed body reject with a DecideError', async () => {
  const ml = client({ locale: 'en-US' });
  server.script = [() => [401, { error: "missing or wrong key: send 'Authorization: Bearer <key>'" }]];
  await assert.rejects(ml.decide({ surface: 'home' }), (e) => e instanceof DecideError && e.status === 401 && !e.retryable
    && /HTTP 401: missing or wrong key/.test(e.message));
  server.script = [() => [503, 'upstream down']];
  await assert.rejects(ml.decide({ surface: 'home' }), (e) => e.status === 503 && e.retryable && /upstream down/.test(e.message));
  server.script = ['hangup'];
  await assert.rejects(ml.decide({ surface: 'home' }), (e) => e instanceof DecideError && e.status === null && e.retryable
    && /network error/.test(e.message));
  server.script = [() => [200, { listings: [] }]];
  await assert.rejects(ml.decide({ surface: 'home' }), /malformed answer: decision_id == <missing>/);
});

test('decide gives up after decideTimeoutMs (or the per-call timeoutMs)', async () => {
  const ml = client({ locale: 'en-US', decideTimeoutMs: 50 });
  server.script = [{ delayMs: 500 }];
  const started = Date.now();
  await assert.rejects(ml.decide({ surface: 'home' }), (e) => e instanceof DecideError && e.status === null
    && e.message === 'decide: no answer within 50 ms');
  assert.ok(Date.now() - started < 400);
  server.script = [{ delayMs: 100 }];
  const answer = await ml.decide({ surface: 'home' }, { timeoutMs: 2000 });
  assert.equal(answer.decision_id, 'd-1');
});

test('createClient checks the decide options', () => {
  assert.throws(() => createClient({ endpoint: 'http://x', decideKey: 5 }), /decideKey == 5, expected a string/);
  assert.throws(() => createClient({ endpoint: 'http://x', decideTimeoutMs: -1 }), /decideTimeoutMs == -1/);
});
