/**
 * The argument check shared by the boolean settings of socket and listener
 * controls (`noDelay`, `keepAlive`, `clientCertificateRequired`, `reusePort`),
 * so that they refuse a wrong value in one grammar.
 *
 * @module
 */

import { describe } from "./_format.ts";

/** `value` if it is a boolean; otherwise a `TypeError` naming the setting. */
export function checkBoolean(value: unknown, name: string): boolean {
  if (typeof value !== "boolean") {
    throw new TypeError(
      `Cannot set ${name}: "${name}" must be a boolean, got ${describe(value)}`,
    );
  }
  return value;
}
