// deno-lint-ignore-file no-console
/**
 * Runs every scenario of the library on loopback, one after another, and
 * prints the client and server logs. `deno task demo` runs it.
 *
 *   deno run --allow-net --allow-run --allow-read --allow-write --allow-env examples/demo.ts
 *
 * It takes no options but `--help`.
 *
 * @module
 */
import { formatUsage, parseCommandLine } from "./_cli.ts";
import { describeError } from "./_echo_cli.ts";
import { runBoth as tcpEcho } from "./tcp_echo.ts";
import { runBoth as tcpEchoFramed } from "./tcp_echo_framed.ts";
import { runBatchedSends } from "./batched_sends.ts";
import { runBoth as udpEcho } from "./udp_echo.ts";
import { runInPrivateNamespace } from "./port_sharing.ts";
import { runClientCertificateDemo } from "./tls_client_certificate.ts";

/** The permissions every scenario together needs, as `deno task demo` grants them. */
const PERMISSIONS: readonly Deno.PermissionName[] = [
  "net",
  "run",
  "read",
  "write",
  "env",
];
const COMMAND = `deno run ${
  PERMISSIONS.map((name) => `--allow-${name}`).join(" ")
} examples/demo.ts`;

parseCommandLine(
  {},
  formatUsage({
    summary:
      "Runs every scenario of @seed/sockets on loopback, one after another: " +
      "TCP echo (line-based and framed), UDP echo, port sharing and multicast, " +
      "TLS with a client certificate, batched sends. `deno task demo` runs it.",
    commands: [COMMAND],
    options: [],
  }),
);

// Checked up front: a scenario would otherwise stop half-way with a stack trace.
const missing: string[] = [];
for (const name of PERMISSIONS) {
  const { state } = await Deno.permissions.query({ name });
  if (state !== "granted") missing.push(`--allow-${name}`);
}
if (missing.length > 0) {
  console.error(
    `The demo needs ${missing.join(" ")}: run "deno task demo" or "${COMMAND}"`,
  );
  Deno.exit(1);
}

function heading(title: string): void {
  console.log(`\n=== ${title} ===`);
}

try {
  heading("TCP echo, line-based (examples/tcp_echo.ts)");
  await tcpEcho("Hello, World!");

  heading(
    "TCP echo, uint32 length-prefixed, DataReader/DataWriter (examples/tcp_echo_framed.ts)",
  );
  await tcpEchoFramed("Hello, World! Héllo, 世界 🎉");

  heading("UDP echo (examples/udp_echo.ts)");
  await udpEcho("Hello, World!", console.log);

  heading(
    "Port sharing and multicast, in a private network namespace (examples/port_sharing.ts)",
  );
  await runInPrivateNamespace(console.log);

  heading("TLS with a client certificate (examples/tls_client_certificate.ts)");
  await runClientCertificateDemo();

  heading("Batched sends (examples/batched_sends.ts)");
  await runBatchedSends(20_000);
} catch (error) {
  console.error(`The demo failed: ${describeError(error)}`);
  Deno.exit(1);
}

console.log("\nAll scenarios ran.");
