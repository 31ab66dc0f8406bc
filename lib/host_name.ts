/**
 * Host names as UWP's `Windows.Networking.HostName`: a DNS name, an IPv4
 * address or an IPv6 address, validated when it is created and compared in
 * canonical form.
 *
 * @module
 */

import { domainToASCII, domainToUnicode } from "node:url";
import { describe } from "./_format.ts";

/**
 * The kind of a {@linkcode HostName}, with the UWP numeric values.
 *
 * - `DomainName` (0): a DNS name such as `"example.com"` or `"localhost"`.
 * - `Ipv4` (1): an IPv4 address such as `"192.0.2.1"`.
 * - `Ipv6` (2): an IPv6 address such as `"2001:db8::1"`.
 * - `Bluetooth` (3): kept for UWP parity only; Deno has no Bluetooth
 *   sockets, so no `HostName` ever has this type.
 *
 * @example Check the type of a host name
 * ```ts
 * import assert from "node:assert/strict";
 * import { HostName, HostNameType } from "@seed/sockets";
 *
 * assert.equal(new HostName("::1").type, HostNameType.Ipv6);
 * assert.equal(HostNameType.Ipv4, 1);
 * ```
 */
export const HostNameType = {
  /** A DNS name such as `"example.com"`. */
  DomainName: 0,
  /** An IPv4 address such as `"192.0.2.1"`. */
  Ipv4: 1,
  /** An IPv6 address such as `"2001:db8::1"`. */
  Ipv6: 2,
  /** A Bluetooth address; never produced, as Deno has no Bluetooth sockets. */
  Bluetooth: 3,
} as const;

/** One of the {@linkcode HostNameType} values. */
export type HostNameType = typeof HostNameType[keyof typeof HostNameType];

/**
 * A validated host name: a DNS name, an IPv4 address or an IPv6 address
 * (UWP's `Windows.Networking.HostName`).
 *
 * The constructor rejects anything that is not one of these, so a
 * `HostName` can be handed to a resolver or a socket without further checks.
 * What it accepts:
 *
 * - IPv4 addresses as exactly four decimal parts from 0 to 255. Parts with a
 *   leading zero (`"01.2.3.4"`) are rejected, because some parsers read them
 *   as octal; so are the short and hexadecimal forms (`"127.1"`,
 *   `"0x7f.0.0.1"`).
 * - IPv6 addresses, with or without surrounding brackets, with `::`
 *   compression, an IPv4 tail (`"::ffff:192.0.2.1"`) and a zone ID
 *   (`"fe80::1%eth0"`, zone ID made of letters, digits, `.`, `_`, `~` and
 *   `-`).
 * - DNS names as resolvers take them: labels of letters, digits, hyphens
 *   and underscores (`"my_db"`, a docker-compose service name, or
 *   `"_http._tcp.example.com"`), not starting or ending with a hyphen, of 1
 *   to 63 characters, at most 253 characters in all, plus one optional
 *   trailing dot. A name whose last label is a number (`"1.2.3"`,
 *   `"example.0x1"`) is rejected, unless the whole name is a valid IPv4
 *   address: resolvers would read it as an address, and no top-level domain
 *   is numeric.
 * - Internationalized names (`"bücher.example"`), converted by the runtime's
 *   IDNA (UTS #46, as the URL parser does): the canonical name is the
 *   punycode form (`"xn--bcher-kva.example"`), and the limits above apply to
 *   it. A name that IDNA would change other than by letter case (an
 *   invisible character such as U+200B, a full-width letter, a decomposed
 *   accent) is rejected rather than silently turned into another name; the
 *   message names the character.
 *
 * Nothing is trimmed: whitespace anywhere is an error.
 *
 * @example Parse and normalise host names
 * ```ts
 * import assert from "node:assert/strict";
 * import { HostName, HostNameType } from "@seed/sockets";
 *
 * const name = new HostName("Example.COM.");
 * assert.equal(name.type, HostNameType.DomainName);
 * assert.equal(name.canonicalName, "example.com");
 *
 * const address = new HostName("[2001:DB8:0:0:0:0:0:1]");
 * assert.equal(address.type, HostNameType.Ipv6);
 * assert.equal(address.canonicalName, "2001:db8::1");
 *
 * const unicode = new HostName("bücher.example");
 * assert.equal(unicode.canonicalName, "xn--bcher-kva.example");
 * assert.equal(unicode.displayName, "bücher.example");
 *
 * assert.throws(() => new HostName("a..b"), TypeError);
 * ```
 */
