// membench reference pattern server for Node.js (node:http, standard library only).
//
//   node server.js --addr 127.0.0.1:0 [--leak-cap BYTES] [--max-size BYTES]
//                  [--cache-ttl-ms MS] [--client-leak-cap N]
//
// Serves the patterns of membench's Rust server (src/server/*.rs) with the same paths,
// status codes and JSON error bodies, and GET /api/diagnostics in the contract of
// docs/diagnostics-contract.md (version 2) with MEASURED V8 collections: every 'gc'
// PerformanceEntry, counted by kind (minor = scavenge, major = mark-compact,
// incremental = incremental marking step, weakcb = weak callbacks).
//
// Node facts that matter when reading the numbers:
// * A Buffer's bytes live OUTSIDE the V8 heap (an ArrayBuffer backing store from the C
//   allocator); only a small JS wrapper is on the heap. /api/loh, /api/array and
//   /api/pooledarray therefore show in `external_bytes` / `array_buffers_bytes`, and V8
//   only notices them through the external-memory pressure it is told about.
// * V8's own large object space holds heap objects above its regular object limit
//   (128 KiB); strings of 10 KiB (bigstring) are regular young objects.
'use strict';

const http = require('node:http');
const crypto = require('node:crypto');
const fs = require('node:fs');
const v8 = require('node:v8');
const { PerformanceObserver, constants } = require('node:perf_hooks');

// ---- arguments ----------------------------------------------------------------------
function parseArgs(argv) {
  const opts = {
    addr: '127.0.0.1:0',
    leakCap: 256 * 1024 * 1024,
    maxSize: 64 * 1024 * 1024,
    cacheTtlMs: 500,
    clientLeakCap: 2000,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s);
    const value = () => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--addr': opts.addr = value(); break;
      case '--leak-cap': opts.leakCap = Number(value()); break;
      case '--max-size': opts.maxSize = Number(value()); break;
      case '--cache-ttl-ms': opts.cacheTtlMs = Number(value()); break;
      case '--client-leak-cap': opts.clientLeakCap = Number(value()); break;
      default:
        process.stderr.write(`unknown argument ${argv[i]}; usage: node server.js --addr 127.0.0.1:0\n`);
        process.exit(2);
    }
  }
  return opts;
}
const opts = parseArgs(process.argv.slice(2));
const started = process.hrtime.bigint();

// ---- measured GC ----------------------------------------------------------------------
const GC_KINDS = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};
const gcCounts = { minor: 0, major: 0, incremental: 0, weakcb: 0 };
const gcPauseMs = { minor: 0, major: 0, incremental: 0, weakcb: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = GC_KINDS[entry.detail ? entry.detail.kind : entry.kind] || 'other';
    gcCounts[kind] = (gcCounts[kind] || 0) + 1;
    gcPauseMs[kind] = (gcPauseMs[kind] || 0) + entry.duration;
  }
}).observe({ entryTypes: ['gc'] });

// ---- counters -------------------------------------------------------------------------
const requests = {};
const errors = {};
const count = (map, key) => { map[key] = (map[key] || 0) + 1; };

class HttpError extends Error {
  constructor(status, kind, message) { super(message); this.status = status; this.kind = kind; }
}
const LEAK_CAP_REACHED = 'leak cap reached';

// ---- sizes ----------------------------------------------------------------------------
function parseSize(text) {
  const expected = `expected a whole number of bytes from 1 to ${opts.maxSize} (set with --max-size)`;
  const bad = (why) => new HttpError(400, 'bad request', `size ${JSON.stringify(text)} ${why}; ${expected}`);
  if (/^-\d+$/.test(text)) throw bad('is negative');
  if (!/^\d+$/.test(text)) throw bad('is not a number');
  const size = Number(text);
  if (size === 0) throw bad('is zero');
  if (size > opts.maxSize) throw bad('is above the limit');
  return size;
}

// ---- strings and the leak cap ---------------------------------------------------------
const BIG_STRING_CHARS = 10 * 1024;
// 'x'.repeat builds a flat one-byte string of 10 KiB (V8 stores Latin-1 as 1 byte/char).
const bigString = () => 'x'.repeat(BIG_STRING_CHARS);
const staticStrings = [];
let staticBytes = 0;
const unbounded = new Map();
let unboundedBytes = 0;
const expiring = new Map(); // key -> {value, expires}; insertion order = expiry order
let nextKey = 0;

