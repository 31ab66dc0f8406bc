import assert from "node:assert/strict";
import {
  InputStreamOptions,
  SocketError,
  SocketErrorStatus,
  StreamSocket,
  StreamSocketListener,
} from "../mod.ts";
import { FaultProxy } from "../testing.ts";
import { readAll, readLineWithin, within } from "./_helpers.ts";
import { countTimers } from "./_timers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** An echo server that half-closes once the client has; failures (resets) end the connection quietly. */
async function startEcho(): Promise<StreamSocketListener> {
  const listener = new StreamSocketListener();
  listener.addEventListener("connectionreceived", async ({ socket }) => {
    await using s = socket;
    const buffer = new Uint8Array(64 * 1024);
    try {
      // Bounded by the stream: the client's end stops it.
      while (true) {
        const n = await s.inputStream.readAsync(
          buffer,
          buffer.length,
          InputStreamOptions.Partial,
        );
        if (n === 0) break;
        await s.outputStream.writeAsync(buffer.slice(0, n));
      }
      await s.outputStream.closeAsync();
    } catch {
      // A toxic cut or reset the connection.
    }
  });
  await listener.bindEndpointAsync("127.0.0.1", 0);
  return listener;
}

async function proxyTo(
  listener: StreamSocketListener,
  seed = 1,
): Promise<FaultProxy> {
  return await FaultProxy.listen({
    upstream: { hostname: "127.0.0.1", port: listener.information.localPort },
    seed,
  });
}

function connect(proxy: FaultProxy): Promise<StreamSocket> {
  return StreamSocket.connectAsync("127.0.0.1", proxy.localPort);
}

/** Sends `text`, shuts down the sending side and reads the echo to its end. */
async function echo(
  client: StreamSocket,
  text: string | Uint8Array,
): Promise<string> {
  const bytes = typeof text === "string" ? encoder.encode(text) : text;
  await client.outputStream.writeAsync(bytes);
  await client.outputStream.closeAsync();
  return decoder.decode(await within(readAll(client), 10_000, "the echo"));
}

function isStatus(status: SocketErrorStatus): (error: unknown) => boolean {
  return (error) => SocketError.getStatus(error) === status;
}

Deno.test("FaultProxy forwards both ways and passes a half-close on", async () => {
  await using server = await startEcho();
  await using proxy = await proxyTo(server);
  await using client = await connect(proxy);
  assert.equal(await echo(client, "through the proxy"), "through the proxy");
});

Deno.test("FaultProxy latency toxic delays answers by at least latency - jitter", async () => {
  await using server = await startEcho();
  await using proxy = await proxyTo(server);
  const name = proxy.addToxic({
    type: "latency",
    attributes: { latency: 80, jitter: 10 },
  });
  assert.equal(name, "latency_downstream");
  await using client = await connect(proxy);
  const started = performance.now();
  await client.outputStream.writeAsync(encoder.encode("ping\n"));
  assert.equal(await readLineWithin(client), "ping");
  // A lower bound only: a delay toxic must never deliver early.
  assert.ok(performance.now() - started >= 70 - 2);
});

Deno.test("FaultProxy slicer toxic delivers every byte in order, both ways", async () => {
  await using server = await startEcho();
  await using proxy = await proxyTo(server);
  for (const stream of ["upstream", "downstream"] as const) {
    proxy.addToxic({
      type: "slicer",
      stream,
      attributes: { average_size: 7, size_variation: 3 },
    });
  }
  const bytes = new Uint8Array(5_000).map((_, i) => (i * 31) % 251);
  await using client = await connect(proxy);
  await client.outputStream.writeAsync(bytes);
  await client.outputStream.closeAsync();
  assert.deepEqual(await within(readAll(client), 10_000, "the echo"), bytes);
});

