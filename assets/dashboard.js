// The mockidp dashboard's live part: it refreshes the journal and the test-control state, and
// sends the buttons' admin API calls. Every piece of HTML it inserts was rendered (and escaped)
// by the server's templates; what it writes itself goes through textContent.
"use strict";

const API = "/_mockidp/";
const TOKEN_KEY = "mockidp-admin-token";
const POLL_MS = 1000;

const $ = (selector) => document.querySelector(selector);

function headers(json) {
  const h = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) h.Authorization = "Bearer " + token;
  if (json) h["Content-Type"] = "application/json";
  return h;
}

/** Calls the admin API; throws with its error_description when it refuses. */
async function call(method, path, body) {
  const resp = await fetch(API + path, {
    method,
    headers: headers(body !== undefined),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (resp.status === 401) {
    sessionStorage.removeItem(TOKEN_KEY);
    askForToken("the admin token was refused");
    throw new Error("the admin API needs the admin token");
  }
  if (!resp.ok) {
    let why = resp.status + " " + resp.statusText;
    try {
      why = (await resp.json()).error_description || why;
    } catch (_) { /* not JSON */ }
    throw new Error(why);
  }
  return resp;
}

function say(text, failed) {
  const status = $("#status");
  status.textContent = text;
  status.classList.toggle("error", Boolean(failed));
}

function askForToken(why) {
  $("#token-form").hidden = false;
  $("#main").dataset.locked = "";
  if (why) say(why, true);
}

/** The page again, with the token: the frame without data is replaced by the real one. */
async function unlock() {
  const resp = await call("GET", "");
  const page = new DOMParser().parseFromString(await resp.text(), "text/html");
  const main = page.querySelector("#main");
  if (main.hasAttribute("data-locked")) throw new Error("the admin token was refused");
  $("#main").replaceWith(document.adoptNode(main));
  $("#token-form").hidden = true;
  say("");
  wire();
}

function filterQuery(after) {
  const q = new URLSearchParams();
  for (const field of $("#filters").elements) {
    if (field.name && field.value) q.set(field.name, field.value);
  }
  if (after) q.set("after", after);
  return q.toString();
}

function newestSeq() {
  const first = $("#journal-list details[data-seq]");
  return first ? Number(first.dataset.seq) : 0;
}

/** Bumped by every full reload, so that an update asked for under older filters is dropped. */
let journalGeneration = 0;

/** Puts new journal entries on top; with `all`, replaces the list (filters changed). */
async function refreshJournal(all) {
  const list = $("#journal-list");
  const generation = all ? ++journalGeneration : journalGeneration;
  const after = all ? 0 : newestSeq();
  const resp = await call("GET", "dashboard/journal?" + filterQuery(after));
  const html = await resp.text();
  if (generation !== journalGeneration) return;
  const fresh = new DOMParser().parseFromString(html, "text/html").body;
  const entries = fresh.querySelectorAll("details[data-seq]");
  if (all || (after === 0 && entries.length === 0)) {
    // Entries the reader opened stay open.
    const open = new Set([...list.querySelectorAll("details[open]")].map((d) => d.dataset.seq));
    for (const e of entries) e.open = open.has(e.dataset.seq);
    list.replaceChildren(...fresh.childNodes);
    return;
  }
  if (entries.length === 0) return;
  list.querySelector(".empty")?.remove();
  list.prepend(...entries);
}

async function refreshState() {
  const resp = await call("GET", "dashboard/state");
  const fresh = new DOMParser().parseFromString(await resp.text(), "text/html").body;
  $("#state").replaceChildren(...fresh.childNodes);
}

async function refresh() {
  if (document.hidden || !$("#journal-list")) return;
  try {
    await Promise.all([refreshJournal(false), refreshState()]);
    $("#live").classList.remove("stale");
  } catch (e) {
    $("#live").classList.add("stale");
    say(e.message, true);
  }
}

const ACTIONS = {
  "clock-advance": (b) => call("POST", "clock", { advance_secs: Number(b.dataset.secs) }),
  "clock-freeze": () => call("POST", "clock", { freeze: true }),
  "clock-unfreeze": () => call("POST", "clock", { freeze: false }),
  "clock-reset": () => call("POST", "clock", { reset: true }),
  "keys-rotate": () => call("POST", "keys/rotate", {}),
  "queue-clear": (b) => call("DELETE", b.dataset.kind),
  "journal-clear": () => call("DELETE", "journal"),
};

async function act(button) {
  const action = ACTIONS[button.dataset.action];
  if (!action) return;
  button.disabled = true;
  try {
    await action(button);
    say(button.dataset.action + ": done");
    await refreshState();
    await refreshJournal(true);
  } catch (e) {
    say(button.dataset.action + ": " + e.message, true);
  } finally {
    button.disabled = false;
  }
}

function base64urlJson(part) {
  const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  return JSON.stringify(JSON.parse(new TextDecoder().decode(bytes)), null, 2);
}

async function mint(form) {
  const body = {};
  for (const field of form.elements) {
    if (!field.name || !field.value) continue;
    body[field.name] = field.type === "number" ? Number(field.value) : field.value;
  }
  try {
    const token = (await (await call("POST", "tokens", body)).json()).access_token;
    const [header, claims] = token.split(".");
    $("#minted-token").value = token;
    $("#minted-header").textContent = base64urlJson(header);
    $("#minted-claims").textContent = base64urlJson(claims);
    $("#minted").hidden = false;
    say("token minted");
  } catch (e) {
    say("mint: " + e.message, true);
  }
}

/** Event handlers on the current page (again after unlocking). */
function wire() {
  $("#main").addEventListener("click", (e) => {
    const button = e.target.closest("button[data-action]");
    if (button) act(button);
  });
  $("#filters")?.addEventListener("input", () => refreshJournal(true).catch((e) => say(e.message, true)));
  $("#filters")?.addEventListener("submit", (e) => e.preventDefault());
  $("#mint")?.addEventListener("submit", (e) => {
    e.preventDefault();
    mint(e.target);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  $("#token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("#admin-token").value);
    unlock().catch((err) => askForToken(err.message));
  });
  if ($("#main").hasAttribute("data-locked")) {
    if (sessionStorage.getItem(TOKEN_KEY)) {
      unlock().catch((err) => askForToken(err.message));
    } else {
      askForToken();
    }
  } else {
    wire();
  }
  setInterval(refresh, POLL_MS);
});
