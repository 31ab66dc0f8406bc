import assert from "node:assert/strict";
import { DatagramFaultProxy } from "../testing.ts";
import { within } from "./_helpers.ts";
import { countTimers } from "./_timers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A UDP peer that echoes every datagram and records what it received. */
function startEchoPeer(): AsyncDisposable & {
  port: number;
  received: string[];
} {
  const socket = Deno.listenDatagram({
    hostname: "127.0.0.1",
    port: 0,
    transport: "udp",
  });
  const received: string[] = [];
  const loop = (async () => {
    // Bounded by the socket: disposing it ends the loop.
    for await (const [data, from] of socket) {
      received.push(decoder.decode(data));
      await socket.send(data, from);
    }
  })().catch(() => {});
  return {
    port: (socket.addr as Deno.NetAddr).port,
    received,
    async [Symbol.asyncDispose]() {
      socket.close();
      await loop;
    },
  };
}

/** A client socket that sends to the proxy and collects answers. */
function startClient(proxy: DatagramFaultProxy): AsyncDisposable & {
  send(text: string): Promise<number>;
  receive(): Promise<string>;
} {
  const socket = Deno.listenDatagram({
    hostname: "127.0.0.1",
    port: 0,
    transport: "udp",
  });
  const to = {
    transport: "udp",
    hostname: "127.0.0.1",
    port: proxy.localPort,
  } as const;
  let pending: Promise<unknown> = Promise.resolve();
  return {
    send: (text) => socket.send(encoder.encode(text), to),
    receive: () => {
      const next = socket.receive().then(([data]) => decoder.decode(data));
      pending = next.catch(() => {});
      return within(next, 5_000, "an answer");
    },
    async [Symbol.asyncDispose]() {
      socket.close();
      await pending;
    },
  };
}

function proxyTo(
  peer: { port: number },
  seed = 1,
): DatagramFaultProxy {
  return DatagramFaultProxy.listen({
    upstream: { hostname: "127.0.0.1", port: peer.port },
    seed,
  });
}

Deno.test("DatagramFaultProxy forwards datagrams both ways", async () => {
  await using peer = startEchoPeer();
  await using proxy = proxyTo(peer);
  await using client = startClient(proxy);
  for (const text of ["a", "b", "c"]) {
    await client.send(text);
    assert.equal(await client.receive(), text);
  }
  assert.deepEqual(peer.received, ["a", "b", "c"]);
});

Deno.test("DatagramFaultProxy duplication delivers each datagram twice", async () => {
  await using peer = startEchoPeer();
  await using proxy = proxyTo(peer);
  proxy.setFaults({ duplication: 1 }, "downstream");
  await using client = startClient(proxy);
  await client.send("twice");
  assert.equal(await client.receive(), "twice");
  assert.equal(await client.receive(), "twice");
  assert.deepEqual(peer.received, ["twice"]);
});

Deno.test("DatagramFaultProxy reordering delivers a held datagram after the next one", async () => {
  await using peer = startEchoPeer();
  await using proxy = proxyTo(peer);
  proxy.setFaults({ reordering: 1 }, "upstream");
  await using client = startClient(proxy);
  for (const text of ["1", "2", "3", "4"]) await client.send(text);
  const answers = [];
  for (let i = 0; i < 4; i++) answers.push(await client.receive());
  assert.deepEqual(answers, ["2", "1", "4", "3"]);
});

Deno.test("DatagramFaultProxy reordering sends a held datagram anyway when none follows", async () => {
  await using peer = startEchoPeer();
  await using proxy = proxyTo(peer);
  proxy.setFaults({ reordering: 1 }, "upstream");
  await using client = startClient(proxy);
  await client.send("alone");
  assert.equal(await client.receive(), "alone");
});

Deno.test("DatagramFaultProxy latency delays each trip by at least its latency", async () => {
  await using peer = startEchoPeer();
  await using proxy = proxyTo(peer);
  proxy.setFaults({ latency: 40 }, "downstream");
  await using client = startClient(proxy);
  const started = performance.now();
  await client.send("late");
  assert.equal(await client.receive(), "late");
  assert.ok(performance.now() - started >= 40 - 2);
});

Deno.test("DatagramFaultProxy.close() drops delayed datagrams and clears their timers", async () => {
  using timers = countTimers();
  await using peer = startEchoPeer();
  const proxy = proxyTo(peer);
  await using client = startClient(proxy);
  await client.send("first");
  assert.equal(await client.receive(), "first");
  proxy.setFaults({ latency: 60_000 });
  await client.send("never");
  await client.send("never either");
  await proxy.close();
  await proxy.close();
  assert.equal(timers.pending, 0);
});

Deno.test("DatagramFaultProxy.setFaults() names a bad fault or stream", async () => {
  await using proxy = DatagramFaultProxy.listen({
    upstream: { hostname: "127.0.0.1", port: 9 },
  });
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => proxy.setFaults({ drop: 0.5 } as any),
    new TypeError(
      'Cannot set the faults: "faults" must hold only datagram faults (loss, duplication, reordering, latency, jitter), got "drop"',
    ),
  );
  assert.throws(
    () => proxy.setFaults({ loss: 2 }),
    new RangeError(
      'Cannot set the faults: "faults.loss" must be a probability from 0 to 1, got 2',
    ),
  );
  assert.throws(
    () => proxy.setFaults({ latency: -1 }),
    /"faults.latency" must be a non-negative integer of milliseconds, got -1/,
  );
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => proxy.setFaults({}, "sideways" as any),
    /"stream" must be "upstream", "downstream" or "both", got "sideways"/,
  );
  assert.throws(
    () =>
      DatagramFaultProxy.listen({
        upstream: { hostname: "127.0.0.1", port: 9 },
        faults: { jitter: 0.5 },
      }),
    /Cannot start the datagram proxy: "faults.jitter"/,
  );
});

Deno.test("DatagramFaultProxy forwards to an IPv6 peer", async () => {
  const peer = Deno.listenDatagram({
    hostname: "::1",
    port: 0,
    transport: "udp",
  });
  const echoed = (async () => {
    const [data, from] = await peer.receive();
    await peer.send(data, from);
  })();
  try {
    await using proxy = DatagramFaultProxy.listen({
      upstream: { hostname: "::1", port: (peer.addr as Deno.NetAddr).port },
    });
    await using client = startClient(proxy);
    await client.send("v6");
    assert.equal(await client.receive(), "v6");
    await within(echoed, 5_000, "the peer's echo");
  } finally {
    peer.close();
  }
});
