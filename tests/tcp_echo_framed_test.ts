import assert from "node:assert/strict";
import {
  DataReader,
  DataWriter,
  type InputStream,
  SocketError,
  SocketErrorStatus,
  StreamSocket,
} from "../mod.ts";
import {
  readFrame,
  runBoth,
  runClient,
  startServer,
  writeFrame,
} from "../examples/tcp_echo_framed.ts";
import {
  EVERY_INPUT_STREAM_OPTION,
  hasCommand,
  ROOT,
  run,
  runDeno,
  within,
} from "./_helpers.ts";

const encoder = new TextEncoder();

function frame(text: string): Uint8Array {
  const body = encoder.encode(text);
  const bytes = new Uint8Array(4 + body.length);
  new DataView(bytes.buffer).setUint32(0, body.length);
  bytes.set(body, 4);
  return bytes;
}

async function readEcho(
  socket: StreamSocket,
  count: number,
): Promise<string[]> {
  const reader = new DataReader(socket.inputStream);
  const texts: string[] = [];
  for (let i = 0; i < count; i++) {
    const text = await readFrame(reader, 1024 * 1024);
    if (text === null) break;
    texts.push(text);
  }
  return texts;
}

Deno.test("tcp_echo_framed runBoth() round-trips any Unicode text", async () => {
  const lines: string[] = [];
  const text = "héllo wörld 漢字 🎉 𝄞";
  assert.equal(await runBoth(text, (line) => lines.push(line)), text);
  assert.ok(lines.some((line) => line.includes("server received the request")));
});

Deno.test("tcp_echo_framed server reassembles frames sent one byte at a time", async () => {
  await using listener = await startServer("127.0.0.1", 0, () => {});
  await using client = await StreamSocket.connectAsync(
    "127.0.0.1",
    listener.information.localPort,
  );
  const bytes = frame("split ✂ across reads");
  for (const byte of bytes) {
    await client.outputStream.writeAsync(new Uint8Array([byte]));
  }
  assert.deepEqual(await within(readEcho(client, 1), 5_000, "the echo"), [
    "split ✂ across reads",
  ]);
});

Deno.test("tcp_echo_framed server answers many frames sent in one write", async () => {
  await using listener = await startServer("127.0.0.1", 0, () => {});
  await using client = await StreamSocket.connectAsync(
    "127.0.0.1",
    listener.information.localPort,
  );
  const texts = Array.from(
    { length: 50 },
    (_, i) => `frame ${i} ${"é".repeat(i)}`,
  );
  const all = texts.map(frame);
  const joined = new Uint8Array(all.reduce((n, f) => n + f.length, 0));
  let offset = 0;
  for (const f of all) {
    joined.set(f, offset);
    offset += f.length;
  }
  await client.outputStream.writeAsync(joined);
  assert.deepEqual(
    await within(readEcho(client, 50), 5_000, "50 echoes"),
    texts,
  );
});

Deno.test("tcp_echo_framed server ends an oversized frame's connection and keeps serving others", async () => {
  const errors: unknown[] = [];
  const gotError = Promise.withResolvers<void>();
  await using listener = await startServer("127.0.0.1", 0, (line) => {
    if (line.startsWith("connection ended")) {
      errors.push(line);
      gotError.resolve();
    }
  }, 1024);
  const port = listener.information.localPort;
  await using good = await StreamSocket.connectAsync("127.0.0.1", port);
  await using bad = await StreamSocket.connectAsync("127.0.0.1", port);
  const header = new Uint8Array(4);
  new DataView(header.buffer).setUint32(0, 0xffffffff);
  await bad.outputStream.writeAsync(header);
  await within(gotError.promise, 5_000, "the oversized-frame error");
  assert.match(String(errors[0]), /MessageTooLong: .*4294967295 bytes/);
  assert.equal(
    await bad.inputStream.readAsync(new Uint8Array(1), 1),
    0,
    "bad client's connection is closed",
  );
  await writeFrame(new DataWriter(good.outputStream), "still here");
  assert.deepEqual(await within(readEcho(good, 1), 5_000, "the good echo"), [
    "still here",
  ]);
});

Deno.test("tcp_echo_framed readFrame() rejects a frame cut short by the end of the stream", async () => {
  const reader = DataReader.fromBuffer(new Uint8Array([0, 0, 0, 9, 0x61]));
  const error = await readFrame(reader, 100).catch((e) => e);
  assert.ok(error instanceof SocketError);
  assert.equal(error.status, SocketErrorStatus.Unknown);
  assert.match(error.message, /after 1 of 9 bytes/);
});

Deno.test("tcp_echo_framed server interoperates with a python3 struct client", {
  ignore: !(await hasCommand("python3")),
}, async () => {
  await using listener = await startServer("127.0.0.1", 0, () => {});
  const script = `
import socket, struct, sys
text = "héllo wörld 漢字 🎉"
s = socket.create_connection(("127.0.0.1", ${listener.information.localPort}))
body = text.encode("utf-8")
s.sendall(struct.pack(">I", len(body)) + body)
def exact(n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk: raise SystemExit("short read")
        data += chunk
    return data
(length,) = struct.unpack(">I", exact(4))
echo = exact(length).decode("utf-8")
s.close()
sys.stdout.buffer.write(("OK " + echo if echo == text else "MISMATCH " + echo).encode("utf-8"))
`;
  const output = await run("python3", ["-c", script]);
  assert.equal(output.stdout, "OK héllo wörld 漢字 🎉", output.stderr);
});