Deno.test("FaultProxy reset_peer toxic resets both sides with a real TCP RST", async () => {
  const serverSide = Promise.withResolvers<unknown>();
  await using server = new StreamSocketListener();
  server.addEventListener("connectionreceived", async ({ socket }) => {
    await using s = socket;
    try {
      await s.inputStream.readAsync(new Uint8Array(1024), 1024, 1);
      await s.inputStream.readAsync(new Uint8Array(1024), 1024, 1);
      serverSide.resolve("no error");
    } catch (error) {
      serverSide.resolve(error);
    }
  });
  await server.bindEndpointAsync("127.0.0.1", 0);
  await using proxy = await proxyTo(server);
  proxy.addToxic({ type: "reset_peer", stream: "upstream" });
  await using client = await connect(proxy);
  await client.outputStream.writeAsync(encoder.encode("hello"));
  await assert.rejects(
    within(client.inputStream.readAsync(new Uint8Array(8)), 5_000, "the reset"),
    isStatus(SocketErrorStatus.ConnectionResetByPeer),
  );
  const seen = await within(serverSide.promise, 5_000, "the server side");
  assert.ok(
    isStatus(SocketErrorStatus.ConnectionResetByPeer)(seen),
    `the server saw ${String(seen)}`,
  );
});

Deno.test("FaultProxy toxics apply to connections opened before they were added", async () => {
  await using server = await startEcho();
  await using proxy = await proxyTo(server);
  await using client = await connect(proxy);
  await client.outputStream.writeAsync(encoder.encode("before\n"));
  assert.equal(await readLineWithin(client), "before");
  proxy.addToxic({ type: "reset_peer", attributes: { timeout: 10 } });
  await client.outputStream.writeAsync(encoder.encode("after\n"));
  await assert.rejects(
    within(readLineWithin(client), 5_000, "the reset"),
    isStatus(SocketErrorStatus.ConnectionResetByPeer),
  );
});

Deno.test("FaultProxy timeout toxic drops data and closes the connection after its timeout", async () => {
  await using server = await startEcho();
  await using proxy = await proxyTo(server);
  proxy.addToxic({ type: "timeout", attributes: { timeout: 50 } });
  await using client = await connect(proxy);
  await client.outputStream.writeAsync(encoder.encode("lost"));
  assert.equal(
    (await within(readAll(client), 5_000, "the close")).length,
    0,
  );
});

Deno.test("FaultProxy timeout 0 holds a connection open until removed; nothing dropped, it goes on", async () => {
  await using server = await startEcho();
  await using proxy = await proxyTo(server);
  await using client = await connect(proxy);
  const name = proxy.addToxic({ type: "timeout", stream: "upstream" });
  proxy.removeToxic(name);
  await client.outputStream.writeAsync(encoder.encode("still here\n"));
  assert.equal(await readLineWithin(client), "still here");
});

Deno.test("FaultProxy limit_data toxic passes that many bytes, then closes", async () => {
  await using server = await startEcho();
  await using proxy = await proxyTo(server);
  proxy.addToxic({ type: "limit_data", attributes: { bytes: 5 } });
  await using client = await connect(proxy);
  await client.outputStream.writeAsync(encoder.encode("hello world"));
  const received = await within(readAll(client), 5_000, "the close");
  assert.equal(decoder.decode(received), "hello");
});

Deno.test("FaultProxy limit_time toxic passes data, then cuts the connection (cable unplugged)", async () => {
  await using server = await startEcho();
  await using proxy = await proxyTo(server);
  proxy.addToxic({ type: "limit_time", attributes: { duration: 100 } });
  await using client = await connect(proxy);
  await client.outputStream.writeAsync(encoder.encode("in time\n"));
  assert.equal(await readLineWithin(client), "in time");
  assert.equal(
    (await within(readAll(client), 5_000, "the cut")).length,
    0,
  );
});

Deno.test("FaultProxy bandwidth toxic limits the rate and delivers everything", async () => {
  await using server = await startEcho();
  await using proxy = await proxyTo(server);
  proxy.addToxic({ type: "bandwidth", attributes: { rate: 1_000 } });
  await using client = await connect(proxy);
  const bytes = new Uint8Array(100_000).fill(7);
  const started = performance.now();
  const text = await echo(client, bytes);
  assert.equal(text.length, bytes.length);
  // 100,000 bytes at 1,000 bytes/ms: never faster than 100 ms.
  assert.ok(performance.now() - started >= 100 - 2);
});

