import assert from "node:assert/strict";
import { runBoth } from "../examples/tcp_echo.ts";
import { ROOT, runDeno, spawnFirstLine, within } from "./_helpers.ts";

const TCP_ECHO = ROOT + "examples/tcp_echo.ts";

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
