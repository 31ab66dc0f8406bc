/** Unix domain stream sockets: StreamSocket.connectUnixAsync() and StreamSocketListener.bindUnixAsync(), against python3 too. */
import assert from "node:assert/strict";
import * as sockets from "../mod.ts";
import { StreamSocket, StreamSocketListener } from "../mod.ts";

const { Certificate, LineReader, SocketError, SocketErrorStatus } = sockets;
import {
  hasCommand,
  readLineWithin,
  rejectionStatus,
  ROOT,
  run,
  runDeno,
  spawnFirstLine,
  within,
} from "./_helpers.ts";

const UNIX = Deno.build.os !== "windows";
const hasPython = UNIX && await hasCommand("python3");
const encoder = new TextEncoder();

/** A test in a fresh temporary directory; skipped where Unix sockets are missing (or `needsPython` and python3 is). */
function unixTest(
  name: string,
  fn: (dir: string) => Promise<void>,
  needsPython = false,
): void {
  Deno.test({
    name,
    ignore: needsPython ? !hasPython : !UNIX,
    async fn() {
      await using dir = await tempDir();
      await fn(dir.path);
    },
  });
}

/** A temporary directory removed on dispose. */
async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "seed-sockets-unix-" });
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(path, { recursive: true }),
  };
}

/** A listener on `path` echoing one line per connection, with a "!" appended. */
async function echoListener(path: string): Promise<StreamSocketListener> {
  const listener = new StreamSocketListener();
  listener.addEventListener("connectionreceived", async ({ socket }) => {
    await using s = socket;
    const line = await new LineReader(s.inputStream).readLine();
    if (line === null) return;
    await s.outputStream.writeAsync(encoder.encode(`${line}!\n`));
  });
  await listener.bindUnixAsync(path);
  return listener;
}

unixTest(
  "StreamSocketListener.bindUnixAsync() and StreamSocket.connectUnixAsync() echo, with paths and no ports in information",
  async (dir) => {
    const path = `${dir}/echo.sock`;
    const seen = Promise.withResolvers<StreamSocket>();
    await using listener = new StreamSocketListener();
    listener.addEventListener("connectionreceived", async ({ socket }) => {
      seen.resolve(socket);
      const line = await new LineReader(socket.inputStream).readLine();
      await socket.outputStream.writeAsync(encoder.encode(`${line}!\n`));
    });
    await listener.bindUnixAsync(new URL(`file://${path}`));
    assert.equal(listener.information.localPath, path);
    assert.equal(listener.information.localAddress, undefined);
    assert.equal(listener.information.localPort, 0);
    await using client = await StreamSocket.connectUnixAsync(path);
    await client.outputStream.writeAsync(encoder.encode("over unix\n"));
    assert.equal(await readLineWithin(client), "over unix!");
    const info = client.information;
    assert.equal(info.remotePath, path);
    assert.equal(info.localPath, "");
    assert.equal(info.remoteAddress, undefined);
    assert.equal(info.localAddress, undefined);
    assert.equal(info.remotePort, 0);
    const server = await within(seen.promise, 5_000, "the accepted socket");
    assert.equal(server.information.localPath, path);
    assert.equal(server.information.remotePath, "");
    assert.equal(server.information.remoteServiceName, "");
  },
);

unixTest(
  "StreamSocketListener.bindUnixAsync() refuses a path that is a file or a directory, and leaves it alone",
  async (dir) => {
    const file = `${dir}/data.txt`;
    await Deno.writeTextFile(file, "precious");
    for (const [path, kind] of [[file, "file"], [dir, "directory"]]) {
      await using listener = new StreamSocketListener();
      const error = await listener.bindUnixAsync(path!).then(
        () => undefined,
        (e) => e,
      );
      assert.ok(error instanceof SocketError);
      assert.equal(error.status, SocketErrorStatus.AddressAlreadyInUse);
      assert.match(
        error.message,
        new RegExp(`the path exists and is not a socket \\(a ${kind}\\)`),
      );
    }
    assert.equal(await Deno.readTextFile(file), "precious");
  },
);

unixTest(
  "StreamSocketListener.bindUnixAsync() replaces a socket file nobody listens on, refuses a live one, and removes its own on close",
  async (dir) => {
    const path = `${dir}/app.sock`;
    // A socket file left behind by a process that exited without removing it.
    const left = await run("python3", [
      "-c",
      "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])",
      path,
    ]);
    assert.equal(left.code, 0, left.stderr);
    assert.ok((await Deno.lstat(path)).isSocket);
    const listener = await echoListener(path);
    const second = new StreamSocketListener();
    assert.equal(
      await rejectionStatus(second.bindUnixAsync(path)),
      SocketErrorStatus.AddressAlreadyInUse,
    );
    await second.closeAsync();
    await using client = await StreamSocket.connectUnixAsync(path);
    await client.outputStream.writeAsync(encoder.encode("still served\n"));
    assert.equal(await readLineWithin(client), "still served!");
    await listener.closeAsync();
    await assert.rejects(Deno.lstat(path), Deno.errors.NotFound);
  },
  true,
);

