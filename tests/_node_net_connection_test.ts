/** The node:net backend of stream sockets: keep-alive delay and the abortive close, against real peers. */
import assert from "node:assert/strict";
import {
  SocketError,
  SocketErrorStatus,
  StreamSocket,
  StreamSocketListener,
} from "../mod.ts";
import {
  hasCommand,
  pythonOneConnectionServer,
  run,
  spawnFirstLine,
  within,
} from "./_helpers.ts";

/** A raw Deno listener on 127.0.0.1 and a library client connected to it, with the given control settings. */
async function connectTo(
  configure: (socket: StreamSocket) => void,
): Promise<
  { socket: StreamSocket; peer: Deno.TcpConn } & AsyncDisposable
> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const socket = new StreamSocket();
  configure(socket);
  try {
    await socket.connectAsync("127.0.0.1", listener.addr.port);
    const peer = await within(listener.accept(), 5_000, "the accepted peer");
    return {
      socket,
      peer,
      [Symbol.asyncDispose]: () => {
        socket.close();
        peer.close();
        return Promise.resolve();
      },
    };
  } finally {
    listener.close();
  }
}

/** The keep-alive timer `ss` shows for the connection from `localPort`, in seconds. */
async function keepAliveTimer(localPort: number): Promise<number | undefined> {
  const { stdout } = await run("ss", [
    "-tnoH",
    "state",
    "established",
    `( sport = :${localPort} )`,
  ]);
  const match = /timer:\(keepalive,(\d+)(?:\.\d+)?(min|sec)/.exec(stdout);
  if (match === null) return undefined;
  return Number(match[1]) * (match[2] === "min" ? 60 : 1);
}

const hasSs = Deno.build.os === "linux" && await hasCommand("ss");

Deno.test({
  name:
    "StreamSocketControl.keepAliveDelay sets the idle time before the first probe (ss shows the timer)",
  ignore: !hasSs,
  async fn() {
    await using pair = await connectTo((socket) => {
      socket.control.keepAlive = true;
      socket.control.keepAliveDelay = 42_000;
    });
    const seconds = await keepAliveTimer(pair.socket.information.localPort);
    assert.ok(
      seconds !== undefined && seconds > 30 && seconds <= 42,
      `keep-alive timer ${seconds} s`,
    );
    // Changes apply at once on a node:net connection.
    pair.socket.control.keepAliveDelay = 5_000;
    const after = await keepAliveTimer(pair.socket.information.localPort);
    assert.ok(after === undefined || after <= 5, `keep-alive timer ${after} s`);
  },
});

Deno.test({
  name:
    "StreamSocketControl.keepAlive without a delay keeps Deno.connect and the system's idle time",
  ignore: !hasSs,
  async fn() {
    await using pair = await connectTo((socket) => {
      socket.control.keepAlive = true;
    });
    const seconds = await keepAliveTimer(pair.socket.information.localPort);
    // Linux's default tcp_keepalive_time is 7200 s; anything above the delays used here will do.
    assert.ok(seconds === undefined || seconds > 60, `timer ${seconds} s`);
    assert.throws(
      () => (pair.socket.control.keepAliveDelay = 1_000),
      /connected through Deno\.connect, which has no keep-alive delay/,
    );
  },
});

Deno.test("StreamSocketControl.keepAliveDelay refuses what is not a non-negative integer", () => {
  const socket = new StreamSocket();
  for (const bad of [-1, 1.5, Number.NaN, "10" as unknown as number]) {
    assert.throws(
      () => (socket.control.keepAliveDelay = bad),
      /"keepAliveDelay" must be a non-negative integer of milliseconds/,
    );
  }
  assert.throws(
    () => (socket.control.tcpBackend = "java" as "node"),
    /"tcpBackend" must be "deno" or "node", got "java"/,
  );
  socket.close();
});

Deno.test("StreamSocket.closeWithReset() sends a RST: the peer's read fails with ConnectionReset", async () => {
  await using pair = await connectTo((socket) => {
    socket.control.tcpBackend = "node";
  });
  await pair.socket.outputStream.writeAsync(new Uint8Array([1, 2, 3]));
  const buffer = new Uint8Array(16);
  assert.equal(await within(pair.peer.read(buffer), 5_000, "the bytes"), 3);
  pair.socket.closeWithReset();
  await assert.rejects(
    within(pair.peer.read(buffer), 5_000, "the reset"),
    Deno.errors.ConnectionReset,
  );
  await within(pair.socket.closed, 5_000, "closed");
  pair.socket.closeWithReset(); // a second call does nothing
});

Deno.test("StreamSocket.closeWithReset() fails a pending read of its own with OperationAborted", async () => {
  await using pair = await connectTo((socket) => {
    socket.control.tcpBackend = "node";
  });
  const reading = pair.socket.inputStream.readAsync(new Uint8Array(8), 8, 1);
  pair.socket.closeWithReset();
  const error = await within(
    reading.then(() => undefined, (e) => e),
    5_000,
    "the read",
  );
  assert.equal(
    SocketError.getStatus(error),
    SocketErrorStatus.OperationAborted,
  );
});

Deno.test("StreamSocket.closeWithReset() on a Deno connection throws, naming tcpBackend, and leaves the socket open", async () => {
  await using pair = await connectTo(() => {});
  assert.throws(
    () => pair.socket.closeWithReset(),
    (error: unknown) =>
      error instanceof TypeError &&
      /cannot send a TCP RST; set control\.tcpBackend = "node"/.test(
        error.message,
      ),
  );
  await pair.socket.outputStream.writeAsync(new Uint8Array([7]));
  assert.equal(await pair.peer.read(new Uint8Array(1)), 1);
});

const PYTHON_RESET_PEER = pythonOneConnectionServer(`
conn.recv(1)
try:
    conn.recv(1)
    print("closed gracefully", flush=True)
except ConnectionResetError:
    print("reset", flush=True)
`);

Deno.test({
  name:
    "StreamSocket.closeWithReset(): a python3 peer gets ConnectionResetError",
  ignore: !(await hasCommand("python3")),
  async fn() {
    await using python = await spawnFirstLine("python3", [
      "-c",
      PYTHON_RESET_PEER,
    ]);
    const socket = new StreamSocket();
    socket.control.tcpBackend = "node";
    await socket.connectAsync("127.0.0.1", Number(python.firstLine));
    await socket.outputStream.writeAsync(new Uint8Array([1]));
    await socket.outputStream.flushAsync();
    socket.closeWithReset();
    assert.equal(
      (await within(python.rest, 10_000, "python3's verdict")).trim(),
      "reset",
    );
  },
});

Deno.test("StreamSocketListener refuses keepAliveDelay and tcpBackend, which its accepted connections cannot honour", async () => {
  for (
    const configure of [
      (l: StreamSocketListener) => (l.control.keepAliveDelay = 1_000),
      (l: StreamSocketListener) => (l.control.tcpBackend = "node"),
    ]
  ) {
    await using listener = new StreamSocketListener();
    configure(listener);
    await assert.rejects(
      listener.bindEndpointAsync("127.0.0.1", 0),
      /"keepAliveDelay" and "tcpBackend" apply to client sockets only/,
    );
  }
});

Deno.test("StreamSocket.close() with tcpBackend node cancels a large write it rejected: the peer never reads the caller's buffer once it is reused", async () => {
  await using pair = await connectTo((s) => {
    s.control.tcpBackend = "node";
  });
  const { socket, peer } = pair;
  // Far more than the kernel takes while the peer does not read.
  const big = new Uint8Array(8 * 1024 * 1024).fill(0x5a);
  const write = socket.outputStream.writeAsync(big);
  // Let the write reach node:net and fill the kernel's buffers.
  await new Promise((resolve) => setTimeout(resolve, 100));
  socket.close();
  await assert.rejects(
    write,
    (e) => SocketError.getStatus(e) === SocketErrorStatus.OperationAborted,
  );
  // The write failed: the caller may reuse its buffer.
  big.fill(0xee);
  const buffer = new Uint8Array(64 * 1024);
  let received = 0;
  for (let n; (n = await peer.read(buffer)) !== null;) {
    const foreign = buffer.subarray(0, n).findIndex((b) => b !== 0x5a);
    assert.equal(
      foreign,
      -1,
      `byte ${received + foreign} was sent after the write failed`,
    );
    received += n;
    assert.ok(received <= big.length);
  }
  assert.ok(received < big.length, "a prefix, not the whole write");
});
