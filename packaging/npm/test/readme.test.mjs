import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { startMockIdp } from 'mockidp';

const idp = await startMockIdp(); // a free loopback port, the built-in fixtures
after(() => idp.stop());

test('openid-client gets a token from the Iopole realm', async () => {
  const config = await client.discovery(
    new URL(idp.issuerUrl('iopole')), 'clientId', 'clientSecret', undefined,
    { execute: [client.allowInsecureRequests] }, // http:// on loopback
  );
  const tokens = await client.clientCredentialsGrant(config);
  assert.equal(tokens.token_type.toLowerCase(), 'bearer');
  // A user's token without any login flow, with an extra claim:
  const token = await idp.token('clientId', { user: 'alice', claims: { tenant: 'acme' } });
  assert.equal(token.split('.').length, 3);
});
