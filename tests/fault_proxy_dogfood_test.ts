/**
 * The project's own line-reader, framed-echo and deadline tests, run again
 * through FaultProxy's slicer, latency and reset_peer toxics.
 *
 * Deadlines run both ways: with a read's own `signal` (nothing is lost, the
 * next read gets the bytes) and by closing the socket.
 */
import assert from "node:assert/strict";
import {
  DataReader,
  LineReader,
  SocketError,
  SocketErrorStatus,
  StreamSocket,
  StreamSocketListener,
} from "../mod.ts";
import { FaultProxy, type ToxicOptions } from "../testing.ts";
import {
  readFrame,
  runClient,
  startServer,
} from "../examples/tcp_echo_framed.ts";
import { within } from "./_helpers.ts";

const encoder = new TextEncoder();

/** Network conditions every case runs under. */
const CONDITIONS: { name: string; toxics: ToxicOptions[] }[] = [
  {
    name: "1 to 3 byte slices",
    toxics: (["upstream", "downstream"] as const).map((stream) => ({
      type: "slicer",
      stream,
      attributes: { average_size: 2, size_variation: 1, delay: 50 },
    })),
  },
  {
    name: "20 ± 10 ms latency each way",
    toxics: (["upstream", "downstream"] as const).map((stream) => ({
      type: "latency",
      stream,
      attributes: { latency: 20, jitter: 10 },
    })),
  },
];

async function proxyWith(
  listener: StreamSocketListener,
  toxics: readonly ToxicOptions[],
): Promise<FaultProxy> {
  const proxy = await FaultProxy.listen({
    upstream: { hostname: "127.0.0.1", port: listener.information.localPort },
    seed: 1,
  });
  for (const toxic of toxics) proxy.addToxic(toxic);
  return proxy;
}

/** Echoes each line it reads, until the client ends the stream. */
async function startLineEcho(): Promise<StreamSocketListener> {
  const listener = new StreamSocketListener();
  listener.addEventListener("connectionreceived", async ({ socket }) => {
    await using s = socket;
    try {
      for await (const line of new LineReader(s.inputStream)) {
        await s.outputStream.writeAsync(encoder.encode(`${line}\n`));
      }
    } catch {
      // Reset by a toxic.
    }
  });
  await listener.bindEndpointAsync("127.0.0.1", 0);
  return listener;
}

/** A framed echo server behind a 60 s downstream latency, and a client of it. */
async function framedBehindLatency(): Promise<
  AsyncDisposable & { proxy: FaultProxy; client: StreamSocket }
> {
  const server = await startServer("127.0.0.1", 0, () => {});
  const proxy = await proxyWith(server, [
    { type: "latency", attributes: { latency: 60_000 } },
  ]);
  const client = await StreamSocket.connectAsync(
    "127.0.0.1",
    proxy.localPort,
  );
  return {
    proxy,
    client,
    async [Symbol.asyncDispose]() {
      client.close();
      await proxy.close();
      await server.closeAsync();
    },
  };
}

function isStatus(status: SocketErrorStatus): (error: unknown) => boolean {
  return (error) => SocketError.getStatus(error) === status;
}

const LINES = ["héllo wörld", "", "漢字 🎉 𝄞", "a\rb", "x".repeat(300)];

for (const { name, toxics } of CONDITIONS) {
  Deno.test(`LineReader.readLine() reassembles \\r\\n, empty and multi-byte lines through ${name}`, async () => {
    await using server = await startLineEcho();
    await using proxy = await proxyWith(server, toxics);
    await using client = await StreamSocket.connectAsync(
      "127.0.0.1",
      proxy.localPort,
    );
    await client.outputStream.writeAsync(
      encoder.encode(
        LINES.map((line, i) => line + (i % 2 ? "\r\n" : "\n")).join(""),
      ),
    );
    await client.outputStream.closeAsync();
    const lines: string[] = [];
    const reading = (async () => {
      for await (const line of new LineReader(client.inputStream)) {
        lines.push(line);
      }
    })();
    await within(reading, 10_000, "the echoed lines");
    assert.deepEqual(lines, LINES);
  });

  Deno.test(`tcp_echo_framed runClient() round-trips Unicode frames through ${name}`, async () => {
    await using server = await startServer("127.0.0.1", 0, () => {});
    await using proxy = await proxyWith(server, toxics);
    const text = "héllo wörld 漢字 🎉 𝄞 ".repeat(20);
    assert.equal(
      await within(
        runClient("127.0.0.1", proxy.localPort, text, () => {}),
        10_000,
        "the echo",
      ),
      text,
    );
  });

  Deno.test(`tcp_echo_framed runClient() times out through ${name} when the answer is swallowed`, async () => {
    await using server = await startServer("127.0.0.1", 0, () => {});
    await using proxy = await proxyWith(server, toxics);
    proxy.addToxic({ type: "timeout" });
    await assert.rejects(
      runClient("127.0.0.1", proxy.localPort, "hi", () => {}, 100),
      { message: "no response within 100 ms; raise --timeout to wait longer" },
    );
  });
}