unixTest(
  "StreamSocket.connectUnixAsync() rejects with ConnectionRefused when nothing listens, and bad paths with TypeError",
  async (dir) => {
    assert.equal(
      await rejectionStatus(StreamSocket.connectUnixAsync(`${dir}/none.sock`)),
      SocketErrorStatus.ConnectionRefused,
    );
    await assert.rejects(
      StreamSocket.connectUnixAsync(""),
      /"path" must be a non-empty path or file URL, got ""/,
    );
    await using listener = new StreamSocketListener();
    await assert.rejects(
      listener.bindUnixAsync(42 as unknown as string),
      /Cannot bind: "path" must be a non-empty path or file URL, got 42/,
    );
  },
);

unixTest("StreamSocketListener.bindUnixAsync() refuses TLS", async (dir) => {
  const read = (name: string): string =>
    Deno.readTextFileSync(new URL(`./testdata/${name}`, import.meta.url));
  await using listener = new StreamSocketListener();
  listener.control.serverCertificate = Certificate.fromPem(
    read("server.pem"),
    read("server.key"),
  );
  await assert.rejects(
    listener.bindUnixAsync(`${dir}/tls.sock`),
    /TLS is not offered on Unix sockets/,
  );
});

const PYTHON_UNIX_SERVER = `
import os, socket, sys
path = sys.argv[1]
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
print("ready", flush=True)
conn, _ = server.accept()
data = b""
while not data.endswith(b"\\n"):
    data += conn.recv(100)
conn.sendall(data.upper())
conn.close()
`;

const PYTHON_UNIX_CLIENT = `
import socket, sys
client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
client.connect(sys.argv[1])
client.sendall(b"from python\\n")
data = b""
while not data.endswith(b"\\n"):
    data += client.recv(100)
print(data.decode().strip(), flush=True)
`;

unixTest(
  "StreamSocket.connectUnixAsync() talks to a python3 AF_UNIX server, and a python3 client to bindUnixAsync()",
  async (dir) => {
    const serverPath = `${dir}/py.sock`;
    await using python = await spawnFirstLine("python3", [
      "-c",
      PYTHON_UNIX_SERVER,
      serverPath,
    ]);
    assert.equal(python.firstLine, "ready");
    await using socket = await StreamSocket.connectUnixAsync(serverPath);
    await socket.outputStream.writeAsync(encoder.encode("to python\n"));
    assert.equal(await readLineWithin(socket), "TO PYTHON");

    const ourPath = `${dir}/ours.sock`;
    await using _listener = await echoListener(ourPath);
    await using client = await spawnFirstLine("python3", [
      "-c",
      PYTHON_UNIX_CLIENT,
      ourPath,
    ]);
    assert.equal(client.firstLine, "from python!");
  },
  true,
);

unixTest(
  "examples/tcp_echo.ts --role server --unix PATH serves the --role client --unix PATH echo",
  async (dir) => {
    const path = `${dir}/echo.sock`;
    const flags = [
      `--allow-net=unix:${dir}/echo.sock,unix:${dir}/file`,
      `--allow-read=${dir}`,
      `--allow-write=${dir}`,
    ];
    const echo = (role: string, at: string, ...more: string[]) => [
      "run",
      ...flags,
      `${ROOT}examples/tcp_echo.ts`,
      `--role=${role}`,
      `--unix=${at}`,
      ...more,
    ];
    await using server = await spawnFirstLine(
      Deno.execPath(),
      echo("server", path),
    );
    assert.equal(server.firstLine, `listening on unix:${path}`);
    const client = await runDeno(echo("client", path, "--message=via unix"));
    assert.equal(client.code, 0, client.stderr);
    assert.match(client.stdout, /client received the response: "via unix"/);
    // A regular file at the path is refused, in one line, and kept.
    const file = `${dir}/file`;
    await Deno.writeTextFile(file, "keep me");
    const refused = await runDeno(echo("server", file));
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /^AddressAlreadyInUse: Cannot listen on .*: the path exists and is not a socket \(a file\).*\n$/,
    );
    assert.equal(await Deno.readTextFile(file), "keep me");
  },
);
