import assert from "node:assert/strict";
import { runBoth, runClient } from "../examples/tcp_echo.ts";
import { startServer as startUdpServer } from "../examples/udp_echo.ts";
import { runClientCertificateDemo } from "../examples/tls_client_certificate.ts";
import { LineReader, StreamSocket } from "../mod.ts";
import { ROOT, runDeno, spawnFirstLine, within } from "./_helpers.ts";

const TCP_ECHO = ROOT + "examples/tcp_echo.ts";
const TLS_CLIENT = ROOT + "examples/tls_client_certificate.ts";

/** Every runnable example, with the `deno run` permission flag its `--help` names. */
const EXAMPLES: [script: string, permission: string][] = [
  ["tcp_echo.ts", "--allow-net"],
  ["tcp_echo_framed.ts", "--allow-net"],
  ["udp_echo.ts", "--allow-net"],
  ["port_sharing.ts", "--allow-sys=networkInterfaces"],
  ["tls_client_certificate.ts", "--allow-run=openssl,sh"],
  ["batched_sends.ts", "--allow-net=127.0.0.1"],
  ["reuse_port_workers.ts", "--unstable-net"],
  ["demo.ts", "--allow-env"],
];

/** The echo examples' server roles and the first line each prints. */
const SERVERS: [script: string, boundLine: string][] = [
  ["tcp_echo.ts", "listening on"],
  ["tcp_echo_framed.ts", "listening on"],
  ["udp_echo.ts", "bound to"],
];

/** SIGTERM reaches `Deno.addSignalListener` everywhere but Windows. */
const NO_SIGTERM = Deno.build.os === "windows";

/** Asserts that each of `steps` occurs in `output`, each after the previous one. */
function assertInOrder(output: string, steps: string[]): void {
  let from = 0;
  for (const step of steps) {
    const at = output.indexOf(step, from);
    assert.ok(
      at >= 0,
      `"${step}" missing after offset ${from} in:\n${output}`,
    );
    from = at + step.length;
  }
}

Deno.test("examples/tcp_echo.ts runs server and client in one process and prints the guide's steps in order", async () => {
  const { code, stdout, stderr } = await runDeno([
    "run",
    "--allow-net=127.0.0.1",
    TCP_ECHO,
  ]);
  assert.equal(code, 0, stderr);
  // Client and server log from separate async chains: only causal order is guaranteed.
  assertInOrder(stdout, [
    "server is listening",
    "client connected",
    "server received the request",
    "client closed its socket",
  ]);
  assert.match(stdout, /server sent back the response: "Hello, World!"/);
  assertInOrder(stdout, [
    'client sent the request: "Hello, World!"',
    'client received the response: "Hello, World!"',
    "client closed its socket",
  ]);
  assert.equal(stderr, "");
});

Deno.test("examples/tcp_echo.ts runs as a server process and a client process", async () => {
  const message = "héllo 🎉";
  await using server = await spawnFirstLine(Deno.execPath(), [
    "run",
    "--allow-net=127.0.0.1",
    TCP_ECHO,
    "--role",
    "server",
    "--port",
    "0",
    "--host",
    "127.0.0.1",
  ]);
  const match = /^listening on 127\.0\.0\.1:(\d+)$/.exec(server.firstLine);
  assert.ok(match, `unexpected first line: ${server.firstLine}`);
  const port = match[1]!;
  assert.ok(Number(port) > 0);

  const client = await runDeno([
    "run",
    "--allow-net=127.0.0.1",
    TCP_ECHO,
    "--role",
    "client",
    "--port",
    port,
    "--host",
    "127.0.0.1",
    "--message",
    message,
  ]);
  assert.equal(client.code, 0, client.stderr);
  assertInOrder(client.stdout, [
    "client connected",
    `client sent the request: "${message}"`,
    `client received the response: "${message}"`,
  ]);

  server.child.kill("SIGINT");
  const status = await within(server.child.status, 10_000, "the server's exit");
  assert.equal(status.code, 0, await server.stderr);
  assert.equal(status.signal, null);
  assertInOrder(await server.rest, [
    `server received the request: "${message}"`,
    `server sent back the response: "${message}"`,
  ]);
});