Deno.test("FaultProxy slow_close toxic holds the end of the stream back", async () => {
  await using server = new StreamSocketListener();
  server.addEventListener("connectionreceived", async ({ socket }) => {
    await using s = socket;
    await s.outputStream.writeAsync(encoder.encode("bye\n"));
  });
  await server.bindEndpointAsync("127.0.0.1", 0);
  await using proxy = await proxyTo(server);
  proxy.addToxic({ type: "slow_close", attributes: { delay: 80 } });
  const started = performance.now();
  await using client = await connect(proxy);
  assert.equal(
    decoder.decode(await within(readAll(client), 5_000, "the end")),
    "bye\n",
  );
  assert.ok(performance.now() - started >= 80 - 2);
});

/** Which of `count` sequential connections a toxicity-`toxicity` limit_data toxic cut. */
async function cutPattern(
  seed: number,
  toxicity: number,
  count: number,
): Promise<boolean[]> {
  await using server = await startEcho();
  await using proxy = await proxyTo(server, seed);
  proxy.addToxic({ type: "limit_data", toxicity, attributes: { bytes: 0 } });
  const pattern: boolean[] = [];
  for (let i = 0; i < count; i++) {
    await using client = await connect(proxy);
    pattern.push(await echo(client, "x") === "");
  }
  return pattern;
}

Deno.test("FaultProxy toxicity draws come from the seed: the same seed replays the same connections", async () => {
  const first = await cutPattern(42, 0.5, 8);
  assert.deepEqual(await cutPattern(42, 0.5, 8), first);
  assert.ok(first.includes(true) && first.includes(false), String(first));
  assert.deepEqual(await cutPattern(42, 0, 3), [false, false, false]);
  assert.deepEqual(await cutPattern(42, 1, 3), [true, true, true]);
});

Deno.test("FaultProxy adding and removing toxics under traffic never stalls a connection", async () => {
  await using server = await startEcho();
  await using proxy = await proxyTo(server);
  await using client = await connect(proxy);
  const received = readAll(client);
  const piece = new Uint8Array(4096);
  const toxics = [
    { type: "latency", attributes: { latency: 20, jitter: 5 } },
    { type: "slicer", attributes: { average_size: 100, size_variation: 50 } },
    { type: "bandwidth", attributes: { rate: 10_000 } },
    { type: "slow_close", attributes: { delay: 10 } },
  ] as const;
  let sent = 0;
  for (let round = 0; round < 24; round++) {
    const toxic = toxics[round % toxics.length]!;
    const stream = round % 2 === 0 ? "downstream" : "upstream";
    const name = proxy.addToxic({ ...toxic, stream, name: `t${round}` });
    await client.outputStream.writeAsync(piece.fill(round));
    sent += piece.length;
    if (round % 3 !== 0) proxy.removeToxic(name);
  }
  for (const toxic of proxy.toxics) proxy.removeToxic(toxic.name);
  await client.outputStream.closeAsync();
  const bytes = await within(received, 10_000, "every byte back");
  assert.equal(bytes.length, sent);
  for (let round = 0; round < 24; round++) {
    assert.equal(bytes[round * piece.length], round);
    assert.equal(bytes[(round + 1) * piece.length - 1], round);
  }
});

Deno.test("FaultProxy removing a latency toxic hands on what it holds at once", async () => {
  await using server = await startEcho();
  await using proxy = await proxyTo(server);
  const name = proxy.addToxic({
    type: "latency",
    attributes: { latency: 60_000 },
  });
  await using client = await connect(proxy);
  await client.outputStream.writeAsync(encoder.encode("held\n"));
  const line = readLineWithin(client, "the released line");
  proxy.removeToxic(name);
  assert.equal(await line, "held");
});