export class HostName {
  #type: HostNameType;
  #rawName: string;
  #canonicalName: string;
  #displayName: string;

  /**
   * Parses and validates a host name.
   *
   * @param hostName A DNS name, an IPv4 address or an IPv6 address (with or
   * without brackets), exactly as it should be used: nothing is trimmed.
   * @throws {TypeError} If `hostName` is not a string, or is not a valid
   * DNS name, IPv4 address or IPv6 address; the message quotes the input
   * and says what is wrong.
   *
   * @example Reject invalid input
   * ```ts
   * import assert from "node:assert/strict";
   * import { HostName } from "@seed/sockets";
   *
   * assert.equal(new HostName("localhost").rawName, "localhost");
   * assert.throws(() => new HostName(" localhost"), TypeError);
   * assert.throws(() => new HostName("01.2.3.4"), /leading zero/);
   * ```
   */
  constructor(hostName: string) {
    const parsed = parseOrThrow(hostName, "hostName");
    this.#type = parsed.type;
    this.#rawName = hostName;
    this.#canonicalName = parsed.canonical;
    this.#displayName = parsed.display;
  }

  /**
   * The kind of host name: `DomainName`, `Ipv4` or `Ipv6` (never
   * `Bluetooth`).
   *
   * @returns One of the {@linkcode HostNameType} values.
   *
   * @example Tell addresses from names
   * ```ts
   * import assert from "node:assert/strict";
   * import { HostName, HostNameType } from "@seed/sockets";
   *
   * assert.equal(new HostName("192.0.2.1").type, HostNameType.Ipv4);
   * assert.equal(new HostName("localhost").type, HostNameType.DomainName);
   * ```
   */
  get type(): HostNameType {
    return this.#type;
  }

  /**
   * The host name exactly as given to the constructor.
   *
   * @returns The original string, brackets and letter case included.
   *
   * @example Keep the original spelling
   * ```ts
   * import assert from "node:assert/strict";
   * import { HostName } from "@seed/sockets";
   *
   * assert.equal(new HostName("[::1]").rawName, "[::1]");
   * ```
   */
  get rawName(): string {
    return this.#rawName;
  }

  /**
   * The normalised form used for comparisons.
   *
   * - DNS names: lower case, without the trailing dot; internationalized
   *   names in punycode (`"xn--bcher-kva.example"`).
   * - IPv4 addresses: as given (the accepted form is already canonical).
   * - IPv6 addresses: the RFC 5952 form, without brackets: lower-case hex,
   *   no leading zeros, the longest run of two or more zero groups written
   *   `::` (the first one on a tie), and an IPv4-mapped address written with
   *   a dotted tail (`"::ffff:192.0.2.1"`), as Deno reports peer addresses.
   *   A zone ID is kept as given.
   *
   * @returns The canonical host name.
   *
   * @example Normalise names and addresses
   * ```ts
   * import assert from "node:assert/strict";
   * import { HostName } from "@seed/sockets";
   *
   * assert.equal(new HostName("WWW.Example.com.").canonicalName, "www.example.com");
   * assert.equal(new HostName("Bücher.example").canonicalName, "xn--bcher-kva.example");
   * assert.equal(new HostName("2001:0db8:0:0:1:0:0:1").canonicalName, "2001:db8::1:0:0:1");
   * assert.equal(new HostName("fe80::0001%eth0").canonicalName, "fe80::1%eth0");
   * ```
   */
  get canonicalName(): string {
    return this.#canonicalName;
  }