Deno.test("examples/tcp_echo.ts without --allow-net exits non-zero and names the missing flag", async () => {
  const { code, stdout, stderr } = await runDeno(["run", TCP_ECHO]);
  assert.notEqual(code, 0);
  assert.match(stderr, /--allow-net/);
  assert.doesNotMatch(stdout, /client received/);
});

Deno.test("examples/tcp_echo.ts runBoth() returns the echoed message and logs each step", async () => {
  const lines: string[] = [];
  const response = await runBoth("x", (line) => lines.push(line));
  assert.equal(response, "x");
  assertInOrder(lines.join("\n"), [
    "[server] server is listening on port",
    "[client] client connected",
    '[server] server received the request: "x"',
    '[client] client received the response: "x"',
    "[client] client closed its socket",
  ]);
});

for (const [script, permission] of EXAMPLES) {
  for (const flag of ["--help", "-h"]) {
    Deno.test(`examples/${script} ${flag} prints the usage and exits 0 without any permission`, async () => {
      const { code, stdout, stderr } = await runDeno([
        "run",
        `${ROOT}examples/${script}`,
        flag,
      ]);
      assert.equal(code, 0, stderr);
      assert.equal(stderr, "");
      assert.match(stdout, /^Usage:$/m);
      assert.match(stdout, new RegExp(`deno run .*examples/${script}`));
      assert.ok(stdout.includes(permission), stdout);
      assert.match(stdout, /-h, --help/);
    });
  }

  Deno.test(`examples/${script} rejects an unknown flag with one line that points to --help`, async () => {
    const { code, stdout, stderr } = await runDeno([
      "run",
      `${ROOT}examples/${script}`,
      "--no-such-flag",
    ]);
    assert.equal(code, 1);
    assert.equal(stdout, "");
    assert.equal(
      stderr,
      "Unknown option '--no-such-flag'; run with --help to see the options\n",
    );
  });
}

for (const [script, boundLine] of SERVERS) {
  Deno.test({
    name:
      `examples/${script} --role server stops on SIGTERM, prints "server stopped" and exits 0`,
    ignore: NO_SIGTERM,
    async fn() {
      await using server = await spawnFirstLine(Deno.execPath(), [
        "run",
        "--allow-net=127.0.0.1",
        `${ROOT}examples/${script}`,
        "--role",
        "server",
        "--port",
        "0",
      ]);
      assert.match(
        server.firstLine,
        new RegExp(`^${boundLine} 127\\.0\\.0\\.1:[1-9]\\d*$`),
      );
      server.child.kill("SIGTERM");
      const status = await within(
        server.child.status,
        10_000,
        "the server's exit",
      );
      assert.equal(status.code, 0, await server.stderr);
      assert.equal(status.signal, null);
      assert.equal(await server.rest, "server stopped (SIGTERM)\n");
      assert.equal(await server.stderr, "");
    },
  });
}

Deno.test({
  name:
    "examples/tcp_echo.ts --role server on SIGTERM closes an open connection and exits 0",
  ignore: NO_SIGTERM,
  async fn() {
    await using server = await spawnFirstLine(Deno.execPath(), [
      "run",
      "--allow-net=127.0.0.1",
      TCP_ECHO,
      "--role",
      "server",
      "--port",
      "0",
    ]);
    const match = /^listening on 127\.0\.0\.1:(\d+)$/.exec(server.firstLine);
    assert.ok(match, `unexpected first line: ${server.firstLine}`);
    await using client = await StreamSocket.connectAsync(
      "127.0.0.1",
      match[1]!,
    );
    await client.outputStream.writeAsync(
      new TextEncoder().encode("still here\n"),
    );
    const lines = new LineReader(client.inputStream);
    assert.equal(
      await within(lines.readLine(), 10_000, "the echo"),
      "still here",
    );

    server.child.kill("SIGTERM");
    assert.equal(
      await within(lines.readLine(), 10_000, "the end of the connection"),
      null,
    );
    const status = await within(
      server.child.status,
      10_000,
      "the server's exit",
    );
    assert.equal(status.code, 0, await server.stderr);
    assertInOrder(await server.rest, [
      'server sent back the response: "still here"',
      "server stopped (SIGTERM)",
    ]);
  },
});

