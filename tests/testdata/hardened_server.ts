// deno-lint-ignore-file no-console
/**
 * The server of tests/listener_reliability_test.ts: an echo server on one
 * listener kind, printing `listening PORT` first, stopping on SIGTERM.
 * Without `--errors` nobody listens to `error`, so the last-resort stderr
 * report is what it exercises; with it, each error event prints one line
 * `error STATUS_NAME` on stdout.
 *
 *   deno run --allow-net --allow-read tests/testdata/hardened_server.ts tcp|tls|mtls \
 *     [--handshake-timeout MS] [--max-connections N] [--idle-timeout MS] [--errors]
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  Certificate,
  LineReader,
  SocketError,
  socketErrorStatusName,
  StreamSocketListener,
} from "../../mod.ts";

const { values, positionals } = parseArgs({
  args: Deno.args,
  allowPositionals: true,
  options: {
    "handshake-timeout": { type: "string" },
    "max-connections": { type: "string" },
    "idle-timeout": { type: "string" },
    errors: { type: "boolean", default: false },
  },
});
const kind = positionals[0] ?? "tcp";
const dir = new URL("./", import.meta.url);
const listener = new StreamSocketListener();
if (kind !== "tcp") {
  listener.control.serverCertificate = await Certificate.fromFiles(
    new URL("server.pem", dir),
    new URL("server.key", dir),
  );
}
if (kind === "mtls") {
  listener.control.clientCertificateRequired = true;
  listener.control.trustedClientRoots = [
    await Certificate.fromFiles(new URL("ca.pem", dir)),
  ];
}
if (values["handshake-timeout"] !== undefined) {
  listener.control.handshakeTimeout = Number(values["handshake-timeout"]);
}
if (values["max-connections"] !== undefined) {
  listener.control.maxConnections = Number(values["max-connections"]);
}
if (values["idle-timeout"] !== undefined) {
  listener.control.idleTimeout = Number(values["idle-timeout"]);
}
const encoder = new TextEncoder();
listener.addEventListener("connectionreceived", async ({ socket }) => {
  await using s = socket;
  for await (const line of new LineReader(s.inputStream)) {
    await s.outputStream.writeAsync(encoder.encode(`${line}\n`));
  }
});
if (values.errors) {
  listener.addEventListener("error", ({ error }) => {
    console.log(`error ${socketErrorStatusName(SocketError.getStatus(error))}`);
  });
}
await listener.bindEndpointAsync("127.0.0.1", 0);
Deno.addSignalListener("SIGTERM", () => {
  listener.close();
  Deno.exit(0);
});
console.log(`listening ${listener.information.localPort}`);
