// deno-lint-ignore-file no-console
/**
 * A client certificate with StreamSocket (section 7 of the source document).
 *
 * With no flags it is self-contained on loopback: a listener that requires
 * client certificates (test certificates from tests/testdata, regenerated
 * into a temporary directory with tests/testdata/make_certs.sh if missing,
 * and that directory deleted, private keys included, when the demo ends),
 * one connection without a certificate (rejected) and one with (accepted).
 *
 *   deno run --allow-net --allow-read --allow-run=openssl,sh --allow-write --allow-env examples/tls_client_certificate.ts
 *
 * Against any TLS server:
 *
 *   deno run --allow-net --allow-read examples/tls_client_certificate.ts \
 *     --host example.com --port 443 --cert client.pem --key client.key [--ca ca.pem]
 *
 * With a PFX (PKCS#12) file, as Windows exports them: the password comes
 * from the SEED_SOCKETS_PFX_PASSWORD environment variable or, when it is not
 * set, from the first line of standard input (never from the command line,
 * where other users can read it in the process list):
 *
 *   SEED_SOCKETS_PFX_PASSWORD=... deno run --allow-net --allow-read \
 *     --allow-env=SEED_SOCKETS_PFX_PASSWORD examples/tls_client_certificate.ts \
 *     --host example.com --pfx client.pfx
 *
 * `--help` prints the options. A failure prints one line on stderr and exits
 * 1: "rejected: ..." when the server refused the connection (a TLS alert),
 * "failed: ..." for anything else.
 *
 * @module
 */

import {
  type CliValues,
  flagError,
  formatUsage,
  parseCommandLine,
  parsePortFlag,
} from "./_cli.ts";
import { describeError } from "./_echo_cli.ts";
import {
  Certificate,
  LineReader,
  SocketProtectionLevel,
  StreamSocket,
  StreamSocketListener,
} from "../mod.ts";

/** The test certificates, and what to do with them once the demo ends. */
interface CertificateDirectory extends AsyncDisposable {
  /** The directory, with a trailing slash. */
  path: string;
}

/**
 * Where the test certificates are: `testdata`, or a temporary directory
 * they were generated into (inside `parent` when given), which disposing
 * deletes, private keys included. An interrupt (Ctrl+C) while it exists
 * deletes it too before exiting.
 */