/** A TCP server on 127.0.0.1, port 0, that never echoes anything. */
interface MuteServer extends AsyncDisposable {
  port: number;
}

/**
 * Starts a server that, for each connection, reads the request (up to its
 * first newline) and then either closes the connection (`"close"`), keeps it
 * open without a word (`"silent"`), or answers with `reply` and closes.
 */
function muteServer(mode: "close" | "silent" | Uint8Array): MuteServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const close = (conn: Deno.Conn): void => {
    if (open.delete(conn)) conn.close();
  };
  const serving = (async () => {
    for await (const conn of listener) {
      open.add(conn);
      if (mode === "silent") continue;
      const buffer = new Uint8Array(64 * 1024);
      // Bounded: each read is real input, and the end of the stream stops it.
      for (let n; (n = await conn.read(buffer).catch(() => null)) !== null;) {
        if (buffer.subarray(0, n).includes(0x0a) || mode !== "close") break;
      }
      if (mode !== "close") await conn.write(mode).catch(() => {});
      close(conn);
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async [Symbol.asyncDispose]() {
      listener.close();
      for (const conn of open) close(conn);
      await serving;
    },
  };
}

Deno.test("examples/tcp_echo.ts runClient() rejects when the server closes the connection without answering", async () => {
  await using server = muteServer("close");
  await assert.rejects(
    runClient("127.0.0.1", server.port, "hi", () => {}),
    {
      message:
        "no response: the server closed the connection without answering",
    },
  );
});

Deno.test("examples/tcp_echo.ts runClient() rejects after its timeout when the server never answers", async () => {
  await using server = muteServer("silent");
  // Bounded by `within`, not timed: a client that ignored its time-out would
  // fail with the deadline's message instead.
  await assert.rejects(
    within(
      runClient("127.0.0.1", server.port, "hi", () => {}, 100),
      5_000,
      "the client's time-out",
    ),
    {
      message: "no response within 100 ms; raise --timeout to wait longer",
    },
  );
});

Deno.test("examples/tcp_echo.ts --role client exits 1 with one line when the server closes without answering", async () => {
  await using server = muteServer("close");
  const { code, stdout, stderr } = await runDeno([
    "run",
    "--allow-net=127.0.0.1",
    TCP_ECHO,
    "--role",
    "client",
    "--port",
    String(server.port),
  ]);
  assert.equal(code, 1, stdout);
  assert.equal(
    stderr,
    "no response: the server closed the connection without answering\n",
  );
  assert.doesNotMatch(stdout, /client received/);
});

Deno.test("examples/tcp_echo.ts --role client --timeout exits 1 with one line when the server never answers", async () => {
  await using server = muteServer("silent");
  const { code, stdout, stderr } = await runDeno([
    "run",
    "--allow-net=127.0.0.1",
    TCP_ECHO,
    "--role",
    "client",
    "--port",
    String(server.port),
    "--timeout",
    "200",
  ]);
  assert.equal(code, 1, stdout);
  assert.equal(
    stderr,
    "no response within 200 ms; raise --timeout to wait longer\n",
  );
});

for (const script of ["tcp_echo.ts", "tcp_echo_framed.ts", "udp_echo.ts"]) {
  Deno.test(`examples/${script} --help shows --timeout with its default`, async () => {
    const { stdout } = await runDeno([
      "run",
      `${ROOT}examples/${script}`,
      "--help",
    ]);
    assert.match(stdout, /--timeout MS +client: .*\(default: \d+\)$/m);
  });
}

Deno.test("examples/udp_echo.ts --role server echoes an empty datagram", async () => {
  await using server = await startUdpServer("127.0.0.1", 0, () => {});
  const peer = Deno.listenDatagram({
    transport: "udp",
    hostname: "127.0.0.1",
    port: 0,
  });
  try {
    await peer.send(new Uint8Array(0), {
      transport: "udp",
      hostname: "127.0.0.1",
      port: server.information.localPort,
    });
    const [data, from] = await within(peer.receive(), 5_000, "the empty echo");
    assert.equal(data.length, 0);
    assert.equal(
      (from as Deno.NetAddr).port,
      server.information.localPort,
    );
  } finally {
    peer.close();
  }
});

/** Bad flag values, each refused before any permission is needed, with the one line it prints. */
const BAD_VALUES: [script: string, args: string[], stderr: string][] = [
  [
    "tcp_echo.ts",
    ["--role", "server", "--message", "x"],
    "--message only applies to --role client or --role both, not to --role server",
  ],
  [
    "tcp_echo.ts",
    ["--role", "server", "--port", "0", "--timeout", "5"],
    "--timeout only applies to --role client, not to --role server",
  ],
  [
    "udp_echo.ts",
    ["--port", "5"],
    "--port only applies to --role server or --role client, not to --role both",
  ],
  [
    "tcp_echo_framed.ts",
    ["--role", "client", "--port", "5", "--max-frame-size", "9"],
    "--max-frame-size only applies to --role server, not to --role client",
  ],
  [
    "tcp_echo.ts",
    ["--port", "-1"],
    '--port must be a port number from 0 to 65535, got "-1"',
  ],
  [
    "tcp_echo.ts",
    ["--role", "client", "--port", "0"],
    '--port must be a port number from 1 to 65535, got "0"',
  ],
  [
    "udp_echo.ts",
    ["--role", "client", "--port", "1", "--timeout", "abc"],
    '--timeout must be a number of milliseconds from 1 to 2147483647, got "abc"',
  ],
  [
    "tcp_echo_framed.ts",
    ["--role", "server", "--max-frame-size", "-5"],
    '--max-frame-size must be an integer from 0 to 4294967295, got "-5"',
  ],
  [
    "tcp_echo.ts",
    ["--message", "-x"],
    "Option '--message' is followed by '-x', which starts with a dash; if that is its value, write --message=-x",
  ],
  [
    "batched_sends.ts",
    ["--count", "abc"],
    '--count must be a positive integer, got "abc"',
  ],
  [
    "port_sharing.ts",
    ["--port", "-1"],
    '--port must be a port number from 0 to 65535, got "-1"',
  ],
  [
    "tls_client_certificate.ts",
    ["--host", "localhost", "--port", "abc"],
    '--port must be a port number from 1 to 65535, got "abc"',
  ],
  [
    "tls_client_certificate.ts",
    ["--host", "localhost", "--cert", "c.pem"],
    "--cert needs --key",
  ],
  [
    "tls_client_certificate.ts",
    ["--host", "localhost", "--key", "c.key"],
    "--key needs --cert",
  ],
  [
    "tls_client_certificate.ts",
    ["--port", "443"],
    "--port needs --host (without it, the loopback demo runs with its own certificates)",
  ],
];

for (const [script, args, line] of BAD_VALUES) {
  Deno.test(`examples/${script} ${args.join(" ")} exits 1 with one line naming the flag`, async () => {
    const { code, stdout, stderr } = await runDeno([
      "run",
      `${ROOT}examples/${script}`,
      ...args,
    ]);
    assert.equal(code, 1, stderr);
    assert.equal(stdout, "");
    assert.equal(stderr, `${line}; run with --help to see the options\n`);
  });
}

Deno.test("examples/tcp_echo.ts takes a negative number as a value: --message -5 is echoed", async () => {
  const { code, stdout, stderr } = await runDeno([
    "run",
    "--allow-net=127.0.0.1",
    TCP_ECHO,
    "--message",
    "-5",
  ]);
  assert.equal(code, 0, stderr);
  assert.match(stdout, /client received the response: "-5"/);
});

Deno.test("examples/tls_client_certificate.ts with a missing --cert file exits 1 with one line naming it", async () => {
  const { code, stdout, stderr } = await runDeno([
    "run",
    "--allow-read",
    TLS_CLIENT,
    "--host",
    "localhost",
    "--cert",
    "nosuch.pem",
    "--key",
    "nosuch.key",
  ]);
  assert.equal(code, 1);
  assert.equal(stdout, "");
  assert.match(
    stderr,
    /^Cannot load --cert nosuch\.pem --key nosuch\.key: .*nosuch\.pem.*\n$/,
  );
});

Deno.test("examples/tls_client_certificate.ts without --allow-read exits 1 with one line naming the flag", async () => {
  const testdata = `${ROOT}tests/testdata/`;
  const withHost = await runDeno([
    "run",
    TLS_CLIENT,
    "--host",
    "localhost",
    "--cert",
    `${testdata}client.pem`,
    "--key",
    `${testdata}client.key`,
  ]);
  assert.equal(withHost.code, 1);
  assert.match(withHost.stderr, /^Cannot load --cert .*--allow-read.*\n$/);

  const demo = await runDeno(["run", TLS_CLIENT]);
  assert.equal(demo.code, 1);
  assert.equal(demo.stdout, "");
  assert.match(
    demo.stderr,
    /^.*--allow-read.*; the demo needs: deno run --allow-net --allow-read .*examples\/tls_client_certificate\.ts\n$/,
  );
});

Deno.test("examples/tls_client_certificate.ts says 'rejected' and hints at --cert when a server refuses with HandshakeFailure", async () => {
  // A TLS 1.2 fatal alert record: HandshakeFailure (40), what a TLS 1.2
  // server that requires a client certificate sends when none comes.
  await using server = muteServer(
    new Uint8Array([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]),
  );
  const { code, stdout, stderr } = await runDeno([
    "run",
    "--allow-net=127.0.0.1",
    TLS_CLIENT,
    "--host",
    "127.0.0.1",
    "--port",
    String(server.port),
  ]);
  assert.equal(code, 1, stderr);
  assert.equal(stdout, `Connecting to 127.0.0.1:${server.port}\n`);
  assert.match(
    stderr,
    /^rejected: .*HandshakeFailure; the server may require a client certificate: pass --cert and --key\n$/,
  );
});

Deno.test("examples/tls_client_certificate.ts says 'failed', not 'rejected', when nothing listens", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const { code, stderr } = await runDeno([
    "run",
    "--allow-net=127.0.0.1",
    TLS_CLIENT,
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
  ]);
  assert.equal(code, 1);
  assert.match(stderr, /^failed: ConnectionRefused: .*\n$/);
});

