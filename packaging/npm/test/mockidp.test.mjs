// The mockidp npm package as installed from its packed tarballs (packaging/test-npm.sh), driven
// with openid-client as a user's node:test suite would.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as client from 'openid-client';
import { startMockIdp, connectMockIdp, binaryPath } from 'mockidp';

const insecure = { execute: [client.allowInsecureRequests] }; // http:// on loopback
const CALLBACK = 'http://localhost:8080/callback';
const idp = await startMockIdp();
after(() => idp.stop());

const claimsOf = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
const iopole = (id = 'clientId', secret = 'clientSecret') =>
  client.discovery(new URL(idp.issuerUrl('iopole')), id, secret, undefined, insecure);

test('the binary comes from the platform package', () => {
  const path = binaryPath();
  assert.match(path, /node_modules\/@mockidp\/linux-x64\/bin\/mockidp$/);
  assert.ok(existsSync(path));
});

test('every issuer URL is the one its discovery announces', async () => {
  assert.equal(idp.issuerUrl('iopole'), `${idp.url}/realms/iopole`);
  assert.equal(idp.issuerUrl('inqom'), `${idp.url}/identity`);
  assert.equal(idp.issuerUrl('generic'), idp.url);
  assert.throws(() => idp.issuerUrl('nope'), /no issuer "nope"/);
});

test('client credentials, then introspection, through openid-client', async () => {
  const config = await iopole();
  const tokens = await client.clientCredentialsGrant(config);
  assert.equal(claimsOf(tokens.access_token).azp, 'clientId');
  const introspection = await client.tokenIntrospection(config, tokens.access_token);
  assert.equal(introspection.active, true);
  assert.equal(introspection.client_id, 'clientId');
});

test('authorization code with PKCE, ID token and userinfo, through openid-client', async () => {
  const config = await iopole('iopole-web', 'iopole-web-secret');
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const authorize = client.buildAuthorizationUrl(config, {
    redirect_uri: CALLBACK,
    scope: 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  // The user's part: the login page's form, filled in as alice.
  const page = await fetch(authorize);
  const html = await page.text();
  const action = html.match(/<form id="kc-form-login"[^>]* action="([^"]+)"/)[1].replaceAll('&amp;', '&');
  const loginId = html.match(/name="login_id" value="([^"]+)"/)[1];
  // The login form is bound to the browser that opened it: send back the cookies it set.
  const cookies = page.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const login = await fetch(action, {
    method: 'POST',
    headers: { cookie: cookies },
    body: new URLSearchParams({ login_id: loginId, username: 'alice', password: 'alice' }),
    redirect: 'manual',
  });
  assert.equal(login.status, 302, await login.text());
  const tokens = await client.authorizationCodeGrant(config, new URL(login.headers.get('location')), {
    pkceCodeVerifier: verifier,
    expectedState: state,
    expectedNonce: nonce,
  });
  const idClaims = tokens.claims();
  assert.equal(idClaims.preferred_username, 'alice');
  const userinfo = await client.fetchUserInfo(config, tokens.access_token, idClaims.sub);
  assert.equal(userinfo.email, 'alice@example.test');
});

test('override, defect and failure rules reach openid-client', async () => {
  const config = await iopole();
  await idp.admin.override({ tenant: 'acme', azp: null }, { clientId: 'clientId' });
  const overridden = claimsOf((await client.clientCredentialsGrant(config)).access_token);
  assert.equal(overridden.tenant, 'acme');
  assert.equal(overridden.azp, undefined);
  assert.equal(claimsOf((await client.clientCredentialsGrant(config)).access_token).tenant, undefined);

  await idp.admin.defect('wrong_issuer');
  assert.notEqual(claimsOf((await client.clientCredentialsGrant(config)).access_token).iss, idp.issuerUrl('iopole'));

  await idp.admin.fail('token', { status: 503, error: 'temporarily_unavailable' });
  // openid-client parses OAuth errors of 400/401 only; a 503 comes back as the raw response.
  const failure = await client.clientCredentialsGrant(config).catch((e) => e);
  assert.equal(failure.code, 'OAUTH_RESPONSE_IS_NOT_CONFORM');
  assert.equal(failure.cause.status, 503);
  assert.equal((await failure.cause.json()).error, 'temporarily_unavailable');
  assert.ok((await client.clientCredentialsGrant(config)).access_token); // count 1: over
});

test('the clock expires tokens without sleeping', async () => {
  const config = await iopole();
  const token = await idp.token('clientId');
  assert.equal((await client.tokenIntrospection(config, token)).active, true);
  const before = await idp.admin.now();
  assert.ok((await idp.admin.advanceClock(3600)) >= before + 3600);
  assert.equal((await client.tokenIntrospection(config, token)).active, false);
  await idp.admin.reset();
  assert.equal((await idp.admin.request('GET', '/clock')).offset_secs, 0);
});

test('minted tokens, journal and reset', async () => {
  const token = await idp.token('inqom-service', { user: 'alice', claims: { tenant: 'acme' }, ttl: 60 });
  const claims = claimsOf(token);
  assert.equal(claims.iss, idp.issuerUrl('inqom'));
  assert.equal(claims.tenant, 'acme');
  assert.equal(claims.exp - claims.nbf, 60); // IdentityServer3 sets nbf, no iat

  await idp.admin.clearJournal();
  await client.clientCredentialsGrant(await iopole());
  const entries = await idp.admin.journal({ client_id: 'clientId', grant_type: 'client_credentials' });
  assert.deepEqual(entries.map((e) => e.outcome), ['ok']);
  assert.ok(!JSON.stringify(entries).includes('clientSecret'));
  await idp.admin.putClient('iopole', { id: 'late', secret: 'late-secret', grants: ['client_credentials'] });
  assert.ok((await idp.admin.issuers())[0].clients.includes('late'));
  await idp.admin.reset();
  assert.ok(!(await idp.admin.issuers())[0].clients.includes('late'));
  assert.deepEqual(await idp.admin.journal(), []);
  await assert.rejects(idp.admin.defect('no_such_defect'), /HTTP 400/);
});

