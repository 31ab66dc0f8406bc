/**
 * Private helper: turns a UWP service name (a port number, a string of
 * digits or a service name such as `"http"`) into a port number.
 *
 * Not exported from `mod.ts`. Parsing is pure; names are looked up in the
 * system's services database through `_services_database.ts`, the one part
 * that reads a file.
 *
 * @module
 */

import { systemServices } from "./_services_database.ts";
import { describe } from "./_format.ts";

/** A service name of the built-in table, {@linkcode WELL_KNOWN_SERVICES}. */
export type WellKnownServiceName =
  | "echo"
  | "discard"
  | "daytime"
  | "ftp"
  | "ssh"
  | "telnet"
  | "smtp"
  | "domain"
  | "http"
  | "pop3"
  | "ntp"
  | "imap"
  | "snmp"
  | "ldap"
  | "https"
  | "submission"
  | "imaps"
  | "pop3s"
  | "mqtt"
  | "mqtts";

/**
 * The well-known service names {@linkcode parseServiceName} accepts without
 * the system's services database, with their IANA port numbers; the object
 * is frozen.
 *
 * @example Look up a port
 * ```ts
 * import assert from "node:assert/strict";
 * import { WELL_KNOWN_SERVICES } from "./_service_name.ts";
 *
 * assert.equal(WELL_KNOWN_SERVICES.https, 443);
 * assert.ok(Object.isFrozen(WELL_KNOWN_SERVICES));
 * ```
 */
export const WELL_KNOWN_SERVICES: Readonly<
  Record<WellKnownServiceName, number>
> = Object.freeze({
  echo: 7,
  discard: 9,
  daytime: 13,
  ftp: 21,
  ssh: 22,
  telnet: 23,
  smtp: 25,
  domain: 53,
  http: 80,
  pop3: 110,
  ntp: 123,
  imap: 143,
  snmp: 161,
  ldap: 389,
  https: 443,
  submission: 587,
  imaps: 993,
  pop3s: 995,
  mqtt: 1883,
  mqtts: 8883,
});

const MAX_PORT = 65535;
const DIGITS = /^[0-9]+$/;
const NEGATIVE = /^-[0-9]+$/;
const SERVICE_NAME = /^[A-Za-z0-9-]+$/;

/**
 * Finds the port of a service name, given in lower case; `undefined` if the
 * name is unknown.
 */
export type ServiceLookup = (name: string) => number | undefined;

/**
 * Looks a name up in {@linkcode WELL_KNOWN_SERVICES} only.
 *
 * @param name The service name, in lower case.
 * @returns Its port, or `undefined`.
 *
 * @example Look up a built-in name
 * ```ts
 * import assert from "node:assert/strict";
 * import { builtInService } from "./_service_name.ts";
 *
 * assert.equal(builtInService("https"), 443);
 * assert.equal(builtInService("toString"), undefined);
 * ```
 */
export const builtInService: ServiceLookup = (name) =>
  Object.hasOwn(WELL_KNOWN_SERVICES, name)
    ? WELL_KNOWN_SERVICES[name as WellKnownServiceName]
    : undefined;

/**
 * Looks a name up in the system's services database (`/etc/services`) when
 * this process may read it, then in {@linkcode WELL_KNOWN_SERVICES}.
 *
 * @param name The service name, in lower case.
 * @returns Its port, or `undefined`.
 *
 * @example Look up a name
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemService } from "./_service_name.ts";
 *
 * assert.equal(systemService("http"), 80);
 * ```
 */
export const systemService: ServiceLookup = (name) =>
  systemServices()?.get(name) ?? builtInService(name);