  /**
   * The form to show to people: the name as given for DNS names (Unicode
   * stays Unicode) and IPv4 addresses, the canonical form (without brackets)
   * for IPv6 addresses.
   *
   * @returns The display name.
   *
   * @example Display names and addresses
   * ```ts
   * import assert from "node:assert/strict";
   * import { HostName } from "@seed/sockets";
   *
   * assert.equal(new HostName("Example.com").displayName, "Example.com");
   * assert.equal(new HostName("bücher.example").displayName, "bücher.example");
   * assert.equal(new HostName("[0:0::1]").displayName, "::1");
   * ```
   */
  get displayName(): string {
    return this.#displayName;
  }

  /**
   * Tells whether two host names are the same, comparing their types and
   * canonical names.
   *
   * No resolution happens: `"localhost"` and `"127.0.0.1"` differ, and so do
   * `"192.0.2.1"` and `"::ffff:192.0.2.1"`.
   *
   * @param other The host name to compare with.
   * @returns `true` if both have the same type and canonical name.
   * @throws {TypeError} If `other` is not a `HostName`.
   *
   * @example Compare host names
   * ```ts
   * import assert from "node:assert/strict";
   * import { HostName } from "@seed/sockets";
   *
   * const a = new HostName("Example.com.");
   * assert.ok(a.isEqual(new HostName("example.com")));
   * assert.ok(!a.isEqual(new HostName("example.org")));
   * ```
   */
  isEqual(other: HostName): boolean {
    if (!(other instanceof HostName)) {
      throw new TypeError(
        `Cannot compare host names: "other" must be a HostName, got ${
          describe(other)
        }`,
      );
    }
    return this.#type === other.#type &&
      this.#canonicalName === other.#canonicalName;
  }

  /**
   * Compares two host name strings by canonical form, for equality tests
   * and sorting.
   *
   * The order is the ordinal (UTF-16 code unit) order of the canonical
   * names; 0 means the two are equal in the sense of
   * {@linkcode HostName.prototype.isEqual}.
   *
   * @param value1 The first host name.
   * @param value2 The second host name.
   * @returns -1 if `value1` sorts first, 0 if both are the same host name, 1
   * if `value2` sorts first.
   * @throws {TypeError} If either value is not a valid host name, as the
   * constructor does.
   *
   * @example Compare and sort host names
   * ```ts
   * import assert from "node:assert/strict";
   * import { HostName } from "@seed/sockets";
   *
   * assert.equal(HostName.compare("EXAMPLE.com", "example.com."), 0);
   * assert.equal(HostName.compare("::1", "0:0:0:0:0:0:0:1"), 0);
   * assert.deepEqual(["b.example", "A.example"].sort(HostName.compare), [
   *   "A.example",
   *   "b.example",
   * ]);
   * ```
   */
  static compare(value1: string, value2: string): number {
    const canonical1 = parseOrThrow(value1, "value1").canonical;
    const canonical2 = parseOrThrow(value2, "value2").canonical;
    if (canonical1 === canonical2) return 0;
    return canonical1 < canonical2 ? -1 : 1;
  }

  /**
   * Returns the canonical name, so a `HostName` can be used where a string
   * is expected.
   *
   * @returns The same string as {@linkcode HostName.prototype.canonicalName}.
   *
   * @example Use a host name in a template string
   * ```ts
   * import assert from "node:assert/strict";
   * import { HostName } from "@seed/sockets";
   *
   * assert.equal(`${new HostName("[::FFFF:c000:0201]")}`, "::ffff:192.0.2.1");
   * ```
   */
  toString(): string {
    return this.#canonicalName;
  }

