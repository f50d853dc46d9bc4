'use strict';
// mockidp for Node: startMockIdp() runs the server binary on a free loopback port and drives it
// through its admin API (/_mockidp/..., described by GET /_mockidp/openapi.json). Types are in
// index.d.ts. Needs only Node >= 18 (global fetch).

const { spawn } = require('node:child_process');
const { binaryPath } = require('./binary.js');

/** The banner line the server prints once it listens. */
const LISTENING = /^mockidp \S+ listening on (\S+)/m;
/** Most log text kept in memory (the tail of the server's stderr). */
const LOG_LIMIT = 1 << 20;

/**
 * Starts a mockidp server; resolves once it answers.
 * @param {import('./index').StartOptions} [options]
 * @returns {Promise<import('./index').MockIdp>}
 */
async function startMockIdp(options = {}) {
  const args = ['serve', '--bind', '127.0.0.1', '--port', '0'];
  if (options.fixtures) args.push('--config', String(options.fixtures));
  if (options.adminToken) args.push('--admin-token', options.adminToken);
  args.push(...(options.args ?? []));
  const env = { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'info', ...options.env };
  // Our own flags decide; a stray MOCKIDP_PORT etc. in the caller's environment must not.
  for (const name of ['MOCKIDP_PORT', 'MOCKIDP_BIND', 'MOCKIDP_CONFIG', 'MOCKIDP_ADMIN_TOKEN']) {
    if (!options.env || !(name in options.env)) delete env[name];
  }
  const child = spawn(options.binary ?? binaryPath(), args, {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const append = (chunk) => {
    log = (log + chunk).slice(-LOG_LIMIT);
  };
  child.stderr.setEncoding('utf8').on('data', append);
  child.stdout.setEncoding('utf8');
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const url = await new Promise((resolve, reject) => {
    let banner = '';
    const timer = setTimeout(() => fail(new Error(`mockidp was not ready within ${options.timeoutMs ?? 10000} ms\n${log}`)), options.timeoutMs ?? 10000);
    const onData = (chunk) => {
      append(chunk);
      banner += chunk;
      const match = LISTENING.exec(banner);
      if (match && /^ready$/m.test(banner)) {
        cleanup();
        resolve(match[1]);
      }
    };
    const onExit = (code, signal) => fail(new Error(`mockidp exited (${code ?? signal}) before it was ready:\n${log}`));
    const onError = (e) => fail(new Error(`mockidp could not be started: ${e.message}`));
    function cleanup() {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.stdout.on('data', append); // keep draining: a full pipe would block the server
      child.off('close', onExit);
      child.off('error', onError);
    }
    function fail(e) {
      cleanup();
      child.kill('SIGKILL');
      reject(e);
    }
    child.stdout.on('data', onData);
    child.once('close', onExit); // after stdio ends: the log then holds the reason
    child.once('error', onError);
  });
  // The server is ours: it must not keep the test runner alive if a suite forgets stop().
  child.unref();
  for (const stream of [child.stdout, child.stderr]) stream.unref?.();

  const base = client(url, `${url}/_mockidp`, options.adminToken);
  await base.loadIssuers();
  await base.admin.clearJournal(); // tests see only their own requests
  return {
    ...base.controls,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
    log: () => log,
  };
}

/**
 * A mockidp server that is already running (a container of the CI job, say): the same
 * controls, no process of ours (stop() leaves it running). Give each test a namespace()
 * rather than reset() when other workers share that server.
 * @param {string} url
 * @param {{ adminToken?: string }} [options]
 * @returns {Promise<import('./index').MockIdp>}
 */
async function connectMockIdp(url, options = {}) {
  const base = client(url.replace(/\/+$/, ''), `${url.replace(/\/+$/, '')}/_mockidp`, options.adminToken);
  await base.loadIssuers();
  return { ...base.controls, async stop() {}, log: () => '' };
}

const present = (fields) => Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
const segment = encodeURIComponent;

/**
 * The controls of a server or of one of its namespaces: its admin API at `adminUrl`, its
 * issuers' URLs and minted tokens.
 */
function client(url, adminUrl, adminToken) {
  const adminPath = new URL(adminUrl).pathname;
  const request = async (method, path, body) => {
    const headers = {};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (adminToken) headers.Authorization = `Bearer ${adminToken}`;
    const resp = await fetch(`${adminUrl}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await resp.text();
    if (!resp.ok) throw new Error(`${method} ${adminPath}${path}: HTTP ${resp.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };

  const admin = {
    request,
    issuers: () => request('GET', '/issuers'),
    override: (claims, o = {}) => request('POST', '/overrides', present({ claims, header: o.header, client_id: o.clientId, issuer: o.issuer, username: o.username, token: o.token, count: o.count ?? 1 })),
    defect: (defect, o = {}) => request('POST', '/defects', present({ defect, client_id: o.clientId, issuer: o.issuer, username: o.username, token: o.token, count: o.count ?? 1 })),
    fail: (endpoint, o = {}) => request('POST', '/failures', present({ endpoint, status: o.status, error: o.error, error_description: o.errorDescription, delay_ms: o.delayMs, drop: o.drop, issuer: o.issuer, count: o.count ?? 1 })),
    advanceClock: async (seconds) => (await request('POST', '/clock', { advance_secs: seconds })).now,
    now: async () => (await request('GET', '/clock')).now,
    rotateKeys: (graceSecs) => request('POST', '/keys/rotate', present({ grace_secs: graceSecs })),
    journal: (filters = {}) => {
      const query = new URLSearchParams(present(filters)).toString();
      return request('GET', `/journal${query ? `?${query}` : ''}`);
    },
    clearJournal: () => request('DELETE', '/journal'),
    putClient: (issuer, client) => request('PUT', `/issuers/${segment(issuer)}/clients/${segment(client.id)}`, client),
    putUser: (issuer, user) => request('PUT', `/issuers/${segment(issuer)}/users/${segment(user.username)}`, user),
    reset: () => request('POST', '/reset'),
  };

  const issuerUrls = new Map();
  const issuerOf = async (clientId) => {
    const found = (await admin.issuers()).find((i) => i.clients.includes(clientId));
    if (!found) throw new Error(`no issuer has a client ${JSON.stringify(clientId)}: pass { issuer }`);
    return found.name;
  };

  const controls = {
    url,
    issuerUrl(name) {
      const value = issuerUrls.get(name);
      if (value === undefined) throw new Error(`no issuer ${JSON.stringify(name)} (known: ${[...issuerUrls.keys()].join(', ')})`);
      return value;
    },
    async token(clientId, o = {}) {
      const body = present({ issuer: o.issuer ?? (await issuerOf(clientId)), client_id: clientId, username: o.user, claims: o.claims, scope: o.scope, ttl_secs: o.ttl });
      return (await request('POST', '/tokens', body)).access_token;
    },
    admin,
    /** An isolated copy of every issuer (own clients, users, sessions, journal, rules, clock). */
    async namespace(o = {}) {
      const body = present({ id: o.id, fixtures: o.fixtures, own_keys: o.ownKeys });
      const created = await request('POST', '/namespaces', body);
      const ns = client(created.url, created.admin_url, adminToken);
      for (const [name, issuer] of Object.entries(created.issuers)) ns.issuerUrls.set(name, issuer);
      const { namespace: _nested, ...nsControls } = ns.controls;
      return {
        ...nsControls,
        id: created.id,
        async delete() {
          try {
            await request('DELETE', `/namespaces/${segment(created.id)}`);
          } catch (e) {
            if (!/HTTP 404/.test(e.message)) throw e;
          }
        },
      };
    },
  };

  // Every issuer's URL as its discovery document announces it (public_url / frontend_url
  // included), read once.
  const loadIssuers = async () => {
    for (const issuer of await admin.issuers()) {
      const resp = await fetch(`${url}${issuer.path}/.well-known/openid-configuration`);
      issuerUrls.set(issuer.name, (await resp.json()).issuer);
    }
  };
  return { controls, admin, issuerUrls, loadIssuers };
}

module.exports = { startMockIdp, connectMockIdp, binaryPath };