Deno.test("examples/demo.ts without permissions exits 1 with one line giving the command", async () => {
  const { code, stdout, stderr } = await runDeno([
    "run",
    `${ROOT}examples/demo.ts`,
  ]);
  assert.equal(code, 1);
  assert.equal(stdout, "");
  assert.equal(
    stderr,
    'The demo needs --allow-net --allow-run --allow-read --allow-write --allow-env: run "deno task demo" or "deno run --allow-net --allow-run --allow-read --allow-write --allow-env examples/demo.ts"\n',
  );
});

Deno.test("examples/port_sharing.ts runInPrivateNamespace() without --allow-run skips and names the flag", async () => {
  const dir = await Deno.makeTempDir({ prefix: "seed-sockets-example-" });
  try {
    const script = `${dir}/skip.ts`;
    await Deno.writeTextFile(
      script,
      `import { runInPrivateNamespace } from ${
        JSON.stringify(
          new URL("../examples/port_sharing.ts", import.meta.url).href,
        )
      };
const run = await runInPrivateNamespace(() => {});
console.log(run.skipped);
`,
    );
    const { code, stdout, stderr } = await runDeno(["run", script]);
    assert.equal(code, 0, stderr);
    assert.match(
      stdout,
      /^skipped the multicast steps: they need --allow-run to start unshare .*deno run .*--allow-run .*examples\/port_sharing\.ts\n$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("examples/tls_client_certificate.ts deletes the certificates and keys it generated once it ends", async () => {
  const parent = await Deno.makeTempDir({ prefix: "seed-sockets-test-" });
  try {
    const empty = `${parent}/empty/`;
    await Deno.mkdir(empty);
    // No certificates in `empty`: the demo makes them with openssl, uses them, then deletes them.
    const seen = await runClientCertificateDemo({
      testdata: empty,
      temporaryParent: parent,
    });
    assert.equal(seen.length, 1);
    assert.match(seen[0] ?? "", /CN=/);
    const left = [];
    for await (const entry of Deno.readDir(parent)) left.push(entry.name);
    assert.deepEqual(left, ["empty"]);
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});
