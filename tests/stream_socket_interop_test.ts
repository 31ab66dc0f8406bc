import assert from "node:assert/strict";
import {
  LineReader,
  SocketError,
  SocketErrorStatus,
  StreamSocket,
  StreamSocketListener,
} from "../mod.ts";
import { hasCommand, run, spawnFirstLine, within } from "./_helpers.ts";

const encoder = new TextEncoder();
const TEXT = "héllo wörld 漢字 🎉";
const hasPython = await hasCommand("python3");
const hasNode = await hasCommand("node");

if (!hasPython) {
  // deno-lint-ignore no-console
  console.warn("Skipping the python3 interop tests: python3 is not installed");
}
if (!hasNode) {
  // deno-lint-ignore no-console
  console.warn("Skipping the node interop test: node is not installed");
}

/** A python3 line echo server on 127.0.0.1 port 0: prints its port, then echoes each line of each connection. */
const PYTHON_ECHO_SERVER = `
import socket, sys
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", 0))
server.listen(8)
print(server.getsockname()[1], flush=True)
while True:
    conn, _ = server.accept()
    # The file object holds the socket open too: close both.
    with conn, conn.makefile("rb") as reader:
        for line in reader:
            conn.sendall(line)
`;

/** A node \`net\` echo server on 127.0.0.1 port 0: prints its port, then pipes each connection back to itself. */
const NODE_ECHO_SERVER = `
const net = require("node:net");
const server = net.createServer((socket) => socket.pipe(socket));
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
`;

/** A python3 server that reads one line, then closes with SO_LINGER {1, 0}: the peer gets a real RST. */
const PYTHON_RESET_SERVER = `
import socket, struct
server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
server.bind(("127.0.0.1", 0))
server.listen(1)
print(server.getsockname()[1], flush=True)
conn, _ = server.accept()
got = b""
while not got.endswith(b"\\n"):
    chunk = conn.recv(64)
    if not chunk:
        break
    got += chunk
conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
conn.close()
server.close()
print("reset", flush=True)
`;

/** Connects to an echo peer on 127.0.0.1:`port`, sends `TEXT` and more lines, and checks each echo byte for byte. */
async function roundTrip(port: number): Promise<void> {
  await using socket = await StreamSocket.connectAsync("127.0.0.1", port);
  const reader = new LineReader(socket.inputStream);
  for (const line of [TEXT, "", "plain ascii", "é".repeat(2000)]) {
    await socket.outputStream.writeAsync(encoder.encode(`${line}\n`));
    assert.equal(
      await within(reader.readLine(), 5_000, `the echo of a line`),
      line,
    );
  }
  // Half-close: the peer sees the end and closes its side; nothing else comes back.
  await socket.outputStream.closeAsync();
  assert.equal(await within(reader.readLine(), 5_000, "the end"), null);
}

Deno.test({
  name:
    "StreamSocketListener echoes non-ASCII lines to a python3 client byte for byte",
  ignore: !hasPython,
  async fn() {
    await using listener = new StreamSocketListener();
    listener.addEventListener("connectionreceived", async ({ socket }) => {
      await using s = socket;
      for await (const line of new LineReader(s.inputStream)) {
        await s.outputStream.writeAsync(encoder.encode(`${line}\n`));
      }
    });
    const errors: unknown[] = [];
    listener.addEventListener("error", ({ error }) => errors.push(error));
    await listener.bindEndpointAsync("127.0.0.1", 0);

    // The client prints the echo as hex, so no terminal encoding gets in the way.
    const script = `
import socket, sys
text = sys.argv[2]
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(text.encode("utf-8") + b"\\n")
got = b""
while not got.endswith(b"\\n"):
    chunk = s.recv(4096)
    if not chunk:
        break
    got += chunk
s.close()
print(got.hex())
`;
    const { code, stdout, stderr } = await run("python3", [
      "-c",
      script,
      String(listener.information.localPort),
      TEXT,
    ]);
    assert.equal(code, 0, stderr);
    const echoed = Uint8Array.from(
      stdout.trim().match(/../g) ?? [],
      (hex) => parseInt(hex, 16),
    );
    assert.deepEqual(echoed, encoder.encode(`${TEXT}\n`));
    assert.deepEqual(errors, []);
  },
});

Deno.test({
  name:
    "StreamSocket round-trips non-ASCII lines through a python3 echo server",
  ignore: !hasPython,
  async fn() {
    await using server = await spawnFirstLine("python3", [
      "-c",
      PYTHON_ECHO_SERVER,
    ]);
    await roundTrip(Number(server.firstLine));
  },
});

Deno.test({
  name:
    "StreamSocket round-trips non-ASCII lines through a node net echo server",
  ignore: !hasNode,
  async fn() {
    await using server = await spawnFirstLine("node", [
      "-e",
      NODE_ECHO_SERVER,
    ]);
    await roundTrip(Number(server.firstLine));
  },
});

Deno.test({
  name:
    "StreamSocket.inputStream.readAsync() rejects with ConnectionResetByPeer when a python3 peer resets",
  ignore: !hasPython,
  async fn() {
    await using server = await spawnFirstLine("python3", [
      "-c",
      PYTHON_RESET_SERVER,
    ]);
    const port = Number(server.firstLine);
    await using socket = await StreamSocket.connectAsync("127.0.0.1", port);
    await socket.outputStream.writeAsync(encoder.encode("reset me\n"));
    const error = await within(
      socket.inputStream.readAsync(new Uint8Array(64), 64, 1).then(
        (n) => {
          throw new Error(`read ${n} bytes instead of failing`);
        },
        (error: unknown) => error,
      ),
      10_000,
      "the reset",
    );
    assert.ok(error instanceof SocketError, String(error));
    assert.equal(error.status, SocketErrorStatus.ConnectionResetByPeer);
    assert.equal(
      error.message,
      `Cannot read from 127.0.0.1:${port}: connection reset by peer`,
    );
    assert.deepEqual(error.endpoint, { hostname: "127.0.0.1", port });
    assert.ok(error.cause instanceof Error);
    // The server ran to its end: the reset was deliberate, not a crash.
    const status = await within(server.child.status, 10_000, "python3's exit");
    assert.equal(status.code, 0, await server.stderr);
    assert.equal((await server.rest).trim(), "reset");
  },
});
