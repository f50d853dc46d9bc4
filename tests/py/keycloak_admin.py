"""python-keycloak's KeycloakAdmin against mockidp's Keycloak admin REST API (driven by
tests/it/python.rs). Logs in through the master realm (admin-cli, admin/admin) and manages the
iopole realm: create / search / update / reset-password / role-assign / group, then the created
user logs in through the password grant with the assigned roles; `delete USER_ID` removes it.

usage: keycloak_admin.py BASE_URL setup     -> prints "user id: ID" at the end
       keycloak_admin.py BASE_URL delete ID
"""
import sys

from keycloak import KeycloakAdmin, KeycloakOpenID
from keycloak.exceptions import KeycloakGetError, KeycloakPostError

base, phase = sys.argv[1], sys.argv[2]
admin = KeycloakAdmin(
    server_url=base + "/",
    username="admin",
    password="admin",
    realm_name="iopole",
    user_realm_name="master",
    client_id="admin-cli",
)


def setup():
    user_id = admin.create_user(
        {"username": "Grace", "email": "grace@example.test", "firstName": "Grace",
         "lastName": "Hopper", "enabled": True, "attributes": {"team": ["compilers"]}}
    )
    try:
        admin.create_user({"username": "grace"})
        raise SystemExit("a second grace was accepted")
    except KeycloakPostError as e:
        assert e.response_code == 409, e
        assert b"User exists with same username" in e.response_body, e.response_body
    assert admin.get_user_id("grace") == user_id
    found = admin.get_users({"search": "race"})
    assert [u["username"] for u in found] == [], found  # prefix search: "race" begins no field
    found = admin.get_users({"search": "*race*"})
    assert [u["username"] for u in found] == ["grace"], found
    assert admin.users_count({"email": "grace@example.test"}) == 1
    print("create, search: OK")

    admin.update_user(user_id, {"firstName": "Amazing Grace"})
    user = admin.get_user(user_id)
    assert user["firstName"] == "Amazing Grace" and user["lastName"] == "Hopper", user
    assert user["attributes"]["team"] == ["compilers"], user
    admin.set_user_password(user_id, "grace-pw", temporary=False)
    print("update, reset-password: OK")

    admin.create_realm_role({"name": "reviewer", "description": "reviews invoices"}, skip_exists=True)
    role = admin.get_realm_role("reviewer")
    assert role["description"] == "reviews invoices", role
    admin.assign_realm_roles(user_id, [role])
    names = [r["name"] for r in admin.get_realm_roles_of_user(user_id)]
    assert "reviewer" in names, names
    web = admin.get_client_id("iopole-web")
    admin.create_client_role(web, {"name": "editor"}, skip_exists=True)
    admin.assign_client_role(user_id, web, [admin.get_client_role(web, "editor")])
    names = [r["name"] for r in admin.get_client_roles_of_user(user_id, web)]
    assert names == ["editor"], names
    print("role-assign: OK")

    group_id = admin.create_group({"name": "auditors"})
    admin.assign_group_realm_roles(group_id, [admin.get_realm_role("user")])
    admin.group_user_add(user_id, group_id)
    assert [g["name"] for g in admin.get_user_groups(user_id)] == ["auditors"]
    assert [m["username"] for m in admin.get_group_members(group_id)] == ["grace"]
    assert admin.get_group_by_path("/auditors")["id"] == group_id
    print("group: OK")

    oidc = KeycloakOpenID(server_url=base + "/", realm_name="iopole", client_id="iopole-web",
                          client_secret_key="iopole-web-secret")
    token = oidc.token("grace", "grace-pw", scope="openid")
    claims = oidc.decode_token(token["access_token"])
    roles = claims["realm_access"]["roles"]
    assert "reviewer" in roles and "user" in roles, roles
    assert claims["resource_access"]["iopole-web"]["roles"] == ["editor"], claims
    assert claims["sub"] == user_id, claims
    print("password grant with the assigned roles: OK")
    print("user id: " + user_id)


def delete(user_id):
    admin.delete_user(user_id)
    try:
        admin.get_user(user_id)
        raise SystemExit("deleted user still there")
    except KeycloakGetError as e:
        assert e.response_code == 404, e
    print("delete: OK")


if phase == "setup":
    setup()
else:
    delete(sys.argv[3])