Deno.test("FaultProxy enabled = false refuses new connections and cuts open ones; setEnabled(true) serves again", async () => {
  await using server = await startEcho();
  await using proxy = await proxyTo(server);
  await using open = await connect(proxy);
  await open.outputStream.writeAsync(encoder.encode("up\n"));
  assert.equal(await readLineWithin(open), "up");
  proxy.enabled = false;
  assert.equal(proxy.enabled, false);
  assert.equal((await within(readAll(open), 5_000, "the cut")).length, 0);
  await assert.rejects(
    connect(proxy),
    isStatus(SocketErrorStatus.ConnectionRefused),
  );
  proxy.enabled = true;
  // A second call while listening again resolves once that is done.
  await proxy.setEnabled(true);
  await using again = await connect(proxy);
  assert.equal(await echo(again, "back"), "back");
});

Deno.test("FaultProxy closes the client when the upstream refuses", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = closed.addr.port;
  closed.close();
  await using proxy = await FaultProxy.listen({
    upstream: { hostname: "127.0.0.1", port },
  });
  await using client = await connect(proxy);
  assert.equal((await within(readAll(client), 5_000, "the close")).length, 0);
});

Deno.test("FaultProxy.close() ends open connections and may be called twice", async () => {
  await using server = await startEcho();
  const proxy = await proxyTo(server);
  await using client = await connect(proxy);
  await client.outputStream.writeAsync(encoder.encode("x\n"));
  assert.equal(await readLineWithin(client), "x");
  assert.equal(proxy.connectionCount, 1);
  await proxy.close();
  await proxy.close();
  await within(readAll(client).catch(() => new Uint8Array()), 5_000, "the end");
  assert.throws(() => proxy.addToxic({ type: "latency" }), /it is closed/);
});

Deno.test("FaultProxy.addToxic() names the field of a bad toxic", async () => {
  await using proxy = await FaultProxy.listen({
    upstream: { hostname: "127.0.0.1", port: 9 },
  });
  const cases: [unknown, ErrorConstructor, RegExp][] = [
    [
      { type: "jitter" },
      TypeError,
      /"type" must be one of latency, .*got "jitter"/,
    ],
    [{ type: "latency", stream: "sideways" }, TypeError, /"stream" must be/],
    [
      { type: "latency", attributes: { rate: 1 } },
      TypeError,
      /"attributes" must hold only latency's attributes \(latency, jitter\), got "rate"/,
    ],
    [
      { type: "latency", attributes: { latency: -1 } },
      RangeError,
      /"attributes.latency" must be a non-negative integer, got -1/,
    ],
    [
      { type: "latency", attributes: { latency: 1.5 } },
      RangeError,
      /"attributes.latency"/,
    ],
    [
      { type: "latency", attributes: { latency: "10" } },
      RangeError,
      /"attributes.latency" .* got "10"/,
    ],
    [
      { type: "latency", toxicity: 1.5 },
      RangeError,
      /"toxicity" must be a probability from 0 to 1, got 1.5/,
    ],
    [{ type: "latency", toxicity: Number.NaN }, RangeError, /"toxicity"/],
    [
      { type: "latency", name: "" },
      TypeError,
      /"name" must be a non-empty string/,
    ],
    [
      { type: "slicer", attributes: { average_size: 0 } },
      RangeError,
      /"attributes.average_size" must be at least 1/,
    ],
    [
      { type: "slicer", attributes: { average_size: 4, size_variation: 4 } },
      RangeError,
      /"attributes.size_variation" must be less than average_size 4/,
    ],
    [
      { type: "latency", attributes: 5 },
      TypeError,
      /"attributes" must be an object/,
    ],
    [null, TypeError, /"options" must be an object, got null/],
  ];
  for (const [options, type, message] of cases) {
    assert.throws(
      // deno-lint-ignore no-explicit-any
      () => proxy.addToxic(options as any),
      (error: unknown) =>
        error instanceof type && message.test((error as Error).message) &&
        (error as Error).message.startsWith("Cannot add the toxic: "),
      JSON.stringify(options),
    );
  }
  proxy.addToxic({ type: "latency" });
  assert.throws(
    () => proxy.addToxic({ type: "latency" }),
    /"name" must be unique on the proxy, got "latency_downstream", which is taken/,
  );
  assert.equal(proxy.toxics.length, 1);
});