  /**
   * What `Deno.inspect()` and `console.log()` show: the canonical name, and
   * the display name when it differs, as for an object with those fields.
   *
   * @param inspect The inspector Deno passes (`Deno.inspect`).
   * @param options The inspect options Deno passes.
   * @returns For example `HostName { canonicalName: "xn--bcher-kva.example",
   * displayName: "bücher.example" }`.
   *
   * @example Log a host name
   * ```ts
   * import assert from "node:assert/strict";
   * import { HostName } from "@seed/sockets";
   *
   * assert.equal(
   *   Deno.inspect(new HostName("::1")),
   *   'HostName { canonicalName: "::1" }',
   * );
   * assert.equal(
   *   Deno.inspect(new HostName("Example.com")),
   *   'HostName { canonicalName: "example.com", displayName: "Example.com" }',
   * );
   * ```
   */
  [Symbol.for("Deno.customInspect")](
    inspect: (value: unknown, options?: unknown) => string,
    options?: unknown,
  ): string {
    const fields = this.#displayName === this.#canonicalName
      ? { canonicalName: this.#canonicalName }
      : { canonicalName: this.#canonicalName, displayName: this.#displayName };
    return `HostName ${inspect(fields, options)}`;
  }
}

interface Parsed {
  type: HostNameType;
  canonical: string;
  display: string;
}

/** Why a string is not a host name, and what was expected instead. */
interface Failure {
  problem: string;
  expected: string;
}

const EXPECTED_ANY = "expected a DNS name, an IPv4 address or an IPv6 address";
const EXPECTED_IPV4 = 'expected an IPv4 address such as "192.0.2.1"';
const EXPECTED_IPV6 = 'expected an IPv6 address such as "2001:db8::1"';

const MAX_NAME_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;
const DECIMAL = /^[0-9]+$/;
const HEX_GROUP = /^[0-9A-Fa-f]+$/;
const NUMERIC_LABEL = /^(?:[0-9]+|0[xX][0-9A-Fa-f]*)$/;
const LABEL_CHAR = /^[A-Za-z0-9_-]$/;
const ZONE_ID = /^[A-Za-z0-9._~-]+$/;
const WHITESPACE = /\s/;
const NON_ASCII = /[^\p{ASCII}]/u;
const HOST_AND_PORT = /^(.+):([0-9]+)$/;

function parseOrThrow(value: unknown, name: string): Parsed {
  if (typeof value !== "string") {
    throw new TypeError(
      `Cannot parse a host name: "${name}" must be a string, got ${
        describe(value)
      }`,
    );
  }
  const result = parse(value);
  if (!("problem" in result)) return result;
  throw new TypeError(
    `Cannot parse host name ${
      quote(value)
    }: ${result.problem}; ${result.expected}`,
  );
}

function parse(name: string): Parsed | Failure {
  if (name === "") {
    return { problem: "the name is empty", expected: EXPECTED_ANY };
  }
  const space = WHITESPACE.exec(name);
  if (space) {
    return {
      problem: `whitespace ${quote(space[0])} at position ${space.index} ` +
        `is not allowed (host names are not trimmed)`,
      expected: EXPECTED_ANY,
    };
  }
  if (name.includes("://")) {
    return {
      problem: "this is a URL, not a host name",
      expected:
        `${EXPECTED_ANY}; pass only the host, e.g. new URL(url).hostname`,
    };
  }
  if (name.startsWith("[") || name.includes(":")) {
    const result = parseIpv6Literal(name);
    return "problem" in result ? withPortHint(name, result) : result;
  }
  if (name.includes("]")) {
    return { problem: '"]" without an opening "["', expected: EXPECTED_IPV6 };
  }
  return parseDnsNameOrIpv4(name);
}

/** Explains the common mistake of passing "host:port" as a host name. */
function withPortHint(name: string, failure: Failure): Failure {
  const match = HOST_AND_PORT.exec(name);
  const host = match?.[1];
  if (host === undefined) return failure;
  const bareIpv6 = !host.startsWith("[") && host.includes(":");
  if (bareIpv6 || "problem" in parse(host)) return failure;
  return {
    problem: `a host name cannot include a port (":${match?.[2]}")`,
    expected: `expected ${quote(host)} here and the port as the service name`,
  };
}

function parseDnsNameOrIpv4(name: string): Parsed | Failure {
  const hasTrailingDot = name.endsWith(".");
  const body = hasTrailingDot ? name.slice(0, -1) : name;
  const labels = body.split(".");
  if (labels.every((label) => DECIMAL.test(label))) {
    if (hasTrailingDot) {
      return {
        problem: "an IPv4 address cannot end with a dot",
        expected: EXPECTED_IPV4,
      };
    }
    const result = parseIpv4(name, 0);
    if (typeof result === "string") {
      return {
        problem: `a name made of digits and dots must be an IPv4 address: ` +
          result,
        expected: EXPECTED_IPV4,
      };
    }
    return { type: HostNameType.Ipv4, canonical: name, display: name };
  }
  return parseDnsName(name, body, labels);
}

function parseDnsName(
  name: string,
  body: string,
  labels: string[],
): Parsed | Failure {
  const display = name;
  if (!NON_ASCII.test(body)) {
    const problem = checkDnsName(body, labels);
    if (problem !== undefined) return { problem, expected: EXPECTED_ANY };
    return {
      type: HostNameType.DomainName,
      canonical: body.toLowerCase(),
      display,
    };
  }
  // Characters, empty labels and hyphens are checked where they were
  // written; lengths and the numeric rule apply to the punycode form.
  const problem = checkLabels(labels, true) ?? toAscii(body);
  if (typeof problem === "string") return { problem, expected: EXPECTED_ANY };
  const ascii = problem.ascii;
  const limit = checkDnsName(ascii, ascii.split("."));
  if (limit !== undefined) {
    return {
      problem: `in its ASCII form ${quote(ascii)}, ${limit}`,
      expected: EXPECTED_ANY,
    };
  }
  return { type: HostNameType.DomainName, canonical: ascii, display };
}

/**
 * The punycode form of an internationalized name without its trailing dot,
 * by the runtime's IDNA (lower case); or why it has none. A name that IDNA
 * changes beyond letter case is refused, so that what is shown is what is
 * resolved.
 */
function toAscii(body: string): { ascii: string } | string {
  const ascii = domainToASCII(body);
  if (ascii === "") {
    return "IDNA (UTS #46) rejects this internationalized name (for " +
      'example a label that mixes right-to-left and left-to-right letters, or an "xn--" label that is not valid punycode)';
  }
  const written = [...body.toLowerCase()];
  const resolved = domainToUnicode(ascii);
  const mapped = [...resolved];
  let position = 0;
  for (const [i, char] of written.entries()) {
    if (char !== mapped[i]) {
      return `${characterAt(char, position)} would be changed or dropped ` +
        `by IDNA, which makes the name ${quote(resolved)}`;
    }
    position += char.length;
  }
  if (mapped.length !== written.length) {
    return `IDNA makes the name ${quote(resolved)}`;
  }
  return { ascii };
}

/** Checks a name without its trailing dot; returns the problem. */
function checkDnsName(body: string, labels: string[]): string | undefined {
  const problem = checkLabels(labels, false);
  if (problem !== undefined) return problem;
  if (body.length > MAX_NAME_LENGTH) {
    return `the name is ${body.length} characters long, over the limit of ` +
      `${MAX_NAME_LENGTH} (not counting a trailing dot)`;
  }
  const last = labels[labels.length - 1] ?? "";
  if (NUMERIC_LABEL.test(last)) {
    return `the last label ${quote(last)} is a number, so resolvers could ` +
      `read the name as an IPv4 address (no top-level domain is numeric)`;
  }
  return undefined;
}

/**
 * Checks each label; with `unicode`, non-ASCII characters pass and lengths
 * are left for the punycode form.
 */
function checkLabels(labels: string[], unicode: boolean): string | undefined {
  let position = 0;
  for (const label of labels) {
    const problem = checkLabel(label, position, unicode);
    if (problem !== undefined) return problem;
    position += label.length + 1;
  }
  return undefined;
}

function checkLabel(
  label: string,
  position: number,
  unicode: boolean,
): string | undefined {
  if (label === "") return `empty label at position ${position}`;
  let offset = position;
  for (const char of label) {
    const allowed = LABEL_CHAR.test(char) || (unicode && NON_ASCII.test(char));
    if (!allowed) return badCharacter(char, offset);
    offset += char.length;
  }
  if (!unicode && label.length > MAX_LABEL_LENGTH) {
    return `label ${quote(label)} at position ${position} is ` +
      `${label.length} characters long, over the limit of ${MAX_LABEL_LENGTH}`;
  }
  if (label.startsWith("-")) {
    return `label ${quote(label)} at position ${position} starts with a hyphen`;
  }
  if (label.endsWith("-")) {
    return `label ${quote(label)} at position ${position} ends with a hyphen`;
  }
  return undefined;
}

/** `character "x" at position N`, with the code point of a non-ASCII one. */
function characterAt(char: string, position: number): string {
  const at = `character ${quote(char)} at position ${position}`;
  if (!NON_ASCII.test(char)) return at;
  const code = (char.codePointAt(0) ?? 0).toString(16).toUpperCase()
    .padStart(4, "0");
  return `${at} (U+${code})`;
}

function badCharacter(char: string, position: number): string {
  return `${characterAt(char, position)} is not allowed in a DNS name ` +
    `(letters, digits, hyphens and underscores only)`;
}

/**
 * Parses a strict dotted quad; returns its four bytes or the problem.
 * `offset` is where `text` starts in the whole input, for positions.
 */
function parseIpv4(text: string, offset: number): number[] | string {
  const parts = text.split(".");
  if (parts.length !== 4) {
    return `an IPv4 address has exactly 4 parts, found ${parts.length}`;
  }
  const bytes: number[] = [];
  let position = offset;
  for (const part of parts) {
    const at = `part ${quote(part)} at position ${position}`;
    if (part === "") return `empty part at position ${position}`;
    if (!DECIMAL.test(part)) return `${at} is not a decimal number`;
    if (part.length > 1 && part.startsWith("0")) {
      const plain = part.replace(/^0+(?=.)/, "");
      return `${at} has a leading zero, which some parsers read as octal ` +
        `(write ${quote(plain)})`;
    }
    const value = Number(part);
    if (value > 255) return `${at} is greater than 255`;
    bytes.push(value);
    position += part.length + 1;
  }
  return bytes;
}

function parseIpv6Literal(name: string): Parsed | Failure {
  let text = name;
  let offset = 0;
  if (name.startsWith("[")) {
    if (!name.endsWith("]")) {
      return { problem: '"[" without a closing "]"', expected: EXPECTED_IPV6 };
    }
    text = name.slice(1, -1);
    offset = 1;
    if (text === "") {
      return { problem: "the brackets are empty", expected: EXPECTED_IPV6 };
    }
    if (!text.includes(":") && !/[[\]]/.test(text)) {
      return {
        problem: "brackets are only allowed around an IPv6 address",
        expected: `${EXPECTED_ANY}; write ${quote(text)} without brackets`,
      };
    }
  }
  const bracket = /[[\]]/.exec(text);
  if (bracket) {
    return {
      problem: `unexpected ${quote(bracket[0])} at position ` +
        `${bracket.index + offset}`,
      expected: EXPECTED_IPV6,
    };
  }
  const zoneStart = text.indexOf("%");
  const address = zoneStart === -1 ? text : text.slice(0, zoneStart);
  const zone = zoneStart === -1 ? undefined : text.slice(zoneStart + 1);
  if (zone !== undefined) {
    const problem = checkZone(zone);
    if (problem !== undefined) {
      return { problem, expected: EXPECTED_IPV6 };
    }
  }
  const groups = parseIpv6(address, offset);
  if (typeof groups === "string") {
    return { problem: groups, expected: EXPECTED_IPV6 };
  }
  const canonical = formatIpv6(groups) + (zone === undefined ? "" : `%${zone}`);
  return { type: HostNameType.Ipv6, canonical, display: canonical };
}

function checkZone(zone: string): string | undefined {
  if (zone === "") return 'empty zone ID after "%"';
  if (ZONE_ID.test(zone)) return undefined;
  return `zone ID ${quote(zone)} may hold only letters, digits, ".", "_", ` +
    `"~" and "-"`;
}

/**
 * Parses an IPv6 address without brackets or zone into its 8 groups;
 * returns the problem if it is not one.
 */
function parseIpv6(text: string, offset: number): number[] | string {
  const gap = text.indexOf("::");
  if (gap !== -1 && text.indexOf("::", gap + 1) !== -1) {
    return 'more than one "::" (only one run of zero groups can be compressed)';
  }
  if (gap === -1) {
    const groups = parseGroups(text, offset, true);
    if (typeof groups === "string") return groups;
    if (groups.length !== 8) {
      return `the address has ${groups.length} groups instead of 8 ` +
        `(use "::" for a run of zero groups)`;
    }
    return groups;
  }
  const head = parseGroups(text.slice(0, gap), offset, false);
  if (typeof head === "string") return head;
  const tail = parseGroups(text.slice(gap + 2), offset + gap + 2, true);
  if (typeof tail === "string") return tail;
  const count = head.length + tail.length;
  if (count > 7) {
    return `too many groups: ${count} plus "::", which stands for at least ` +
      `one more, is over 8`;
  }
  const zeros = new Array<number>(8 - count).fill(0);
  return [...head, ...zeros, ...tail];
}

/**
 * Parses colon-separated hex groups; the last may be an IPv4 address when
 * `ipv4Tail` is true, and then counts as two groups.
 */
function parseGroups(
  text: string,
  offset: number,
  ipv4Tail: boolean,
): number[] | string {
  if (text === "") return [];
  const parts = text.split(":");
  const groups: number[] = [];
  let position = offset;
  for (const [index, part] of parts.entries()) {
    const at = `group ${quote(part)} at position ${position}`;
    if (part === "") return `empty group at position ${position}`;
    if (part.includes(".")) {
      if (!ipv4Tail || index !== parts.length - 1) {
        return `embedded IPv4 address ${quote(part)} at position ` +
          `${position} must come last`;
      }
      const bytes = parseIpv4(part, position);
      if (typeof bytes === "string") {
        return `embedded IPv4 address ${quote(part)}: ${bytes}`;
      }
      const [a = 0, b = 0, c = 0, d = 0] = bytes;
      groups.push((a << 8) | b, (c << 8) | d);
      continue;
    }
    if (!HEX_GROUP.test(part)) return `${at} is not hexadecimal`;
    if (part.length > 4) return `${at} has more than 4 hex digits`;
    groups.push(parseInt(part, 16));
    position += part.length + 1;
  }
  return groups;
}

/** Formats 8 groups as RFC 5952 says. */
function formatIpv6(groups: number[]): string {
  const hex = groups.map((group) => group.toString(16));
  if (isIpv4Mapped(groups)) {
    const [a = 0, b = 0] = groups.slice(6);
    return `::ffff:${a >> 8}.${a & 0xff}.${b >> 8}.${b & 0xff}`;
  }
  const run = longestZeroRun(groups);
  if (run === undefined) return hex.join(":");
  const left = hex.slice(0, run.start).join(":");
  const right = hex.slice(run.start + run.length).join(":");
  return `${left}::${right}`;
}

function isIpv4Mapped(groups: number[]): boolean {
  return groups.slice(0, 5).every((group) => group === 0) &&
    groups[5] === 0xffff;
}

/** The first longest run of at least two zero groups, if any. */
function longestZeroRun(
  groups: number[],
): { start: number; length: number } | undefined {
  let best: { start: number; length: number } | undefined;
  let start = -1;
  for (let i = 0; i <= groups.length; i++) {
    if (i < groups.length && groups[i] === 0) {
      if (start === -1) start = i;
      continue;
    }
    if (start === -1) continue;
    const length = i - start;
    if (length >= 2 && length > (best?.length ?? 0)) best = { start, length };
    start = -1;
  }
  return best;
}

function quote(text: string): string {
  return JSON.stringify(text);
}
