// The demo page: plain DOM code over the demo's JSON API. Values from the server are written with
// textContent only, never as HTML.
"use strict";

const $ = (id) => document.getElementById(id);
const POLL_MS = 3000;
let me = null;
let poll = null;

/** One API call; answers { status, body } and shows the error of a failed call. */
async function api(method, path, body, headers = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch {
    show("The demo server cannot be reached.");
    return { status: 0, body: null };
  }
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text === "" ? null : JSON.parse(text);
  } catch {
    parsed = null;
  }
  if (response.status === 503) show("The session store is unavailable. Your session is safe; try again in a moment.");
  else if (response.status >= 400 && response.status !== 401) show(parsed?.error ?? `The server answered ${response.status}.`);
  return { status: response.status, body: parsed };
}

function show(text, kind = "error") {
  const box = $("message");
  box.textContent = text;
  box.className = kind === "info" ? "info" : "";
  box.hidden = false;
}

function clearMessage() {
  $("message").hidden = true;
}

function formValues(form) {
  return Object.fromEntries(new FormData(form).entries());
}

function renderCart(cart) {
  const list = $("cart");
  list.replaceChildren();
  const entries = Object.entries(cart ?? {}).sort(([a], [b]) => a.localeCompare(b));
  for (const [sku, qty] of entries) {
    const item = document.createElement("li");
    item.textContent = `${sku} × ${qty}`;
    list.append(item);
  }
  $("cart-empty").hidden = entries.length > 0;
}

function when(iso) {
  return iso ? new Date(iso).toLocaleString() : "";
}

async function renderDevices() {
  const answer = await api("GET", "/sessions");
  if (answer.status === 401) return loggedOut("You were logged out: this session was ended.");
  if (answer.status !== 200) return;
  const rows = answer.body.map((device) => {
    const row = document.createElement("tr");
    const name = document.createElement("td");
    name.className = "device";
    name.textContent = device.userAgent ?? "unknown device";
    if (device.current) {
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = "This device";
      name.append(" ", badge);
    }
    const created = document.createElement("td");
    created.textContent = when(device.createdAt);
    const seen = document.createElement("td");
    seen.textContent = when(device.lastSeenAt);
    const action = document.createElement("td");
    if (!device.current) {
      const end = document.createElement("button");
      end.type = "button";
      end.className = "quiet";
      end.textContent = "End";
      end.setAttribute("aria-label", `End the session on ${device.userAgent ?? "unknown device"}`);
      end.addEventListener("click", async () => {
        const ended = await api("DELETE", `/sessions/${encodeURIComponent(device.id)}`);
        if (ended.status === 204) show("That device was logged out.", "info");
        await renderDevices();
      });
      action.append(end);
    }
    row.append(name, created, seen, action);
    return row;
  });
  $("devices").replaceChildren(...rows);
}

function loggedIn(profile) {
  me = profile;
  $("who").textContent = `${profile.username} · tenant ${profile.tenant} · session expires ${when(profile.expiresAt)}`;
  $("account-title").textContent = `Signed in as ${profile.username}`;
  $("login-panel").hidden = true;
  for (const id of ["account-panel", "preferences-panel", "devices-panel"]) $(id).hidden = false;
  const form = $("preferences-form");
  form.elements.theme.value = typeof profile.preferences.theme === "string" ? profile.preferences.theme : "";
  form.elements.language.value = typeof profile.preferences.language === "string" ? profile.preferences.language : "";
  renderCart(profile.cart);
  poll ??= setInterval(refresh, POLL_MS);
}

function loggedOut(reason) {
  const wasIn = me !== null;
  me = null;
  clearInterval(poll);
  poll = null;
  $("login-panel").hidden = false;
  for (const id of ["account-panel", "preferences-panel", "devices-panel"]) $(id).hidden = true;
  $("devices").replaceChildren();
  renderCart({});
  if (wasIn && reason) show(reason, "info");
}

/** Reads the session again: another device may have ended it. */
async function refresh() {
  const answer = await api("GET", "/me");
  if (answer.status === 200) {
    loggedIn(answer.body);
    await renderDevices();
  } else if (answer.status === 401) {
    loggedOut("You were logged out: this session was ended.");
  }
}

async function checkStore() {
  const answer = await api("GET", "/health");
  const line = $("store");
  line.classList.toggle("down", answer.status !== 200);
  line.textContent = answer.status === 200 ? `Session store: ${answer.body.store}` : "Session store unavailable";
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  clearMessage();
  const { username, tenant } = formValues(event.target);
  const answer = await api("POST", "/login", tenant ? { username, tenant } : { username });
  if (answer.status === 200) await refresh();
});

$("cart-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  clearMessage();
  const { sku, qty } = formValues(event.target);
  const answer = await api("POST", "/cart", { sku, qty: Number(qty) });
  if (answer.status === 200) renderCart(answer.body.cart);
});

$("preferences-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  clearMessage();
  const { theme, language } = formValues(event.target);
  const answer = await api("PATCH", "/preferences", { theme: theme || null, language: language || null });
  if (answer.status === 200) show("Preferences saved.", "info");
  else if (answer.status === 401) loggedOut("You were logged out: this session was ended.");
});

$("logout").addEventListener("click", async () => {
  clearMessage();
  const answer = await api("POST", "/logout");
  if (answer.status === 204) loggedOut("You logged out.");
});

$("logout-all").addEventListener("click", async () => {
  clearMessage();
  const answer = await api("POST", "/logout-all");
  if (answer.status === 204) loggedOut("You logged out on every device.");
});

$("password").addEventListener("click", async () => {
  clearMessage();
  const answer = await api("POST", "/password");
  if (answer.status === 204) {
    show("Password changed: this device has a new session and every other device was logged out.", "info");
    await refresh();
  }
});

$("admin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  clearMessage();
  const action = event.submitter?.value;
  const { token, tenant, sku, user } = formValues(event.target);
  const headers = { authorization: `Bearer ${token}` };
  const need = (value, label) => {
    if (!value) show(`Enter a ${label} first.`);
    return Boolean(value);
  };
  let answer;
  if (action === "count" && need(tenant, "tenant")) {
    answer = await api("GET", `/admin/tenants/${encodeURIComponent(tenant)}/count`, undefined, headers);
  } else if (action === "carts" && need(sku, "SKU")) {
    answer = await api("GET", `/admin/carts/${encodeURIComponent(sku)}`, undefined, headers);
  } else if (action === "revoke" && need(user, "user")) {
    answer = await api("POST", `/admin/users/${encodeURIComponent(user)}/revoke`, undefined, headers);
  }
  if (!answer) return;
  const out = $("admin-result");
  if (answer.status === 200) out.textContent = JSON.stringify(answer.body, null, 2);
  else if (answer.status === 404) out.textContent = "Admin is off: start the demo with ADMIN_TOKEN=<token>.";
  else if (answer.status === 401) out.textContent = "Wrong admin token.";
  else out.textContent = "";
  if (action === "revoke" && answer.status === 200 && me !== null) await refresh();
});

void checkStore();
void refresh();
