/**
 * The byte connection under a stream socket.
 *
 * @module
 */

/**
 * A network endpoint: a host name or IP address and a port, as Deno reports
 * it (`Deno.NetAddr` fits) and as {@linkcode SocketError.endpoint} names it.
 *
 * @example The shape of an address
 * ```ts
 * import type { SocketAddress } from "@seed/sockets";
 *
 * const address: SocketAddress = { hostname: "127.0.0.1", port: 8080 };
 * ```
 */
export interface SocketAddress {
  /** The host name or IP address (IPv6 without brackets). */
  readonly hostname: string;
  /** The port number. */
  readonly port: number;
}

/**
 * What a {@linkcode StreamSocket} needs from a connection: `Deno.TcpConn` and
 * `Deno.TlsConn` fit as they are, and so can an adapter over another stack.
 *
 * @example Adopt a Deno connection
 * ```ts
 * import type { SocketConnection } from "@seed/sockets";
 *
 * await using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const conn: SocketConnection = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
 * conn.close();
 * ```
 */
export interface SocketConnection {
  /** Reads into `p`; `null` at the end of the stream. */
  read(p: Uint8Array): Promise<number | null>;
  /** Writes some of `p`; resolves with how many bytes were taken. */
  write(p: Uint8Array): Promise<number>;
  /** Shuts down the sending side. */
  closeWrite(): Promise<void>;
  /** Closes the connection; pending operations fail. */
  close(): void;
  /** The local address. */
  readonly localAddr: SocketAddress;
  /** The remote address. */
  readonly remoteAddr: SocketAddress;
  /** Sets `TCP_NODELAY`, where the connection has one. */
  setNoDelay?(noDelay?: boolean): void;
  /** Sets `SO_KEEPALIVE`, where the connection has one. */
  setKeepAlive?(keepAlive?: boolean): void;
}