Deno.test("examples/tcp_echo_framed.ts runs as-is in one process", async () => {
  const output = await runDeno([
    "run",
    "--allow-net=127.0.0.1",
    `${ROOT}examples/tcp_echo_framed.ts`,
  ]);
  assert.equal(output.code, 0, output.stderr);
  assert.match(output.stdout, /client received the response: "Hello, World!"/);
});

Deno.test("examples/tcp_echo_framed.ts runs as a server and a client in two processes", async () => {
  const server = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net=127.0.0.1",
      `${ROOT}examples/tcp_echo_framed.ts`,
      "--role",
      "server",
      "--port",
      "0",
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const lines = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    const first = await within(lines.read(), 20_000, "the listening line");
    const match = /listening on 127\.0\.0\.1:(\d+)/.exec(first.value ?? "");
    assert.ok(match, `unexpected first line: ${first.value}`);
    const client = await runDeno([
      "run",
      "--allow-net=127.0.0.1",
      `${ROOT}examples/tcp_echo_framed.ts`,
      "--role",
      "client",
      "--host",
      "127.0.0.1",
      "--port",
      match[1]!,
      "--message",
      "héllo 🎉",
    ]);
    assert.equal(client.code, 0, client.stderr);
    assert.match(client.stdout, /client received the response: "héllo 🎉"/);
  } finally {
    server.kill("SIGINT");
    await lines.cancel();
    await server.status;
  }
});

const CLOSED_OVER_LIMIT =
  "no response: the server closed the connection without answering; a framed server does so when the frame is over its --max-frame-size";

Deno.test("tcp_echo_framed runClient() rejects when the server refuses a frame over --max-frame-size", async () => {
  await using listener = await startServer("127.0.0.1", 0, () => {}, 4);
  await assert.rejects(
    runClient("127.0.0.1", listener.information.localPort, "Hello", () => {}),
    { message: CLOSED_OVER_LIMIT },
  );
});

Deno.test("tcp_echo_framed runClient() rejects after its timeout when the server never answers", async () => {
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = silent.accept();
  try {
    await assert.rejects(
      runClient(
        "127.0.0.1",
        (silent.addr as Deno.NetAddr).port,
        "hi",
        () => {},
        100,
      ),
      { message: "no response within 100 ms; raise --timeout to wait longer" },
    );
  } finally {
    (await within(accepted, 5_000, "the accepted connection")).close();
    silent.close();
  }
});

Deno.test("tcp_echo_framed runClient() accepts an echo over the default frame limit", async () => {
  await using listener = await startServer(
    "127.0.0.1",
    0,
    () => {},
    4 * 1024 * 1024,
  );
  const text = "é".repeat(1024 * 1024);
  assert.equal(
    await runClient(
      "127.0.0.1",
      listener.information.localPort,
      text,
      () => {},
    ),
    text,
  );
});

Deno.test("examples/tcp_echo_framed.ts --role client exits 1 with one line when the server refuses the frame", async () => {
  await using listener = await startServer("127.0.0.1", 0, () => {}, 4);
  const client = await runDeno([
    "run",
    "--allow-net=127.0.0.1",
    `${ROOT}examples/tcp_echo_framed.ts`,
    "--role",
    "client",
    "--port",
    String(listener.information.localPort),
  ]);
  assert.equal(client.code, 1, client.stdout);
  assert.equal(client.stderr, `${CLOSED_OVER_LIMIT}\n`);
  assert.doesNotMatch(client.stdout, /client received/);
});

Deno.test("tcp_echo_framed readFrame() reads frames cut anywhere whatever the reader's InputStreamOptions, Partial included", async () => {
  // Two frames, "hi" and "!", handed out in pieces that cut the header.
  const pieces = [[0, 0], [0, 2, 0x68], [0x69, 0, 0, 0], [1], [0x21]];
  for (const options of EVERY_INPUT_STREAM_OPTION) {
    const queue = pieces.map((piece) => [...piece]);
    const stream: InputStream = {
      readAsync(buffer, count = buffer.length) {
        const piece = queue[0];
        if (piece === undefined) return Promise.resolve(0);
        const n = Math.min(count, piece.length);
        buffer.set(piece.splice(0, n));
        if (piece.length === 0) queue.shift();
        return Promise.resolve(n);
      },
    };
    const reader = new DataReader(stream);
    reader.inputStreamOptions = options;
    assert.equal(await readFrame(reader, 1024), "hi", `options ${options}`);
    assert.equal(await readFrame(reader, 1024), "!", `options ${options}`);
    assert.equal(await readFrame(reader, 1024), null, `options ${options}`);
  }
});