Deno.test("FaultProxy.removeToxic() says so when the proxy has no such toxic", async () => {
  await using proxy = await FaultProxy.listen({
    upstream: { hostname: "127.0.0.1", port: 9 },
  });
  assert.throws(
    () => proxy.removeToxic("latency_downstream"),
    new TypeError(
      'Cannot remove the toxic: "name" must be the name of a toxic on this proxy (it has none), got "latency_downstream"',
    ),
  );
  proxy.addToxic({ type: "latency", name: "slow" });
  assert.throws(() => proxy.removeToxic("fast"), /\(it has slow\), got "fast"/);
});

Deno.test("FaultProxy.listen() rejects bad options naming the field", async () => {
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    FaultProxy.listen({ upstream: "127.0.0.1:80" } as any),
    new TypeError(
      'Cannot start the proxy: "upstream" must be an address ({ hostname, port }), got "127.0.0.1:80"',
    ),
  );
  await assert.rejects(
    FaultProxy.listen({ upstream: { hostname: "127.0.0.1", port: 0 } }),
    /"upstream.port" must be an integer from 1 to 65535, got 0/,
  );
  await assert.rejects(
    FaultProxy.listen({
      upstream: { hostname: "127.0.0.1", port: 9 },
      seed: -1,
    }),
    new RangeError(
      'Cannot start the proxy: "seed" must be an integer from 0 to 4294967295, got -1',
    ),
  );
  await using proxy = await FaultProxy.listen({
    upstream: { hostname: "127.0.0.1", port: 9 },
  });
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    proxy.setEnabled("no" as any),
    /"enabled" must be a boolean, got "no"/,
  );
  assert.throws(() => {
    // deno-lint-ignore no-explicit-any
    proxy.enabled = 0 as any;
  }, /"enabled" must be a boolean, got 0/);
});

Deno.test("FaultProxy.close() ends every toxic's waits and timers, even with data held", async () => {
  using timers = countTimers();
  await using server = await startEcho();
  const proxy = await proxyTo(server);
  await using client = await connect(proxy);
  await client.outputStream.writeAsync(encoder.encode("x\n"));
  assert.equal(await readLineWithin(client), "x");
  proxy.addToxic({ type: "latency", attributes: { latency: 60_000 } });
  proxy.addToxic({ type: "limit_time", attributes: { duration: 60_000 } });
  assert.equal(timers.pending, 1, "limit_time's timer runs");
  await client.outputStream.writeAsync(encoder.encode("held\n"));
  const ended = readAll(client).catch(() => new Uint8Array());
  await proxy.close();
  await within(ended, 5_000, "the end");
  assert.equal(timers.pending, 0);
});

Deno.test("FaultProxy.removeToxic() ends the removed toxic's timers on open connections", async () => {
  using timers = countTimers();
  await using server = await startEcho();
  await using proxy = await proxyTo(server);
  await using client = await connect(proxy);
  await client.outputStream.writeAsync(encoder.encode("x\n"));
  assert.equal(await readLineWithin(client), "x");
  const name = proxy.addToxic({
    type: "limit_time",
    attributes: { duration: 60_000 },
  });
  assert.equal(timers.pending, 1);
  proxy.removeToxic(name);
  assert.equal(timers.pending, 0);
  await client.outputStream.writeAsync(encoder.encode("y\n"));
  assert.equal(await readLineWithin(client), "y");
});

Deno.test("FaultProxy listens on and forwards to IPv6 loopback", async () => {
  await using server = new StreamSocketListener();
  server.addEventListener("connectionreceived", async ({ socket }) => {
    await using s = socket;
    await s.outputStream.writeAsync(encoder.encode("over v6\n"));
  });
  await server.bindEndpointAsync("::1", 0);
  await using proxy = await FaultProxy.listen({
    upstream: { hostname: "::1", port: server.information.localPort },
    hostname: "::1",
  });
  await using client = await StreamSocket.connectAsync("::1", proxy.localPort);
  assert.equal(await readLineWithin(client), "over v6");
  assert.equal(proxy.hostname, "::1");
});
