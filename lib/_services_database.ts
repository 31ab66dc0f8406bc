/**
 * Private helper: the system's services database (`/etc/services`), read
 * once when the process may read it, for the service names
 * `parseServiceName()` looks up.
 *
 * This is the one place where service-name parsing touches `Deno.*`: a
 * permission query and one file read. Without `--allow-read` the query says
 * so without prompting, and nothing is read, so callers fall back silently
 * to the built-in table. The parsing of the file itself
 * ({@linkcode parseServicesFile}) is pure.
 *
 * Not exported from `mod.ts`.
 *
 * @module
 */

/** Where the services database is, on the systems that have one. */
export const SERVICES_PATH = "/etc/services";

const MAX_PORT = 65535;
const PORT_AND_PROTOCOL = /^([0-9]+)\/([A-Za-z0-9-]+)$/;

/**
 * Parses the text of a services database: one `name port/protocol
 * [aliases...]` entry a line, `#` starting a comment. Names and aliases are
 * keyed in lower case; a name listed for several protocols takes its TCP
 * port, else the first one listed. Malformed lines are skipped, as the C
 * library's `getservbyname` skips them.
 *
 * @param text The file's text.
 * @returns The port of each name and alias.
 *
 * @example Parse two entries
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseServicesFile } from "./_services_database.ts";
 *
 * const services = parseServicesFile(
 *   "gopher 70/tcp # Internet Gopher\nhttp 80/tcp www\n",
 * );
 * assert.equal(services.get("gopher"), 70);
 * assert.equal(services.get("www"), 80);
 * ```
 */
export function parseServicesFile(text: string): Map<string, number> {
  const ports = new Map<string, number>();
  const fromTcp = new Set<string>();
  for (const line of text.split("\n")) {
    const fields = line.replace(/#.*/, "").trim().split(/\s+/);
    const [name, portAndProtocol, ...aliases] = fields;
    const match = PORT_AND_PROTOCOL.exec(portAndProtocol ?? "");
    if (name === undefined || name === "" || match === null) continue;
    const port = Number(match[1]);
    if (port > MAX_PORT) continue;
    const tcp = match[2]!.toLowerCase() === "tcp";
    for (const key of [name, ...aliases].map((n) => n.toLowerCase())) {
      if (fromTcp.has(key) || (ports.has(key) && !tcp)) continue;
      ports.set(key, port);
      if (tcp) fromTcp.add(key);
    }
  }
  return ports;
}

let cached: Map<string, number> | undefined;

/**
 * The system's services database, or `undefined` when this process may not
 * read it (no prompt: the permission is only queried). Read once, then kept;
 * empty when there is no such file or it cannot be read.
 *
 * @returns The port of each name and alias, in lower case.
 *
 * @example Look up a service the system knows
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemServices } from "./_services_database.ts";
 *
 * const port = systemServices()?.get("http");
 * assert.ok(port === undefined || port === 80);
 * ```
 */
export function systemServices(): Map<string, number> | undefined {
  if (cached !== undefined) return cached;
  if (Deno.build.os === "windows") return undefined;
  const permission = Deno.permissions.querySync({
    name: "read",
    path: SERVICES_PATH,
  });
  if (permission.state !== "granted") return undefined;
  try {
    cached = parseServicesFile(Deno.readTextFileSync(SERVICES_PATH));
  } catch {
    // No such file (a minimal container) or unreadable: the built-in table serves.
    cached = new Map();
  }
  return cached;
}
