/**
 * Unix domain stream sockets (`Deno.connect`/`Deno.listen` with
 * `transport: "unix"`) behind the library's connection and acceptor types.
 *
 * A Unix socket has a path, not an address and a port: the connection
 * reports `{ hostname: "", port: 0 }` as its addresses (what
 * {@linkcode SocketConnection} requires) and the paths separately, which
 * the socket's `information` shows as `localPath` and `remotePath`.
 *
 * @module
 */

import type { SocketAddress, SocketConnection } from "./socket_connection.ts";
import { SocketError, SocketErrorStatus } from "./socket_error.ts";
import { SocketProtectionLevel } from "./socket_protection_level.ts";
import type { Accepted, Acceptor, AcceptorHooks } from "./_acceptors.ts";
import { AcceptBackoff, acceptWithBackoff } from "./_accept_backoff.ts";
import { describe } from "./_format.ts";

/** What a Unix socket reports where an IP address and port would be. */
const NO_ADDRESS: SocketAddress = Object.freeze({ hostname: "", port: 0 });

/** A connected Unix stream socket; it owns the `Deno.UnixConn`. */
export class UnixConnection implements SocketConnection {
  readonly localAddr: SocketAddress = NO_ADDRESS;
  readonly remoteAddr: SocketAddress = NO_ADDRESS;
  /** The path this end is bound to (`""` for an unnamed client end). */
  readonly localPath: string;
  /** The path of the other end (`""` for an unnamed client end). */
  readonly remotePath: string;
  #conn: Deno.UnixConn;

  constructor(conn: Deno.UnixConn) {
    this.#conn = conn;
    this.localPath = conn.localAddr.path ?? "";
    this.remotePath = conn.remoteAddr.path ?? "";
  }

  read(p: Uint8Array): Promise<number | null> {
    return this.#conn.read(p);
  }

  write(p: Uint8Array): Promise<number> {
    return this.#conn.write(p);
  }

  closeWrite(): Promise<void> {
    return this.#conn.closeWrite();
  }

  close(): void {
    this.#conn.close();
  }
}

/** Connects to the Unix socket at `path`. */
export async function connectUnix(path: string): Promise<UnixConnection> {
  return new UnixConnection(await Deno.connect({ transport: "unix", path }));
}

/**
 * Listens on a Unix socket path. A socket file left by a process that is
 * gone (nothing accepts on it) is replaced; a live one is
 * `AddressAlreadyInUse`; anything else at the path (a file, a directory)
 * is refused and left alone. On close, the socket file is removed.
 */
export class UnixAcceptor implements Acceptor {
  readonly addr: SocketAddress = NO_ADDRESS;
  readonly path: string;
  #listener: Deno.UnixListener;
  #hooks: AcceptorHooks;
  // Accepting backs off and waits for room as TCP's does: running out of
  // descriptors must not spin a Unix listener either.
  #backoff = new AcceptBackoff();
  #closed = false;

  private constructor(
    listener: Deno.UnixListener,
    path: string,
    hooks: AcceptorHooks,
  ) {
    this.#listener = listener;
    this.path = path;
    this.#hooks = hooks;
  }

  static async listen(
    path: string,
    hooks: AcceptorHooks,
  ): Promise<UnixAcceptor> {
    try {
      await clearStaleSocket(path);
      return new UnixAcceptor(
        Deno.listen({ transport: "unix", path }),
        path,
        hooks,
      );
    } catch (error) {
      throw SocketError.from(error, { action: `Cannot listen on ${path}` });
    }
  }

  async accept(): Promise<Accepted> {
    let wait: Promise<void> | undefined;
    // Bounded by close(): room() settles when a socket or the listener closes.
    while ((wait = this.#hooks.room(0)) !== undefined) {
      await wait;
      if (this.#closed) throw new Deno.errors.BadResource("Listener closed");
    }
    const conn = await acceptWithBackoff(
      () => this.#listener.accept(),
      this.#backoff,
      () => this.#closed,
      this.#hooks.acceptFailed,
    );
    return {
      connection: new UnixConnection(conn),
      protectionLevel: SocketProtectionLevel.PlainSocket,
      serverCertificate: undefined,
      clientCertificate: undefined,
    };
  }

  adopted(): void {}

  close(): void {
    this.#closed = true;
    this.#backoff.cancel();
    this.#listener.close();
    // Deno removes the socket file itself; where it does not, only a socket
    // goes, never a file that took the path since.
    try {
      if (Deno.lstatSync(this.path).isSocket) Deno.removeSync(this.path);
    } catch {
      // Gone already, or not ours to remove.
    }
  }
}

/** Makes room for a listener at `path`, or says why not. */
async function clearStaleSocket(path: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw error;
  }
  if (!info.isSocket) {
    throw new SocketError(
      `Cannot listen on ${path}: the path exists and is not a socket (a ${
        info.isDirectory
          ? "directory"
          : info.isSymlink
          ? "symbolic link"
          : "file"
      }); remove it or choose another path`,
      { status: SocketErrorStatus.AddressAlreadyInUse },
    );
  }
  try {
    const conn = await Deno.connect({ transport: "unix", path });
    conn.close();
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionRefused) {
      // Nothing accepts on it: a socket file left behind by a process that is gone.
      await Deno.remove(path);
      return;
    }
    throw error;
  }
  throw new SocketError(
    `Cannot listen on ${path}: another listener is accepting on this socket`,
    { status: SocketErrorStatus.AddressAlreadyInUse },
  );
}

/** Checks a Unix socket path argument. */
export function unixPath(path: unknown, action: string): string {
  const file = path instanceof URL ? path.pathname : path;
  if (typeof file !== "string" || file === "") {
    throw new TypeError(
      `Cannot ${action}: "path" must be a non-empty path or file URL, got ${
        describe(path)
      }`,
    );
  }
  return file;
}