function checkLeakCap(endpoint, adding) {
  const held = staticBytes + unboundedBytes;
  if (held + adding <= opts.leakCap) return;
  throw new HttpError(507, LEAK_CAP_REACHED,
    `leak cap reached: /api/staticstring and /api/cache/unbounded hold ${held} bytes and ${endpoint} ` +
    `would add ${adding} bytes, past --leak-cap ${opts.leakCap} bytes; POST /api/reset drops what they ` +
    'hold (or restart with a larger --leak-cap)');
}

function sweepExpiring() {
  const now = Date.now();
  for (const [key, entry] of expiring) {
    if (entry.expires > now) break;
    expiring.delete(key);
  }
}

// ---- buffers --------------------------------------------------------------------------
const PAGE = 4096;
// Node has no ArrayPool: a simple bounded pool of power-of-two classes, like the Rust
// server's (at most 16 resting buffers and 64 MiB per class).
const pool = new Map(); // class bytes -> Buffer[]
function classOf(size) { let c = 16; while (c < size) c *= 2; return c; }
function rent(size) {
  const cls = classOf(size);
  const list = pool.get(cls);
  return (list && list.pop()) || Buffer.alloc(cls);
}
function giveBack(buffer) {
  const cls = buffer.length;
  const limit = Math.max(1, Math.min(16, Math.floor((64 << 20) / cls)));
  let list = pool.get(cls);
  if (!list) { list = []; pool.set(cls, list); }
  if (list.length < limit) list.push(buffer);
}
function poolHeld() {
  let items = 0, bytes = 0;
  for (const list of pool.values()) { items += list.length; for (const b of list) bytes += b.length; }
  return { items, bytes };
}

// ---- clients --------------------------------------------------------------------------
let selfAddr = null; // set once listening
const leakedAgents = []; // {agent}
const sharedAgent = new http.Agent({ keepAlive: true });

function checkLoopbackUrl(text) {
  const accepted = 'only http:// URLs to a loopback host are accepted (127.0.0.0/8, [::1] or localhost), ' +
    'e.g. http://127.0.0.1:5000/api/ping';
  const reject = (why) => new HttpError(400, 'bad request', `url ${JSON.stringify(text)} is not accepted: ${why}; ${accepted}`);
  let url;
  try { url = new URL(text); } catch { throw reject('it is not a valid absolute URL'); }
  if (url.protocol !== 'http:') throw reject(`the scheme is "${url.protocol.replace(':', '')}", not http`);
  if (url.username || url.password) throw reject('user information (`user@`) is not accepted');
  let host = url.hostname;
  if (host === 'localhost') host = '127.0.0.1';
  const loopback = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '[::1]';
  if (!loopback) throw reject('the host is not loopback');
  return { host: host.replace(/^\[|\]$/g, ''), port: Number(url.port || 80), path: url.pathname + url.search };
}

function fetchOnce(agent, target, url) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: target.host, port: target.port, path: target.path, agent, timeout: 10000 }, (res) => {
      let bytes = 0;
      res.on('data', (chunk) => { bytes += chunk.length; });
      res.on('end', () => resolve({ status: res.statusCode, bytes }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err) => {
      const kinds = { ECONNREFUSED: 'connection refused', EADDRNOTAVAIL: 'address not available',
        ETIMEDOUT: 'timeout', ECONNRESET: 'connection reset', EMFILE: 'too many open files' };
      const kind = kinds[err.code] || 'upstream error';
      reject(new HttpError(502, kind, `the upstream ${url} failed: ${kind} (${err.code || err.message})`));
    });
  });
}

async function httpClient(which, query) {
  const url = query.get('url') || `http://${selfAddr}/api/ping`;
  const target = checkLoopbackUrl(url);
  // httpclient1: a new agent (connection pool) per request, destroyed after: the client
  // end closes first and keeps the TIME_WAIT socket. httpclient2: one shared pool.
  const agent = which === 1 ? new http.Agent({ keepAlive: true }) : sharedAgent;
  try {
    const reply = await fetchOnce(agent, target, url);
    return { client: which === 1 ? 'new per request' : 'shared', url,
      connected_to: `${target.host}:${target.port}`, upstream_status: reply.status, upstream_body_bytes: reply.bytes };
  } finally {
    if (which === 1) agent.destroy();
  }
}

