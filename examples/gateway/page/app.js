// Calls the order service through rpcproxy with the Connect protocol:
// unary calls are a JSON POST, server-streaming calls an enveloped JSON
// body (https://connectrpc.com/docs/protocol).
"use strict";

const api = new URLSearchParams(location.search).get("api") || "http://localhost:8080";
const service = api + "/ecommerce.v1.OrderManagement/";
const auth = { Authorization: "Bearer demo-token" };
document.getElementById("api").textContent = api;

const out = document.getElementById("out");
function show(line) {
  out.textContent += line + "\n";
}

async function unary(method, message) {
  const res = await fetch(service + method, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...auth },
    body: JSON.stringify(message),
  });
  const body = await res.json();
  if (!res.ok) {
    throw new Error(`${body.code}: ${body.message}`);
  }
  return body;
}

// An envelope: 1 byte of flags, a 4-byte big-endian length, the message.
function envelope(message) {
  const data = new TextEncoder().encode(JSON.stringify(message));
  const buf = new Uint8Array(5 + data.length);
  new DataView(buf.buffer).setUint32(1, data.length);
  buf.set(data, 5);
  return buf;
}

// Reads the envelopes of a streamed body; the last one (flag 0x02) ends
// the stream and may carry an error.
async function* envelopes(body) {
  const reader = body.getReader();
  let buf = new Uint8Array(0);
  for (;;) {
    while (buf.length >= 5) {
      const len = new DataView(buf.buffer, buf.byteOffset).getUint32(1);
      if (buf.length < 5 + len) {
        break;
      }
      const flags = buf[0];
      const msg = JSON.parse(new TextDecoder().decode(buf.subarray(5, 5 + len)));
      buf = buf.subarray(5 + len);
      if (flags & 0x02) {
        if (msg.error) {
          throw new Error(`${msg.error.code}: ${msg.error.message}`);
        }
        return;
      }
      yield msg;
    }
    const { value, done } = await reader.read();
    if (done) {
      throw new Error("the stream ended without its end message");
    }
    const next = new Uint8Array(buf.length + value.length);
    next.set(buf);
    next.set(value, buf.length);
    buf = next;
  }
}

async function search(query) {
  const res = await fetch(service + "SearchOrders", {
    method: "POST",
    headers: { "Content-Type": "application/connect+json", ...auth },
    body: envelope({ query }),
  });
  if (!res.ok) {
    const body = await res.json();
    throw new Error(`${body.code}: ${body.message}`);
  }
  let n = 0;
  for await (const msg of envelopes(res.body)) {
    const o = msg.order;
    show(`found ${o.id}: ${o.items.join(", ")} to ${o.destination}`);
    n++;
  }
  show(`search "${query}": ${n} order(s)`);
}

document.getElementById("add").addEventListener("click", async () => {
  try {
    const order = {
      items: document.getElementById("items").value.split(",").map((s) => s.trim()).filter(Boolean),
      destination: document.getElementById("destination").value,
      price: Number(document.getElementById("price").value),
      description: "added from the browser",
    };
    const { id } = await unary("AddOrder", { order });
    const got = await unary("GetOrder", { id });
    show(`added ${id}: ${got.order.items.join(", ")} to ${got.order.destination}`);
  } catch (e) {
    show(`error: ${e.message}`);
  }
});

document.getElementById("search").addEventListener("click", async () => {
  try {
    await search(document.getElementById("query").value);
  } catch (e) {
    show(`error: ${e.message}`);
  }
});
