// deno-lint-ignore-file no-console
/**
 * The command line shared by the echo examples: `--role both|server|client`,
 * `--host`, `--port`, `--message`, plus options of each example. Failures
 * print one line and exit 1, never a stack trace.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { SocketError, socketErrorStatusName } from "../mod.ts";

/** A bound server: a listener or a datagram socket. */
export interface EchoServer extends AsyncDisposable {
  /** Where it is bound. */
  readonly information: { readonly localPort: number };
}

/** What one echo example plugs into the command line. */
export interface EchoRoles {
  /** The server's first line starts with this, then `HOST:PORT`. */
  boundLine: string;
  /** Options beyond the common ones, all strings. */
  options?: Record<string, { type: "string"; default?: string }>;
  /** Runs server and client in one process. */
  runBoth(message: string): Promise<unknown>;
  /** Starts the server; `options` holds the parsed extra options. */
  startServer(
    host: string,
    port: string,
    log: (line: string) => void,
    options: Record<string, string | undefined>,
  ): Promise<EchoServer>;
  /** Sends one message and logs the response. */
  runClient(
    host: string,
    port: string,
    message: string,
    log: (line: string) => void,
  ): Promise<unknown>;
}

/** One line for an error: the status name for socket failures, the message alone otherwise. */
export function describeError(error: unknown): string {
  if (error instanceof SocketError && !SocketError.isPermissionError(error)) {
    return `${socketErrorStatusName(error.status)}: ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Parses `Deno.args` and runs the chosen role. */
export async function runEchoCli(roles: EchoRoles): Promise<void> {
  try {
    const { values } = parseArgs({
      args: Deno.args,
      options: {
        role: { type: "string", default: "both" },
        host: { type: "string" },
        port: { type: "string" },
        message: { type: "string", default: "Hello, World!" },
        ...roles.options,
      },
    });
    const role = values.role as string;
    const host = (values.host as string | undefined) ?? "127.0.0.1";
    const port = values.port as string | undefined;
    const message = values.message as string;
    if (role === "both") {
      await roles.runBoth(message);
    } else if (role === "server") {
      const server = await roles.startServer(
        host,
        port ?? "1337",
        console.log,
        values as Record<string, string | undefined>,
      );
      const shown = host.includes(":") ? `[${host}]` : host;
      console.log(
        `${roles.boundLine} ${shown}:${server.information.localPort}`,
      );
      Deno.addSignalListener("SIGINT", () => {
        server[Symbol.asyncDispose]().then(() => Deno.exit(0));
      });
    } else if (role === "client") {
      if (port === undefined) {
        throw new TypeError("--role client needs --port N");
      }
      await roles.runClient(host, port, message, console.log);
    } else {
      throw new TypeError(
        `--role must be "both", "server" or "client", got "${role}"`,
      );
    }
  } catch (error) {
    console.error(describeError(error));
    Deno.exit(1);
  }
}
