/**
 * Private helper: turns a UWP service name (a port number, a string of
 * digits or a well-known name such as `"http"`) into a port number.
 *
 * Not exported from `mod.ts`.
 *
 * @module
 */

/** A service name that {@linkcode parseServiceName} knows the port of. */
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
 * The well-known service names {@linkcode parseServiceName} accepts, with
 * their IANA port numbers; the object is frozen.
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
const SERVICE_NAME = /^[A-Za-z0-9-]+$/;

/**
 * Parses a service name into a port number, as UWP's `serviceName`
 * arguments accept it.
 *
 * Accepted forms:
 * - an integer number from 0 to 65535;
 * - a string of ASCII decimal digits with a value from 0 to 65535 (leading
 *   zeros are read as decimal: `"080"` is 80);
 * - the empty string, meaning 0;
 * - a name from {@linkcode WELL_KNOWN_SERVICES}, in any letter case.
 *
 * Port 0 asks the operating system for an ephemeral port. No whitespace,
 * sign, decimal point or hexadecimal prefix is accepted.
 *
 * @param service The value to parse.
 * @param argumentName The name of the argument, used in error messages.
 * @returns The port number, from 0 to 65535.
 * @throws {RangeError} If `service` is a number that is not an integer from
 * 0 to 65535 (`NaN` included), or a string of digits above 65535.
 * @throws {TypeError} If `service` is neither a number nor a string, or a
 * string that is neither digits nor a well-known service name.
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
 * ```
 */
export function parseServiceName(
  service: unknown,
  argumentName = "service",
): number {
  if (typeof service === "number") {
    return parsePortNumber(service, argumentName);
  }
  if (typeof service !== "string") {
    throw new TypeError(
      `Invalid ${argumentName} ${describe(service)}: expected a port number ` +
        `0-65535 or a well-known service name such as "http", received ` +
        `${typeName(service)}`,
    );
  }
  if (service === "") return 0;
  if (DIGITS.test(service)) return parsePortDigits(service, argumentName);
  if (SERVICE_NAME.test(service)) {
    const name = service.toLowerCase();
    if (Object.hasOwn(WELL_KNOWN_SERVICES, name)) {
      return WELL_KNOWN_SERVICES[name as WellKnownServiceName];
    }
  }
  throw new TypeError(
    `Invalid ${argumentName} ${JSON.stringify(service)}: expected a port ` +
      `number 0-65535 or a well-known service name such as "http"`,
  );
}

function parsePortNumber(port: number, argumentName: string): number {
  if (!Number.isInteger(port)) {
    throw new RangeError(
      `Invalid ${argumentName} ${describe(port)}: not an integer; expected ` +
        `a port number 0-65535`,
    );
  }
  if (port < 0 || port > MAX_PORT) {
    throw new RangeError(
      `Invalid ${argumentName} ${describe(port)}: out of range; expected ` +
        `a port number 0-65535`,
    );
  }
  // Normalises -0 to 0.
  return port + 0;
}

function parsePortDigits(digits: string, argumentName: string): number {
  const port = Number(digits);
  if (port > MAX_PORT) {
    throw new RangeError(
      `Invalid ${argumentName} ${JSON.stringify(digits)}: out of range; ` +
        `expected a port number 0-65535`,
    );
  }
  return port;
}

function describe(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "bigint":
      return `${value}n`;
    case "symbol":
      return value.toString();
    case "function":
      return "[function]";
    case "object":
      if (value === null) return "null";
      return Array.isArray(value) ? "[array]" : "[object]";
    default:
      return `${value}`;
  }
}

function typeName(value: unknown): string {
  if (value === null || value === undefined) return `${value}`;
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