Deno.test("LineReader.readLine() rejects with ConnectionResetByPeer when reset_peer cuts a line", async () => {
  await using server = new StreamSocketListener();
  server.addEventListener("connectionreceived", async ({ socket }) => {
    await using s = socket;
    await s.outputStream.writeAsync(encoder.encode("a line without its end"))
      .catch(() => {});
    await s.closed;
  });
  await server.bindEndpointAsync("127.0.0.1", 0);
  await using proxy = await proxyWith(server, [
    { type: "reset_peer", attributes: { timeout: 20 } },
  ]);
  await using client = await StreamSocket.connectAsync(
    "127.0.0.1",
    proxy.localPort,
  );
  await assert.rejects(
    within(new LineReader(client.inputStream).readLine(), 5_000, "the reset"),
    isStatus(SocketErrorStatus.ConnectionResetByPeer),
  );
});

Deno.test("tcp_echo_framed runClient() reports no response when reset_peer resets the request", async () => {
  await using server = await startServer("127.0.0.1", 0, () => {});
  await using proxy = await proxyWith(server, [
    { type: "reset_peer", stream: "upstream" },
  ]);
  await assert.rejects(
    within(
      runClient("127.0.0.1", proxy.localPort, "hi", () => {}),
      5_000,
      "the reset",
    ),
    {
      message:
        "no response: the server closed the connection without answering; a framed server does so when the frame is over its --max-frame-size",
    },
  );
});

Deno.test("tcp_echo_framed readFrame() behind a 60 s latency ends with OperationAborted when a deadline closes the socket", async () => {
  await using setup = await framedBehindLatency();
  const { client } = setup;
  const frame = new Uint8Array([0, 0, 0, 2, 104, 105]);
  await client.outputStream.writeAsync(frame);
  // The blunt deadline: closing the socket (the signal cases are below).
  const deadline = setTimeout(() => client.close(), 50);
  try {
    await assert.rejects(
      within(
        readFrame(new DataReader(client.inputStream), 1024),
        5_000,
        "the deadline",
      ),
      isStatus(SocketErrorStatus.OperationAborted),
    );
  } finally {
    clearTimeout(deadline);
  }
});

for (const { name, toxics } of CONDITIONS) {
  Deno.test(`LineReader.readLine() with a deadline loses nothing through ${name}: a timed-out read, then the whole line`, async () => {
    await using server = new StreamSocketListener();
    const release = Promise.withResolvers<void>();
    server.addEventListener("connectionreceived", async ({ socket }) => {
      await using s = socket;
      await s.outputStream.writeAsync(encoder.encode("first half, "));
      await release.promise;
      await s.outputStream.writeAsync(encoder.encode("second half\nnext\n"));
      await new LineReader(s.inputStream).readLine().catch(() => null);
    });
    await server.bindEndpointAsync("127.0.0.1", 0);
    await using proxy = await proxyWith(server, toxics);
    await using client = await StreamSocket.connectAsync(
      "127.0.0.1",
      proxy.localPort,
    );
    const reader = new LineReader(client.inputStream);
    await assert.rejects(
      reader.readLine({ signal: AbortSignal.timeout(60) }),
      isStatus(SocketErrorStatus.ConnectionTimedOut),
    );
    release.resolve();
    const signal = AbortSignal.timeout(5_000);
    assert.equal(await reader.readLine({ signal }), "first half, second half");
    assert.equal(await reader.readLine({ signal }), "next");
    client.close();
  });
}

Deno.test("DataReader.loadAsync() behind a 60 s latency ends with ConnectionTimedOut at its signal's deadline, and the socket stays usable", async () => {
  await using setup = await framedBehindLatency();
  const { client, proxy } = setup;
  await client.outputStream.writeAsync(new Uint8Array([0, 0, 0, 2, 104, 105]));
  const reader = new DataReader(client.inputStream);
  await assert.rejects(
    within(
      reader.loadAsync(4, { signal: AbortSignal.timeout(50) }),
      5_000,
      "the deadline",
    ),
    isStatus(SocketErrorStatus.ConnectionTimedOut),
  );
  // Still usable: the toxic goes, the answer comes.
  proxy.removeToxic("latency_downstream");
  await within(reader.loadAsync(4), 5_000, "the header after the deadline");
  assert.equal(reader.readUInt32(), 2);
  client.close();
});
