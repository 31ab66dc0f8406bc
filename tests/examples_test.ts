import assert from "node:assert/strict";
import { runBoth } from "../examples/tcp_echo.ts";
import { LineReader, StreamSocket } from "../mod.ts";
import { ROOT, runDeno, spawnFirstLine, within } from "./_helpers.ts";

const TCP_ECHO = ROOT + "examples/tcp_echo.ts";

/** Every runnable example, with the `deno run` permission flag its `--help` names. */
const EXAMPLES: [script: string, permission: string][] = [
  ["tcp_echo.ts", "--allow-net"],
  ["tcp_echo_framed.ts", "--allow-net"],
  ["udp_echo.ts", "--allow-net"],
  ["port_sharing.ts", "--allow-sys=networkInterfaces"],
  ["tls_client_certificate.ts", "--allow-run=openssl,sh"],
  ["batched_sends.ts", "--allow-net=127.0.0.1"],
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