async function certificateDirectory(
  testdata: string,
  parent: string | undefined,
): Promise<CertificateDirectory> {
  try {
    await Deno.stat(`${testdata}client.key`);
    return { path: testdata, [Symbol.asyncDispose]: async () => {} };
  } catch (error) {
    // Only missing certificates are made anew; a denied read must say so.
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const out = await Deno.makeTempDir({
    prefix: "seed-sockets-certs-",
    ...(parent === undefined ? {} : { dir: parent }),
  });
  const onInterrupt = (): void => {
    try {
      Deno.removeSync(out, { recursive: true });
    } finally {
      Deno.exit(130);
    }
  };
  Deno.addSignalListener("SIGINT", onInterrupt);
  const remove = async (): Promise<void> => {
    Deno.removeSignalListener("SIGINT", onInterrupt);
    await Deno.remove(out, { recursive: true }).catch(() => {});
  };
  try {
    const script = new URL("../tests/testdata/make_certs.sh", import.meta.url);
    const { code, stderr } = await new Deno.Command("sh", {
      args: [script.pathname, out],
      stdout: "null",
    }).output();
    if (code !== 0) throw new Error(new TextDecoder().decode(stderr));
  } catch (error) {
    await remove();
    throw error;
  }
  return { path: `${out}/`, [Symbol.asyncDispose]: remove };
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

/** The messages of `error` and its causes, a few levels deep. */
function messages(error: unknown): string {
  const texts: string[] = [];
  for (let e = error, depth = 0; e !== undefined && depth < 8; depth++) {
    texts.push(e instanceof Error ? e.message : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return texts.join("\n");
}

/**
 * One line for a connection that did not work: "rejected" when the server
 * refused it with a TLS alert, "failed" for anything else (a refused TCP
 * connection, an untrusted server certificate, a bad host name...).
 *
 * @param error What `connectAsync` or the first read or write threw.
 * @param withCertificate Whether the client offered a certificate.
 * @returns The line, with a hint when one helps.
 */
export function describeConnectionError(
  error: unknown,
  withCertificate: boolean,
): string {
  const text = messages(error);
  const refused =
    /received fatal alert|peer did not return a certificate|certificate required/i
      .test(text);
  // TLS 1.2 has no CertificateRequired alert: a server that requires a
  // certificate refuses its absence with a plain HandshakeFailure.
  const hint = !withCertificate && /HandshakeFailure/i.test(text)
    ? "; the server may require a client certificate: pass --cert and --key"
    : "";
  return `${refused ? "rejected" : "failed"}: ${describeError(error)}${hint}`;
}

/** Where {@linkcode runClientCertificateDemo} finds or makes its certificates. */
export interface ClientCertificateDemoOptions {
  /**
   * The directory holding the test certificates, with a trailing slash; when
   * they are missing, they are generated into a temporary directory that is
   * deleted when the demo ends.
   * @default tests/testdata/ of this repository
   */
  testdata?: string;
  /**
   * Where that temporary directory is made.
   * @default the system's temporary directory
   */
  temporaryParent?: string;
}

/**
 * Runs the loopback scenario: a listener requiring client certificates, a
 * client without one (rejected) and one with (accepted).
 *
 * @param options Where the certificates are found or made.
 * @returns What the server saw: the accepted client certificates' subjects.
 */
export async function runClientCertificateDemo(
  options: ClientCertificateDemoOptions = {},
): Promise<string[]> {
  await using certificates = await certificateDirectory(
    options.testdata ?? new URL("../tests/testdata/", import.meta.url).pathname,
    options.temporaryParent,
  );
  const dir = certificates.path;
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
    console.log(`  ${describeConnectionError(error, false)}`);
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

/** What the loopback demo needs: the listener, the certificates, and making them if missing. */
const DEMO_PERMISSIONS =
  "--allow-net --allow-read --allow-run=openssl,sh --allow-write --allow-env";

/** The environment variable holding the PFX password. */
const PFX_PASSWORD = "SEED_SOCKETS_PFX_PASSWORD";

const USAGE = formatUsage({
  summary: "A client certificate with StreamSocket. Without --host: a " +
    "loopback listener that requires client certificates, one connection " +
    "without a certificate (rejected) and one with (accepted). With --host: " +
    "one line sent to that TLS server, the echo and its certificate printed.",
  commands: [
    `deno run ${DEMO_PERMISSIONS} examples/tls_client_certificate.ts`,
    "deno run --allow-net --allow-read examples/tls_client_certificate.ts --host HOST [--port N] [--cert FILE --key FILE] [--ca FILE]",
    `deno run --allow-net --allow-read --allow-env=${PFX_PASSWORD} examples/tls_client_certificate.ts --host HOST --pfx FILE`,
  ],
  options: [
    ["--host HOST", "the TLS server to reach (default: the loopback demo)"],
    ["--port N", "its port (default: 443); needs --host"],
    [
      "--cert FILE",
      "the client certificate, PEM (default: none); needs --host and --key",
    ],
    ["--key FILE", "the client certificate's private key, PEM; needs --cert"],
    [
      "--pfx FILE",
      `the client certificate and key, PFX/PKCS#12 (instead of --cert and --key); the password is read from $${PFX_PASSWORD}, else from the first line of standard input`,
    ],
    [
      "--ca FILE",
      "a root certificate to trust, PEM (default: none); needs --host",
    ],
  ],
  notes: [
    'A failure prints one line: "rejected: ..." when the server refused the ' +
    'connection, "failed: ..." otherwise.',
  ],
});

const OPTIONS = {
  host: { type: "string" },
  port: { type: "string" },
  cert: { type: "string" },
  key: { type: "string" },
  pfx: { type: "string" },
  ca: { type: "string" },
} as const;

/** Reads a PEM file named on the command line; the error names the flags. */
async function load(
  flags: string,
  certificate: string,
  key?: string,
): Promise<Certificate> {
  try {
    return await Certificate.fromFiles(certificate, key);
  } catch (error) {
    throw new Error(`Cannot load ${flags}: ${describeError(error)}`);
  }
}

/**
 * The PFX password: the environment variable when set, else the first line
 * of standard input (typed without echo on a terminal, or piped).
 */
async function pfxPassword(): Promise<string> {
  const fromEnv = Deno.env.get(PFX_PASSWORD);
  if (fromEnv !== undefined) return fromEnv;
  const terminal = Deno.stdin.isTerminal();
  if (terminal) {
    Deno.stderr.writeSync(new TextEncoder().encode("PFX password: "));
    Deno.stdin.setRaw(true);
  }
  try {
    return await firstLine(Deno.stdin.readable);
  } finally {
    if (terminal) {
      Deno.stdin.setRaw(false);
      Deno.stderr.writeSync(new TextEncoder().encode("\n"));
    }
  }
}

/**
 * Reads up to the first line ending (CR or LF), at most 4 KiB. Typed in raw
 * mode, the terminal does no editing: backspace removes the last byte and
 * Ctrl+C cancels.
 */
async function firstLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const bytes: number[] = [];
  const reader = stream.getReader();
  try {
    // Bounded: at most 4 KiB are kept, and the end of input stops it.
    for (let ended = false; !ended && bytes.length < 4096;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const byte of value) {
        if (byte === 0x0a || byte === 0x0d) {
          ended = true;
          break;
        }
        if (byte === 0x03) throw new Error("cancelled at the password prompt");
        if (byte === 0x7f || byte === 0x08) bytes.pop();
        else bytes.push(byte);
      }
    }
  } finally {
    reader.releaseLock();
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** Reads the `--pfx` file with the password from the environment or stdin; the error names the flag. */
async function loadPfx(file: string): Promise<Certificate> {
  try {
    const bytes = await Deno.readFile(file);
    return Certificate.fromPfx(bytes, await pfxPassword());
  } catch (error) {
    throw new Error(`Cannot load --pfx ${file}: ${describeError(error)}`);
  }
}

/** Connects to `--host` with the given flags; the loopback demo without it. */
async function main(args: CliValues<typeof OPTIONS>): Promise<void> {
  if (args.host === undefined) {
    for (const flag of ["port", "cert", "key", "pfx", "ca"] as const) {
      if (args[flag] !== undefined) {
        throw flagError(
          `--${flag} needs --host (without it, the loopback demo runs with its own certificates)`,
        );
      }
    }
    try {
      await runClientCertificateDemo();
    } catch (error) {
      if (!(error instanceof Deno.errors.NotCapable)) throw error;
      throw new Error(
        `${error.message}; the demo needs: deno run ${DEMO_PERMISSIONS} examples/tls_client_certificate.ts`,
      );
    }
    return;
  }
  if (args.cert !== undefined && args.key === undefined) {
    throw flagError("--cert needs --key");
  }
  if (args.key !== undefined && args.cert === undefined) {
    throw flagError("--key needs --cert");
  }
  if (args.pfx !== undefined && args.cert !== undefined) {
    throw flagError("--pfx replaces --cert and --key: give one or the other");
  }
  const port = args.port === undefined ? 443 : parsePortFlag(args.port, 1);
  const certificate = args.pfx !== undefined
    ? await loadPfx(args.pfx)
    : args.cert === undefined
    ? undefined
    : await load(`--cert ${args.cert} --key ${args.key}`, args.cert, args.key);
  const trusted = args.ca === undefined
    ? []
    : [await load(`--ca ${args.ca}`, args.ca)];
  console.log(`Connecting to ${args.host}:${port}`);
  try {
    await talk(args.host, port, certificate, trusted);
  } catch (error) {
    throw new Error(describeConnectionError(error, certificate !== undefined));
  }
}

if (import.meta.main) {
  await main(parseCommandLine(OPTIONS, USAGE)).catch((error) => {
    console.error(describeError(error));
    Deno.exit(1);
  });
}
