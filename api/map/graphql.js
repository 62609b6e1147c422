// The map's GraphQL client: queries over HTTP POST and one subscription over a WebSocket
// (the graphql-transport-ws protocol), both to this origin's /graphql and nothing else.
// A key, when the server's reads are closed, is asked for once and kept for the tab only.
"use strict";
(function () {
  const config = JSON.parse(document.getElementById("frontline-config").textContent);
  const KEY_STORE = "frontline-key";
  // A page left open must not hammer a server that went away: reconnects back off to 30 s.
  const MAX_BACKOFF_MS = 30000;
  const QUERY_TIMEOUT_MS = 15000;

  class GraphQLError extends Error {
    constructor(errors) {
      super(errors.map((e) => e.message).join("; "));
      this.errors = errors;
      this.code = (errors[0] && errors[0].extensions && errors[0].extensions.code) || null;
    }
  }

  function key() { return sessionStorage.getItem(KEY_STORE); }

  // One question at a time, and none again once the user gave no key: the page then says
  // why it is empty instead of asking at every request.
  let asking = null;
  let declined = false;
  function askForKey() {
    if (declined) return Promise.resolve(false);
    if (asking) return asking;
    const dialog = document.getElementById("key-dialog");
    asking = new Promise((resolve) => {
      dialog.addEventListener("close", () => {
        const typed = document.getElementById("key").value.trim();
        if (typed) sessionStorage.setItem(KEY_STORE, typed); else declined = true;
        asking = null;
        resolve(Boolean(typed));
      }, { once: true });
      dialog.showModal();
    });
    return asking;
  }

  function headers() {
    const found = { "Content-Type": "application/json", Accept: "application/json" };
    if (key()) found.Authorization = "Bearer " + key();
    return found;
  }

  async function query(text, variables, retried) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), QUERY_TIMEOUT_MS);
    let body;
    try {
      const response = await fetch(config.graphql, {
        method: "POST", headers: headers(), signal: controller.signal,
        body: JSON.stringify({ query: text, variables: variables || {} }),
      });
      body = await response.json();
    } finally {
      clearTimeout(timer);
    }
    if (body.errors && body.errors.length) {
      const error = new GraphQLError(body.errors);
      if (error.code === "UNAUTHENTICATED" && !retried) sessionStorage.removeItem(KEY_STORE);
      if (error.code === "UNAUTHENTICATED" && !retried && (await askForKey())) {
        return query(text, variables, true);
      }
      throw error;
    }
    return body.data;
  }

  // Live subscriptions on one socket that survive disconnects: after a drop (or an error or
  // completion from the server) it reconnects with backoff and resubscribes each operation
  // with the last cursor it received, so the server replays what was missed (catch-up
  // subscriptions). `operations`: [{id, query, variablesFor(cursor), onData(data) -> cursor}].
  // `onState` hears "connecting", "live" (acknowledged and subscribed) and "offline".
  function subscribe(operations, onState) {
    let socket = null;
    let backoff = 500;
    let stopped = false;
    const cursors = new Map();
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + config.graphql;

    function open() {
      if (stopped) return;
      onState("connecting");
      socket = new WebSocket(url, "graphql-transport-ws");
      socket.onopen = () => {
        const payload = key() ? { Authorization: "Bearer " + key() } : {};
        socket.send(JSON.stringify({ type: "connection_init", payload }));
      };
      socket.onmessage = (message) => {
        const frame = JSON.parse(message.data);
        if (frame.type === "connection_ack") {
          backoff = 500;
          for (const op of operations) {
            socket.send(JSON.stringify({
              id: op.id, type: "subscribe",
              payload: { query: op.query, variables: op.variablesFor(cursors.get(op.id) || null) },
            }));
          }
          onState("live");
        } else if (frame.type === "ping") {
          socket.send(JSON.stringify({ type: "pong" }));
        } else if (frame.type === "next" && frame.payload && frame.payload.data) {
          const op = operations.find((o) => o.id === frame.id);
          const cursor = op ? op.onData(frame.payload.data) : null;
          if (cursor) cursors.set(frame.id, cursor);
        } else if (frame.type === "error" || frame.type === "complete") {
          socket.close(); // reconnects below, resuming every operation from its cursor
        }
      };
      socket.onclose = () => {
        onState("offline");
        if (stopped) return;
        setTimeout(open, backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      };
    }
    open();
    return { stop() { stopped = true; if (socket) socket.close(); } };
  }

  window.Frontline = Object.assign(window.Frontline || {}, { config, query, subscribe, GraphQLError, key });
})();