async function clientLeak() {
  if (leakedAgents.length >= opts.clientLeakCap) {
    throw new HttpError(507, LEAK_CAP_REACHED, `clientleak holds ${opts.clientLeakCap} connections, its cap ` +
      `(--client-leak-cap ${opts.clientLeakCap}); POST /api/reset closes them`);
  }
  // The post-mortem's pattern: a client per request, never closed. The keep-alive agent
  // keeps its idle socket (and the server's end, in this process) open forever.
  const agent = new http.Agent({ keepAlive: true });
  const [host, port] = splitAddr(selfAddr);
  const reply = await fetchOnce(agent, { host, port, path: '/api/ping' }, `http://${selfAddr}/api/ping`);
  leakedAgents.push(agent);
  return { connections_held: leakedAgents.length, cap: opts.clientLeakCap,
    connection_heap_bytes: null, held_heap_bytes: null, upstream_status: reply.status };
}

// ---- diagnostics ----------------------------------------------------------------------
function osThreads() {
  try {
    const m = /^Threads:\s+(\d+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch { return null; }
}

function leaks() {
  sweepExpiring();
  const held = (items, bytes) => ({ items, bytes });
  let expiringBytes = 0;
  for (const e of expiring.values()) expiringBytes += e.value.length + 8;
  return {
    staticstring: held(staticStrings.length, staticBytes),
    cache_unbounded: held(unbounded.size, unboundedBytes),
    cache_expiring: held(expiring.size, expiringBytes),
    clientleak: held(leakedAgents.length, 0),
    fileprovider: held(0, 0),
    pooled_buffers: poolHeld(),
  };
}

function diagnostics() {
  const mem = process.memoryUsage();
  const spaces = v8.getHeapSpaceStatistics();
  const los = spaces.filter((s) => s.space_name === 'large_object_space' || s.space_name === 'code_large_object_space')
    .reduce((sum, s) => sum + s.space_used_size, 0);
  const pauseMs = Object.values(gcPauseMs).reduce((a, b) => a + b, 0);
  const total = Object.values(requests).reduce((a, b) => a + b, 0);
  return {
    contract_version: 2,
    pid: process.pid,
    uptime_s: Number(process.hrtime.bigint() - started) / 1e9,
    requests,
    requests_total: total,
    errors,
    leaks: leaks(),
    runtime: {
      name: 'node',
      version: process.versions.node,
      engine: `V8 ${process.versions.v8}`,
      collector: 'V8 Orinoco: Scavenger (young) + Mark-Compact (old), incremental/concurrent marking',
      flags: process.execArgv,
      large_object_threshold_bytes: 128 * 1024,
      large_object_rule: 'V8 heap objects above kMaxRegularHeapObjectSize (128 KiB) go to large_object_space; ' +
        'Buffer/ArrayBuffer bytes are never on the V8 heap (external memory)',
    },
    measured_gc: {
      source: "PerformanceObserver 'gc' entries; process.memoryUsage(); v8.getHeapSpaceStatistics()",
      collections: { ...gcCounts },
      // Collections are scavenges and mark-compacts; incremental marking steps and weak
      // callback runs are phases of the latter, counted apart above.
      collections_total: gcCounts.minor + gcCounts.major,
      pause_seconds: Object.fromEntries(Object.entries(gcPauseMs).map(([k, v]) => [k, v / 1000])),
      pause_seconds_total: pauseMs / 1000,
      heap_in_use_bytes: mem.heapUsed,
      heap_committed_bytes: mem.heapTotal,
      large_object_space_bytes: los,
      external_bytes: mem.external,
      array_buffers_bytes: mem.arrayBuffers,
      allocated_bytes_total: null,
      threads: osThreads(),
    },
  };
}

// ---- routing --------------------------------------------------------------------------
const ROUTES = ['/api/ping', '/api/bigstring', '/api/staticstring', '/api/loh', '/api/loh/{size}',
  '/api/array/{size}', '/api/pooledarray/{size}', '/api/cache/unbounded', '/api/cache/expiring',
  '/api/httpclient1', '/api/httpclient2', '/api/clientleak', '/api/diagnostics', '/api/reset'];

function route(method, path) {
  const get = (template, handler) => ({ template, method: 'GET', handler });
  const post = (template, handler) => ({ template, method: 'POST', handler });
  let m;
  if (path === '/api/ping') return get(path, () => 'pong');
  if (path === '/api/bigstring') return get(path, () => bigString());
  if (path === '/api/staticstring') return get(path, () => {
    checkLeakCap(path, BIG_STRING_CHARS);
    const s = bigString();
    staticStrings.push(s);
    staticBytes += s.length;
    return s;
  });
  if (path === '/api/loh') return get(path, () => touched(85000));
  if ((m = /^\/api\/loh\/([^/]*)$/.exec(path))) return get('/api/loh/{size}', () => touched(parseSize(decodeURIComponent(m[1]))));
  if ((m = /^\/api\/array\/([^/]*)$/.exec(path))) return get('/api/array/{size}', () => {
    const buffer = Buffer.alloc(parseSize(decodeURIComponent(m[1])));
    crypto.randomFillSync(buffer);
    return buffer;
  });
  if ((m = /^\/api\/pooledarray\/([^/]*)$/.exec(path))) return get('/api/pooledarray/{size}', (req, res) => {
    const size = parseSize(decodeURIComponent(m[1]));
    const buffer = rent(size);
    const view = buffer.subarray(0, size);
    crypto.randomFillSync(view);
    // Given back once the response is done (the article's RegisterForDispose): until
    // then the socket may still be writing from it.
    res.once('close', () => giveBack(buffer));
    return view;
  });
  if (path === '/api/cache/unbounded') return get(path, () => {
    checkLeakCap(path, BIG_STRING_CHARS + 8);
    const key = nextKey++;
    unbounded.set(key, bigString());
    unboundedBytes += BIG_STRING_CHARS + 8;
    return String(key);
  });
  if (path === '/api/cache/expiring') return get(path, () => {
    sweepExpiring();
    const key = nextKey++;
    expiring.set(key, { value: bigString(), expires: Date.now() + opts.cacheTtlMs });
    return String(key);
  });
  if (path === '/api/httpclient1') return get(path, (req, res, q) => httpClient(1, q));
  if (path === '/api/httpclient2') return get(path, (req, res, q) => httpClient(2, q));
  if (path === '/api/clientleak') return get(path, () => clientLeak());
  if (path === '/api/diagnostics') return get(path, () => diagnostics());
  if (path === '/api/reset') return post(path, () => reset());
  return null;
}

function touched(size) {
  const buffer = Buffer.alloc(size); // zeroed, like `new byte[size]`
  for (let i = 0; i < size; i += PAGE) buffer[i] = 1;
  return String(buffer.length);
}

function reset() {
  const dropped = leaks();
  staticStrings.length = 0; staticBytes = 0;
  unbounded.clear(); unboundedBytes = 0;
  expiring.clear();
  pool.clear();
  for (const agent of leakedAgents.splice(0)) agent.destroy();
  const total = dropped.staticstring.bytes + dropped.cache_unbounded.bytes + dropped.clientleak.bytes;
  return { dropped, dropped_leak_bytes: total };
}

function send(res, status, body) {
  if (typeof body === 'string') {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  } else if (Buffer.isBuffer(body)) {
    res.writeHead(status, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  } else {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }
}

function fail(res, err) {
  const e = err instanceof HttpError ? err : new HttpError(500, 'internal', String(err && err.stack || err));
  count(errors, e.kind);
  send(res, e.status, { error: e.message, kind: e.kind });
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const found = route(req.method, url.pathname);
  count(requests, found ? found.template : 'unmatched');
  if (!found) {
    return fail(res, new HttpError(404, 'not found', `no endpoint at ${req.method} ${JSON.stringify(url.pathname)}; ` +
      `the endpoints are ${ROUTES.join(', ')} (sizes in bytes, e.g. /api/loh/85000)`));
  }
  if (req.method !== found.method) {
    res.setHeader('allow', found.method);
    return fail(res, new HttpError(405, 'method not allowed', `${req.method} is not allowed on ${found.template}; ` +
      'the pattern endpoints answer GET, reset answers POST'));
  }
  try {
    send(res, 200, await found.handler(req, res, url.searchParams));
  } catch (err) {
    fail(res, err);
  }
});
// Idle keep-alive connections stay open (the Rust server does not time them out either):
// otherwise the server would close /api/clientleak's connections after 5 s.
server.keepAliveTimeout = 0;

function splitAddr(addr) {
  const i = addr.lastIndexOf(':');
  return [addr.slice(0, i).replace(/^\[|\]$/g, ''), Number(addr.slice(i + 1))];
}

const [host, port] = splitAddr(opts.addr);
server.listen(port, host, () => {
  const a = server.address();
  selfAddr = a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  process.stdout.write(`listening on http://${selfAddr}\n`);
});
server.on('error', (err) => { process.stderr.write(`cannot listen on ${opts.addr}: ${err.message}\n`); process.exit(1); });

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
    for (const agent of leakedAgents) agent.destroy();
    process.exit(0);
  });
}
