// The realtime check of scripts/check-deploy: a WebSocket and an SSE stream opened through
// nginx both receive the `note.changed` event of a note created through nginx. The three
// requests may land on different instances, so this also shows the Redis fan-out.
// Node's own fetch and WebSocket (node >= 20 with --experimental-websocket): no packages.
// The CA comes from NODE_EXTRA_CA_CERTS.
//
//   node --experimental-websocket deploy-realtime.mjs HTTPS_URL ACCESS_TOKEN
const [base, token] = process.argv.slice(2);
const auth = { authorization: `Bearer ${token}` };
const TIMEOUT_MS = 15000;

async function ticket() {
  const res = await fetch(`${base}/api/realtime/ticket`, { method: "POST", headers: auth });
  if (res.status !== 200) throw new Error(`POST /api/realtime/ticket: ${res.status}`);
  return (await res.json()).ticket;
}

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no note.changed event within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Resolves once the socket is open, with a promise of the first `note.changed` frame.
function openWebSocket(t) {
  const ws = new WebSocket(`${base.replace(/^https/, "wss")}/api/realtime/ws?ticket=${t}`);
  const event = new Promise((resolve, reject) => {
    ws.addEventListener("message", (m) => {
      const frame = JSON.parse(m.data);
      if (frame.kind === "note.changed") resolve(frame);
    });
    ws.addEventListener("error", () => reject(new Error("WebSocket error")));
  });
  const open = new Promise((resolve, reject) => {
    ws.addEventListener("open", () => resolve());
    ws.addEventListener("close", (c) => reject(new Error(`WebSocket closed: ${c.code}`)));
  });
  return open.then(() => ({ ws, event }));
}

// Resolves once the response headers are in, with a promise of the first `note.changed` event.
async function openSse(t) {
  const abort = new AbortController();
  // A buffering proxy holds even the headers back: fail then, rather than hang.
  const headersTimer = setTimeout(() => abort.abort(), TIMEOUT_MS);
  const res = await fetch(`${base}/api/realtime/events?ticket=${t}`, { signal: abort.signal }).catch((e) => {
    throw new Error(`SSE: no response headers within ${TIMEOUT_MS} ms (${e.name})`);
  });
  clearTimeout(headersTimer);
  const type = res.headers.get("content-type") || "";
  if (res.status !== 200 || !type.startsWith("text/event-stream")) {
    throw new Error(`SSE: ${res.status} ${type}`);
  }
  const event = (async () => {
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of res.body) {
      text += decoder.decode(chunk, { stream: true });
      const block = text.split("\n\n").find((b) => /^event: ?note\.changed$/m.test(b));
      if (block) return block;
    }
    throw new Error("SSE stream ended");
  })();
  return { abort, event };
}

const ws = await openWebSocket(await ticket());
const sse = await openSse(await ticket());
const created = await fetch(`${base}/api/notes`, {
  method: "POST",
  headers: { ...auth, "content-type": "application/json" },
  body: JSON.stringify({ title: "deploy check" }),
});
if (created.status !== 201) throw new Error(`POST /api/notes: ${created.status}`);
const note = await created.json();

const frame = await withTimeout(ws.event, "WebSocket");
if (!JSON.stringify(frame).includes(note.id)) throw new Error(`WebSocket event is not about ${note.id}`);
console.log(`WebSocket through nginx: note.changed for ${note.id}`);
const block = await withTimeout(sse.event, "SSE");
if (!block.includes(note.id)) throw new Error(`SSE event is not about ${note.id}`);
console.log(`SSE through nginx: note.changed for ${note.id}`);
ws.ws.close();
sse.abort.abort();
