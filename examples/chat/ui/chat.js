// The chat page calls chat.v1.ChatService with the Connect protocol and
// nothing but fetch: no generated client, no proxy.
//
//   History    GET  /chat.v1.ChatService/History?encoding=json&message=...
//   SendNote   POST /chat.v1.ChatService/SendNote    JSON in, JSON out
//   ChatStream POST /chat.v1.ChatService/ChatStream  enveloped JSON stream
"use strict";

const service = "/chat.v1.ChatService/";

// connectError turns a Connect error body ({code, message}) into an Error.
function connectError(json, fallback) {
  return new Error(json && json.code ? `${json.code}: ${json.message || ""}` : fallback);
}

// History has no side effects, so Connect lets us use a plain, cacheable GET:
// the request message goes into the query string.
async function getHistory(room) {
  const query = new URLSearchParams({ connect: "v1", encoding: "json", message: JSON.stringify({ room }) });
  const res = await fetch(`${service}History?${query}`);
  const json = await res.json();
  if (!res.ok) throw connectError(json, res.statusText);
  return json.notes || [];
}

// A unary call is a POST of the JSON request; the response is JSON too.
async function call(method, request) {
  const res = await fetch(service + method, {
    method: "POST",
    headers: { "Content-Type": "application/json", "Connect-Protocol-Version": "1" },
    body: JSON.stringify(request),
  });
  const json = await res.json();
  if (!res.ok) throw connectError(json, res.statusText);
  return json;
}

// A streaming body is a series of envelopes: 1 byte of flags, a 4-byte
// big-endian length, then that many bytes of JSON.
function envelope(message) {
  const data = new TextEncoder().encode(JSON.stringify(message));
  const frame = new Uint8Array(5 + data.length);
  new DataView(frame.buffer).setUint32(1, data.length); // flags stay 0
  frame.set(data, 5);
  return frame;
}

// readEnvelopes yields the messages of a streaming response. The last
// envelope has flag 0x02 set: it ends the stream and may carry an error.
async function* readEnvelopes(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = new Uint8Array(0);
  for (;;) {
    while (buf.length >= 5) {
      const flags = buf[0];
      const length = new DataView(buf.buffer, buf.byteOffset).getUint32(1);
      if (buf.length < 5 + length) break;
      const json = JSON.parse(decoder.decode(buf.subarray(5, 5 + length)));
      buf = buf.subarray(5 + length);
      if (flags & 0x02) {
        if (json.error) throw connectError(json.error, "stream failed");
        return;
      }
      yield json;
    }
    const { done, value } = await reader.read();
    if (done) throw new Error("stream ended without an end-of-stream message");
    const joined = new Uint8Array(buf.length + value.length);
    joined.set(buf);
    joined.set(value, buf.length);
    buf = joined;
  }
}

// follow streams the notes of a room, starting after afterSeq, until the
// server ends the stream or signal aborts it.
async function follow(room, afterSeq, signal, onOpen, onNote) {
  const res = await fetch(service + "ChatStream", {
    method: "POST",
    headers: { "Content-Type": "application/connect+json", "Connect-Protocol-Version": "1" },
    body: envelope({ room, afterSeq: String(afterSeq) }),
    signal,
  });
  if (!res.ok) throw connectError(await res.json().catch(() => null), res.statusText);
  onOpen();
  for await (const message of readEnvelopes(res.body)) onNote(message.note);
}

// --- The page ---

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
$("name").value = params.get("name") || `guest-${Math.floor(Math.random() * 1000)}`;
$("room").value = params.get("room") || "lobby";

let room = "";
let lastSeq = 0; // notes are numbered per room; we have shown all up to here
let following = null; // AbortController of the current stream

function setStatus(text) {
  $("status").textContent = text;
}

// show appends a note once. Text goes in with textContent, never as HTML.
function show(note) {
  const seq = Number(note.seq);
  if (seq <= lastSeq) return;
  lastSeq = seq;
  const li = document.createElement("li");
  const author = document.createElement("span");
  author.className = "author";
  author.textContent = note.author;
  const time = document.createElement("time");
  time.className = "time";
  time.dateTime = note.sentAt;
  time.textContent = new Date(note.sentAt).toLocaleTimeString();
  li.append(author, note.text, time);
  $("notes").append(li);
  li.scrollIntoView({ block: "end" });
}

async function join(name) {
  following?.abort();
  const ctrl = new AbortController();
  following = ctrl;
  room = name;
  lastSeq = 0;
  $("notes").replaceChildren();
  // Keep name and room in the address, so a reload comes back here.
  history.replaceState(null, "", `?${new URLSearchParams({ room, name: $("name").value })}`);
  setStatus(`joining #${room}…`);
  try {
    const notes = await getHistory(room);
    if (ctrl.signal.aborted) return; // joined another room meanwhile
    notes.forEach(show);
  } catch (err) {
    setStatus(`history failed: ${err.message}`);
  }
  // Follow the room; after an error, wait a moment and pick up where we were.
  while (!ctrl.signal.aborted) {
    try {
      await follow(room, lastSeq, ctrl.signal, () => setStatus(`following #${room}`), show);
      setStatus("the server ended the stream; reconnecting…");
    } catch (err) {
      if (ctrl.signal.aborted) return;
      setStatus(`disconnected (${err.message}); reconnecting…`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

$("join").addEventListener("submit", (event) => {
  event.preventDefault();
  join($("room").value.trim());
});

$("send").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("text").value;
  try {
    await call("SendNote", { room, author: $("name").value.trim(), text });
    $("text").value = "";
  } catch (err) {
    setStatus(`not sent: ${err.message}`);
  }
});

// Leaving the page ends the stream at once, even when the browser keeps the
// page in its back/forward cache; coming back to it follows the room again.
addEventListener("pagehide", () => following?.abort());
addEventListener("pageshow", (event) => {
  if (event.persisted) join(room);
});

join($("room").value.trim());