test('namespaces: two tests at once on one server never see each other', async () => {
  const [a, b] = await Promise.all([idp.namespace(), idp.namespace({ id: 'worker-b' })]);
  try {
    assert.equal(b.id, 'worker-b');
    assert.equal(b.url, `${idp.url}/ns/worker-b`);
    assert.equal(a.issuerUrl('iopole'), `${a.url}/realms/iopole`);
    await Promise.all([
      a.admin.advanceClock(1000),
      b.admin.advanceClock(5000),
      a.admin.fail('token', { status: 503, error: 'temporarily_unavailable' }),
      b.admin.putClient('iopole', { id: 'only-b', secret: 's', grants: ['client_credentials'] }),
    ]);
    assert.equal((await a.admin.request('GET', '/clock')).offset_secs, 1000);
    assert.equal((await b.admin.request('GET', '/clock')).offset_secs, 5000);
    assert.equal((await idp.admin.request('GET', '/clock')).offset_secs, 0);
    const clientsOf = async (x) => (await x.admin.issuers()).find((i) => i.name === 'iopole').clients;
    assert.ok((await clientsOf(b)).includes('only-b'));
    assert.ok(!(await clientsOf(a)).includes('only-b'));
    assert.ok(!(await clientsOf(idp)).includes('only-b'));
    // a's queued failure is a's: b and the server answer.
    const config = (ns) => client.discovery(new URL(ns.issuerUrl('iopole')), 'clientId', 'clientSecret', undefined, insecure);
    const failure = await client.clientCredentialsGrant(await config(a)).catch((e) => e);
    assert.equal(failure.cause?.status, 503);
    const tokens = await client.clientCredentialsGrant(await config(b));
    assert.equal(claimsOf(tokens.access_token).iss, b.issuerUrl('iopole'));
    assert.equal(claimsOf(await a.token('clientId')).iss, a.issuerUrl('iopole'));
  } finally {
    await Promise.all([a.delete(), b.delete()]);
  }
  await assert.rejects(b.admin.now(), /HTTP 404/);
  await b.delete(); // twice is fine
});

test('connectMockIdp drives a server that is already running', async () => {
  const shared = await connectMockIdp(idp.url);
  assert.equal(shared.issuerUrl('iopole'), idp.issuerUrl('iopole'));
  const ns = await shared.namespace();
  try {
    assert.match(ns.issuerUrl('inqom'), /\/ns\/[A-Za-z0-9]+\/identity$/);
  } finally {
    await ns.delete();
  }
  await shared.stop(); // not ours: still running
  assert.equal((await fetch(`${idp.url}/_mockidp/clock`)).status, 200);
});

test('stop() ends the server', async () => {
  const own = await startMockIdp({ adminToken: 't0ken' });
  assert.ok(await own.token('clientId'));
  assert.equal((await fetch(`${own.url}/_mockidp/reset`, { method: 'POST' })).status, 401);
  assert.match(own.log(), /ready/);
  await own.stop();
  await assert.rejects(fetch(`${own.url}/_mockidp/health`));
});

/** Starts `command args... serve --port 0` and resolves once its banner says `ready`. */
async function serveWith(command, args, options = {}) {
  const server = spawn(command, [...args, 'serve', '--port', '0'], { stdio: ["ignore", "pipe", "ignore"], ...options });
  let out = '';
  server.stdout.setEncoding('utf8');
  for await (const chunk of server.stdout) {
    out += chunk;
    if (/^ready$/m.test(out)) break;
  }
  const url = out.match(/listening on (\S+)/)[1];
  assert.equal((await fetch(`${url}/_mockidp/health`)).status, 200);
  return { server, url };
}

test('a server that cannot start says why', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mockidp-'));
  t.after(() => rmSync(dir, { recursive: true }));
  const bad = join(dir, 'bad.toml');
  writeFileSync(bad, '[[issuer]]\nname = "x"\ndialect = "nope"\n');
  await assert.rejects(startMockIdp({ fixtures: bad }), /exited \(1\) before it was ready:[^]*nope/);
});

test('npx mockidp runs the server; Ctrl-C (SIGINT to its process group) stops it', async () => {
  assert.match(execFileSync('npx', ['--no-install', 'mockidp', '--version']).toString(), /^mockidp \d+\.\d+\.\d+/);
  // A terminal's Ctrl-C signals the whole foreground group: npx, the wrapper and the binary.
  const { server, url } = await serveWith('npx', ['--no-install', 'mockidp'], { detached: true });
  const exit = once(server, 'exit');
  process.kill(-server.pid, 'SIGINT');
  await exit;
  await assert.rejects(fetch(`${url}/_mockidp/health`));
});

test('the bin wrapper passes SIGTERM on to the server and exits 0', async () => {
  // `kill PID` of the wrapper alone (what a process manager does): the binary must stop too.
  const { server, url } = await serveWith('node_modules/.bin/mockidp', []);
  const exit = once(server, 'exit');
  server.kill('SIGTERM');
  const [code] = await exit;
  assert.equal(code, 0);
  await assert.rejects(fetch(`${url}/_mockidp/health`));
});
