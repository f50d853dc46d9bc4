// Types of the mockidp package (hand-written; index.js is plain JavaScript).

export interface StartOptions {
  /** TOML fixture file (default: the built-in fixtures: issuers iopole, inqom, generic). */
  fixtures?: string;
  /** Admin token: pass it when the fixtures set one (or to protect the admin API). */
  adminToken?: string;
  /** More `mockidp serve` flags, e.g. `["--generate-keys"]`. */
  args?: string[];
  /** Extra environment for the server, e.g. `{ RUST_LOG: "mockidp=debug" }`. */
  env?: Record<string, string>;
  /** Another mockidp binary (default: MOCKIDP_BIN, else the platform package's). */
  binary?: string;
  /** How long to wait for the server to be ready (default 10000). */
  timeoutMs?: number;
}

export interface TokenOptions {
  /** The issuer's name (default: the one that has the client). */
  issuer?: string;
  /** Make it this user's token (a fixture user or any username). */
  user?: string;
  /** Claims added to (or replacing) the issued ones. */
  claims?: Record<string, unknown>;
  /** Space-separated scopes (default: the client's default scopes). */
  scope?: string;
  /** Lifetime in seconds. */
  ttl?: number;
}

/** Which tokens a rule applies to; each field narrows it. */
export interface Match {
  clientId?: string;
  issuer?: string;
  username?: string;
  token?: "access_token" | "id_token";
  /** How many tokens (default 1). */
  count?: number;
}

export type Defect =
  | "expired"
  | "not_yet_valid"
  | "wrong_issuer"
  | "wrong_audience"
  | "bad_signature"
  | "unknown_kid"
  | "alg_none";

export interface FailureOptions {
  status?: number;
  error?: string;
  errorDescription?: string;
  delayMs?: number;
  /** Cut the connection instead of answering. */
  drop?: boolean;
  issuer?: string;
  /** How many calls (default 1). */
  count?: number;
}

export interface JournalEntry {
  seq: number;
  time: number;
  method: string;
  path: string;
  issuer: string | null;
  endpoint: string | null;
  client_id: string | null;
  grant_type: string | null;
  status: number;
  outcome: string;
}

export interface IssuerSummary {
  name: string;
  dialect: "keycloak" | "identityserver" | "generic";
  path: string;
  clients: string[];
  users: string[];
}

/** The admin API (`/_mockidp/...`, see GET /_mockidp/openapi.json). */
export interface Admin {
  /** Any admin call: `request("GET", "/keys")`. Rejects with the server's error on 4xx/5xx. */
  request(method: string, path: string, body?: unknown): Promise<any>;
  issuers(): Promise<IssuerSummary[]>;
  /** Change claims (`null` removes one) and header members of the next matching tokens. */
  override(
    claims: Record<string, unknown> | undefined,
    options?: Match & { header?: Record<string, unknown> },
  ): Promise<void>;
  /** Break the next matching tokens. */
  defect(defect: Defect, options?: Match): Promise<void>;
  /** Fail the next calls of an endpoint ("token", "discovery", "jwks", "userinfo", ...). */
  fail(endpoint: string, options?: FailureOptions): Promise<void>;
  /** Move the server's clock forward; resolves to its new time (seconds since the epoch). */
  advanceClock(seconds: number): Promise<number>;
  /** The server's time (seconds since the epoch). */
  now(): Promise<number>;
  rotateKeys(graceSecs?: number): Promise<unknown>;
  /** Requests seen, oldest first (no secrets, codes or tokens). */
  journal(filters?: {
    issuer?: string;
    client_id?: string;
    grant_type?: string;
    endpoint?: string;
    outcome?: string;
    limit?: number;
  }): Promise<JournalEntry[]>;
  clearJournal(): Promise<void>;
  putClient(issuer: string, client: { id: string; [field: string]: unknown }): Promise<void>;
  putUser(issuer: string, user: { username: string; [field: string]: unknown }): Promise<void>;
  /** Back to the fixtures: clients, users, key, clock; tokens, sessions, rules, journal gone. */
  reset(): Promise<void>;
}

/** What a server and a namespace of it have in common. */
export interface Controls {
  /** Base URL: `http://127.0.0.1:PORT`, or a namespace's `http://127.0.0.1:PORT/ns/{id}`. */
  readonly url: string;
  /** The issuer URL (`iss`) of a fixture issuer, e.g. `issuerUrl("iopole")`. */
  issuerUrl(name: string): string;
  /** A signed access token for a client (and user), minted with no OAuth flow. */
  token(client: string, options?: TokenOptions): Promise<string>;
  readonly admin: Admin;
}

export interface NamespaceOptions {
  /** Its id (`[A-Za-z0-9_-]{1,64}`, e.g. the CI worker's name); default: a random one. */
  id?: string;
  /** Its fixtures: a TOML document, or the same structure as an object (default: a copy of the server's). */
  fixtures?: string | Record<string, unknown>;
  /** Sign with a key of its own instead of the server's. */
  ownKeys?: boolean;
}

/** An isolated copy of every issuer on a shared server: its own clients, users, sessions,
 * tokens, journal, queued rules and clock. An idle one expires by itself. */
export interface Namespace extends Controls {
  readonly id: string;
  /** Removes it and everything in it (twice is fine). */
  delete(): Promise<void>;
}

export interface MockIdp extends Controls {
  /** A namespace of this server, for one test or one parallel worker. */
  namespace(options?: NamespaceOptions): Promise<Namespace>;
  /** The server's log so far (stdout banner and stderr); empty for a connected server. */
  log(): string;
  /** Stops the server (SIGTERM; SIGKILL after 5 s); does nothing for a connected server. */
  stop(): Promise<void>;
}

/** Starts mockidp on a free loopback port; resolves once it answers. */
export function startMockIdp(options?: StartOptions): Promise<MockIdp>;

/** A server that is already running at `url` (a container of the CI job, say): the same
 * controls, no process of ours. */
export function connectMockIdp(url: string, options?: { adminToken?: string }): Promise<MockIdp>;

/** Path of the platform's mockidp binary (MOCKIDP_BIN overrides). */
export function binaryPath(): string;