/**
 * Parses a service name into a port number, as UWP's `serviceName`
 * arguments accept it.
 *
 * Accepted forms:
 * - an integer number from 0 to 65535;
 * - a string of ASCII decimal digits with a value from 0 to 65535, without
 *   a leading zero (`"080"` is refused, as `HostName` refuses `"01.2.3.4"`:
 *   some parsers read it as octal);
 * - the empty string, meaning 0;
 * - a service name, in any letter case: from the system's services database
 *   (`/etc/services`) when the process may read it, else (or when the name
 *   is not there) from {@linkcode WELL_KNOWN_SERVICES}. Without
 *   `--allow-read` the database is skipped silently, without a prompt.
 *
 * Port 0 asks the operating system for an ephemeral port. No whitespace,
 * `+` sign, decimal point or hexadecimal prefix is accepted; a negative
 * number is out of range, as a string (`"-1"`) as well as a number (`-1`).
 *
 * @param service The value to parse.
 * @param argumentName The name of the argument, used in error messages.
 * @param lookup Where names are looked up.
 * @returns The port number, from 0 to 65535.
 * @throws {RangeError} If `service` is a number that is not an integer from
 * 0 to 65535 (`NaN` included), or a string of digits above 65535 or with a
 * minus sign.
 * @throws {TypeError} If `service` is neither a number nor a string, or a
 * string that is neither digits nor a known service name, or digits with a
 * leading zero.
 *
 * @example Parse the three forms
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseServiceName } from "./_service_name.ts";
 *
 * assert.equal(parseServiceName(8080), 8080);
 * assert.equal(parseServiceName("8080"), 8080);
 * assert.equal(parseServiceName("HTTPS"), 443);
 * assert.equal(parseServiceName(""), 0);
 * assert.throws(() => parseServiceName("foo"), TypeError);
 * assert.throws(() => parseServiceName(70000, "localPort"), RangeError);
 * assert.throws(() => parseServiceName("-1"), RangeError);
 * assert.throws(() => parseServiceName("080"), /leading zero/);
 * ```
 */
export function parseServiceName(
  service: unknown,
  argumentName = "service",
  lookup: ServiceLookup = systemService,
): number {
  if (typeof service === "number") {
    return parsePortNumber(service, argumentName);
  }
  if (typeof service !== "string") {
    throw new TypeError(
      `Cannot parse the port: "${argumentName}" must be a port number from 0 ` +
        `to 65535 or a well-known service name such as "http", got ${
          describe(service)
        }`,
    );
  }
  if (service === "") return 0;
  if (DIGITS.test(service)) return parsePortDigits(service, argumentName);
  if (NEGATIVE.test(service)) throw outOfRange(argumentName, service);
  if (SERVICE_NAME.test(service)) {
    const port = lookup(service.toLowerCase());
    if (port !== undefined) return port;
  }
  throw new TypeError(
    `Cannot parse the port: "${argumentName}" must be a port number from 0 ` +
      `to 65535 or a well-known service name such as "http", got ${
        describe(service)
      }`,
  );
}

function parsePortNumber(port: number, argumentName: string): number {
  if (!Number.isInteger(port)) {
    throw new RangeError(
      `Cannot parse the port: "${argumentName}" must be an integer port ` +
        `number from 0 to 65535, got ${describe(port)}`,
    );
  }
  if (port < 0 || port > MAX_PORT) throw outOfRange(argumentName, port);
  // Normalises -0 to 0.
  return port + 0;
}

function parsePortDigits(digits: string, argumentName: string): number {
  if (digits.length > 1 && digits.startsWith("0")) {
    const plain = digits.replace(/^0+(?=.)/, "");
    throw new TypeError(
      `Cannot parse the port: "${argumentName}" must be a port number from 0 ` +
        `to 65535 without a leading zero, which some parsers read as octal ` +
        `(write ${JSON.stringify(plain)}), got ${describe(digits)}`,
    );
  }
  const port = Number(digits);
  if (port > MAX_PORT) throw outOfRange(argumentName, digits);
  return port;
}

function outOfRange(argumentName: string, value: unknown): RangeError {
  return new RangeError(
    `Cannot parse the port: "${argumentName}" must be a port number from 0 ` +
      `to 65535, got ${describe(value)}`,
  );
}
