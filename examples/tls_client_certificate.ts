// deno-lint-ignore-file no-console
/**
 * A client certificate with StreamSocket (section 7 of the source document).
 *
 * With no flags it is self-contained on loopback: a listener that requires
 * client certificates (test certificates from tests/testdata, regenerated
 * into a temporary directory with tests/testdata/make_certs.sh if missing),
 * one connection without a certificate (rejected) and one with (accepted).
 *
 *   deno run --allow-net --allow-read --allow-run=openssl,sh --allow-write --allow-env examples/tls_client_certificate.ts
 *
 * Against any TLS server:
 *
 *   deno run --allow-net --allow-read examples/tls_client_certificate.ts \
 *     --host example.com --port 443 --cert client.pem --key client.key [--ca ca.pem]
 *
 * `--help` prints the options.
 *
 * @module
 */

import { formatUsage, parseCommandLine } from "./_cli.ts";
import {
  Certificate,
  LineReader,
  SocketError,
  SocketErrorStatus,
  SocketProtectionLevel,
  StreamSocket,
  StreamSocketListener,
} from "../mod.ts";

const STATUS_NAMES = new Map(
  Object.entries(SocketErrorStatus).map(([name, value]) => [value, name]),
);

/** Where the test certificates are: tests/testdata, or a temporary directory they were generated into. */
async function certificateDirectory(): Promise<string> {
  const testdata = new URL("../tests/testdata/", import.meta.url).pathname;
  try {
    await Deno.stat(`${testdata}client.key`);
    return testdata;
  } catch (error) {
    // Only missing certificates are made anew; a denied read must say so.
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    const out = await Deno.makeTempDir({ prefix: "seed-sockets-certs-" });
    const { code, stderr } = await new Deno.Command("sh", {
      args: [`${testdata}make_certs.sh`, out],
      stdout: "null",
    }).output();
    if (code !== 0) throw new Error(new TextDecoder().decode(stderr));
    return `${out}/`;
  }
}

/** Connects, sends one line, prints the echo and the server certificate. */
async function talk(
  host: string,
  port: number,
  clientCertificate: Certificate | undefined,
  trusted: Certificate[],
): Promise<void> {
  await using socket = new StreamSocket();
  socket.control.trustedRootCertificates = trusted;
  // The node:tls backend reports the server certificate; Deno.connectTls does not.
  socket.control.tlsBackend = "node";
  if (clientCertificate !== undefined) {
    socket.control.clientCertificate = clientCertificate;
  }
  await socket.connectAsync(host, port, SocketProtectionLevel.Tls12);
  await socket.outputStream.writeAsync(
    new TextEncoder().encode("Hello over mutual TLS\n"),
  );
  const echo = await new LineReader(socket.inputStream).readLine();
  console.log(`  echo: ${JSON.stringify(echo)}`);
  console.log(
    `  server certificate: ${
      socket.information.serverCertificate?.subject ?? "(not reported)"
    }`,
  );
}

function explain(error: unknown): void {
  const status = SocketError.getStatus(error);
  console.log(`  rejected: ${STATUS_NAMES.get(status)} (${status})`);
  console.log(
    `  message: ${error instanceof Error ? error.message : String(error)}`,
  );
}

/**
 * Runs the loopback scenario: a listener requiring client certificates, a
 * client without one (rejected) and one with (accepted).
 *
 * @returns What the server saw: the accepted client certificates' subjects.
 */
export async function runClientCertificateDemo(): Promise<string[]> {
  const dir = await certificateDirectory();
  const ca = await Certificate.fromFiles(`${dir}ca.pem`);
  const seen: string[] = [];

  await using listener = new StreamSocketListener();
  listener.control.serverCertificate = await Certificate.fromFiles(
    `${dir}server.pem`,
    `${dir}server.key`,
  );
  listener.control.clientCertificateRequired = true;
  listener.control.trustedClientRoots = [ca];
  listener.addEventListener("connectionreceived", async ({ socket }) => {
    await using s = socket;
    const client = s.information.clientCertificate;
    seen.push(client?.subject ?? "");
    console.log(
      `  server saw client certificate: ${client?.subject} (SHA-256 ${
        client?.fingerprint.slice(0, 23)
      }...)`,
    );
    const line = await new LineReader(s.inputStream).readLine();
    await s.outputStream.writeAsync(new TextEncoder().encode(`${line}\n`));
  });
  await listener.bindEndpointAsync("127.0.0.1", 0);
  const port = listener.information.localPort;
  console.log(
    `Listening with TLS on 127.0.0.1:${port}, client certificates required`,
  );

  console.log("1. Without a client certificate:");
  try {
    await talk("localhost", port, undefined, [ca]);
    console.log("  unexpectedly accepted");
  } catch (error) {
    explain(error);
  }

  console.log("2. With a client certificate:");
  await talk(
    "localhost",
    port,
    await Certificate.fromFiles(`${dir}client.pem`, `${dir}client.key`),
    [ca],
  );
  return seen;
}

const USAGE = formatUsage({
  summary: "A client certificate with StreamSocket. Without --host: a " +
    "loopback listener that requires client certificates, one connection " +
    "without a certificate (rejected) and one with (accepted). With --host: " +
    "one line sent to that TLS server, the echo and its certificate printed.",
  commands: [
    "deno run --allow-net --allow-read --allow-run=openssl,sh --allow-write --allow-env examples/tls_client_certificate.ts",
    "deno run --allow-net --allow-read examples/tls_client_certificate.ts --host HOST [--port N] [--cert FILE --key FILE] [--ca FILE]",
  ],
  options: [
    ["--host HOST", "the TLS server to reach (default: the loopback demo)"],
    ["--port N", "its port (default: 443)"],
    ["--cert FILE", "the client certificate, PEM (default: none)"],
    ["--key FILE", "the client certificate's private key, PEM"],
    ["--ca FILE", "a root certificate to trust, PEM (default: none)"],
  ],
});

if (import.meta.main) {
  const args = parseCommandLine({
    host: { type: "string" },
    port: { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    ca: { type: "string" },
  }, USAGE);
  if (args.host === undefined) {
    await runClientCertificateDemo();
  } else {
    const certificate = args.cert === undefined
      ? undefined
      : await Certificate.fromFiles(args.cert, args.key);
    const trusted = args.ca === undefined
      ? []
      : [await Certificate.fromFiles(args.ca)];
    console.log(`Connecting to ${args.host}:${args.port ?? 443}`);
    try {
      await talk(args.host, Number(args.port ?? 443), certificate, trusted);
    } catch (error) {
      explain(error);
      Deno.exitCode = 1;
    }
  }
}
