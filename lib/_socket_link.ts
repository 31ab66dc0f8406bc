/**
 * What a stream socket shares with its input and output streams.
 *
 * @module
 */

import type { SocketConnection } from "./socket_connection.ts";
import type { SocketEndpoint } from "./socket_error.ts";

/**
 * The socket's current connection, endpoint and state, in one object its
 * streams hold. The streams read and write `connection` directly, so a read
 * or write costs no extra promise, and `upgradeToSslAsync` swaps the TCP
 * connection for the TLS one under streams already handed out by assigning
 * this field. The endpoint in error messages is read from the connection when an
 * error happens, not kept twice.
 */
export class SocketLink {
  connection: SocketConnection | undefined = undefined;
  // The four flags share one number: a server holds thousands of idle
  // links, and each boolean field would cost 8 bytes of every one.
  #flags = 0;

  /** Set by `close()`; never cleared. */
  get closed(): boolean {
    return (this.#flags & CLOSED) !== 0;
  }
  set closed(value: boolean) {
    this.#flags = withFlag(this.#flags, CLOSED, value);
  }

  /** Set while `connectAsync` runs. */
  get connecting(): boolean {
    return (this.#flags & CONNECTING) !== 0;
  }
  set connecting(value: boolean) {
    this.#flags = withFlag(this.#flags, CONNECTING, value);
  }

  /** Set while `upgradeToSslAsync` swaps the connection: reads and writes are refused. */
  get upgrading(): boolean {
    return (this.#flags & UPGRADING) !== 0;
  }
  set upgrading(value: boolean) {
    this.#flags = withFlag(this.#flags, UPGRADING, value);
  }

  /** Set while the output stream hands bytes to the connection. */
  get writing(): boolean {
    return (this.#flags & WRITING) !== 0;
  }
  set writing(value: boolean) {
    this.#flags = withFlag(this.#flags, WRITING, value);
  }

  /**
   * The last read started: an upgrade must not swap the connection under a
   * pending one (kept rather than counted, so reads need no callback of
   * their own; see {@linkcode isPending}).
   */
  lastRead: Promise<unknown> | undefined = undefined;
  /**
   * Rewrites a transport error before it is reported; set only on TLS
   * clients, whose server may refuse the client certificate after the
   * handshake.
   */
  translate: ((error: unknown) => unknown) | undefined = undefined;

  /**
   * The remote endpoint, as a copy for an error to keep: errors must not
   * hold the connection.
   */
  endpoint(): SocketEndpoint {
    const remote = this.connection?.remoteAddr;
    return { hostname: remote?.hostname ?? "", port: remote?.port ?? 0 };
  }
}

// A module function, not a private method: private methods add a brand
// slot to every instance.
function withFlag(flags: number, flag: number, value: boolean): number {
  return value ? flags | flag : flags & ~flag;
}

const CLOSED = 1;
const CONNECTING = 2;
const UPGRADING = 4;
const WRITING = 8;

const MARKER = Symbol("not settled");
const NOT_SETTLED: Promise<symbol> = Promise.resolve(MARKER);

/**
 * Whether `promise` is still pending. `Promise.race` subscribes to its inputs
 * in order, and a settled promise queues its reaction at once, so it wins
 * over the already resolved marker only if it was settled.
 */
export async function isPending(
  promise: Promise<unknown> | undefined,
): Promise<boolean> {
  if (promise === undefined) return false;
  try {
    return await Promise.race([promise, NOT_SETTLED]) === MARKER;
  } catch {
    return false;
  }
}
