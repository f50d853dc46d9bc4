// @keycloak/keycloak-admin-client against mockidp's Keycloak admin REST API, as a node:test
// script (driven by tests/it/node.rs with MOCKIDP_URL set). A service account with
// realm-management roles in the iopole realm (iopole-provisioner) creates, searches, updates a
// user, resets its password, assigns a realm role and a group, and deletes it; the user logs
// in through the password grant with the roles in realm_access.
import { test } from "node:test";
import assert from "node:assert/strict";
import KcAdminClient from "@keycloak/keycloak-admin-client";

const baseUrl = process.env.MOCKIDP_URL;

async function serviceAccount(clientId, clientSecret) {
  const kc = new KcAdminClient({ baseUrl, realmName: "iopole" });
  await kc.auth({ grantType: "client_credentials", clientId, clientSecret });
  return kc;
}

async function passwordGrant(username, password) {
  const resp = await fetch(`${baseUrl}/realms/iopole/protocol/openid-connect/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "password", client_id: "iopole-web", client_secret: "iopole-web-secret",
      username, password,
    }),
  });
  return { status: resp.status, body: await resp.json() };
}

function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString());
}

test("a realm-management service account runs the user cycle", async () => {
  const kc = await serviceAccount("iopole-provisioner", "iopole-provisioner-secret");
  const { id } = await kc.users.create({
    username: "heidi", email: "heidi@example.test", firstName: "Heidi", enabled: true,
  });
  assert.ok(id);
  await assert.rejects(kc.users.create({ username: "heidi" }), (e) => e.response?.status === 409);
  const found = await kc.users.find({ username: "heidi", exact: true });
  assert.deepEqual(found.map((u) => u.id), [id]);
  assert.equal(await kc.users.count({ search: "heid" }), 1);
  await kc.users.update({ id }, { lastName: "Lamarr" });
  assert.equal((await kc.users.findOne({ id })).lastName, "Lamarr");
  await kc.users.resetPassword({ id, credential: { type: "password", value: "heidi-pw", temporary: false } });

  await kc.roles.create({ name: "approver" });
  const role = await kc.roles.findOneByName({ name: "approver" });
  await kc.users.addRealmRoleMappings({ id, roles: [{ id: role.id, name: role.name }] });
  const mapped = await kc.users.listRealmRoleMappings({ id });
  assert.ok(mapped.some((r) => r.name === "approver"));
  const available = await kc.users.listAvailableRealmRoleMappings({ id });
  assert.ok(!available.some((r) => r.name === "approver"));

  const group = await kc.groups.create({ name: "approvers" });
  await kc.groups.addRealmRoleMappings({ id: group.id, roles: [await kc.roles.findOneByName({ name: "user" })] });
  await kc.users.addToGroup({ id, groupId: group.id });
  assert.deepEqual((await kc.groups.listMembers({ id: group.id })).map((u) => u.username), ["heidi"]);
  assert.deepEqual((await kc.users.listGroups({ id })).map((g) => g.path), ["/approvers"]);
  const composite = await kc.users.listCompositeRealmRoleMappings({ id });
  assert.ok(composite.some((r) => r.name === "user"));

  const login = await passwordGrant("heidi", "heidi-pw");
  assert.equal(login.status, 200, JSON.stringify(login.body));
  const roles = claims(login.body.access_token).realm_access.roles;
  assert.ok(roles.includes("approver") && roles.includes("user"), roles.join(","));

  const [web] = await kc.clients.find({ clientId: "iopole-web" });
  assert.equal(web.clientId, "iopole-web");
  assert.equal((await kc.clients.getClientSecret({ id: web.id })).value, "iopole-web-secret");

  await kc.users.del({ id });
  assert.equal(await kc.users.findOne({ id }), null); // its 404 "User not found"
  assert.equal((await passwordGrant("heidi", "heidi-pw")).status, 400);
});

test("a token without realm-management roles is refused with 403", async () => {
  const kc = await serviceAccount("iopole-admin", "iopole-admin-secret");
  await assert.rejects(kc.users.find(), (e) => e.response?.status === 403);
});

test("no token is refused with 401", async () => {
  const kc = new KcAdminClient({ baseUrl, realmName: "iopole" });
  await assert.rejects(kc.users.find(), (e) => e.response?.status === 401);
});
