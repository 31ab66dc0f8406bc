/**
 * X.509 certificates for TLS stream sockets (UWP's
 * `Windows.Security.Cryptography.Certificates.Certificate`, reduced to what a
 * socket needs).
 *
 * @module
 */

import { createPrivateKey, X509Certificate } from "node:crypto";
import { privateKeys } from "./_tls_private_keys.ts";
import { readPfx } from "./_pfx.ts";
import { describe } from "./_format.ts";

const PEM_CERTIFICATE =
  /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * An X.509 certificate (the first of a PEM chain), optionally with its private
 * key: a client certificate for {@linkcode StreamSocketControl.clientCertificate},
 * a server certificate for a TLS {@linkcode StreamSocketListener}, or what the
 * peer presented (`socket.information.serverCertificate`,
 * `socket.information.clientCertificate`).
 *
 * Built on `node:crypto`'s `X509Certificate`, which ships with Deno. The
 * private key is never part of `pem`, `toString()` or `toJSON()`.
 *
 * @example Read a certificate
 * ```ts
 * import assert from "node:assert/strict";
 * import { Certificate } from "@seed/sockets";
 *
 * const pem = await Deno.readTextFile(new URL("../tests/testdata/server.pem", import.meta.url));
 * const certificate = Certificate.fromPem(pem);
 * assert.equal(certificate.commonName, "localhost");
 * assert.ok(certificate.subjectAltNames.includes("IP Address:127.0.0.1"));
 * assert.equal(certificate.hasPrivateKey, false);
 * ```
 */
export class Certificate {
  #x509: X509Certificate;
  #chain: string;

  private constructor(x509: X509Certificate, chain: string) {
    this.#x509 = x509;
    this.#chain = chain;
  }

  /**
   * Reads a certificate chain in PEM (leaf first, then intermediates) and,
   * for a certificate you present, its private key in PEM (PKCS#8, PKCS#1 or
   * SEC1).
   *
   * @param certificatePem One or more `-----BEGIN CERTIFICATE-----` blocks.
   * @param privateKeyPem The private key of the first certificate.
   * @returns The certificate.
   * @throws {TypeError} If the PEM holds no certificate, cannot be parsed, or
   * the key cannot be parsed or does not belong to the certificate.
   *
   * @example With its private key
   * ```ts
   * import assert from "node:assert/strict";
   * import { Certificate } from "@seed/sockets";
   *
   * const dir = new URL("../tests/testdata/", import.meta.url);
   * const certificate = Certificate.fromPem(
   *   await Deno.readTextFile(new URL("client.pem", dir)),
   *   await Deno.readTextFile(new URL("client.key", dir)),
   * );
   * assert.ok(certificate.hasPrivateKey);
   * ```
   */
  static fromPem(certificatePem: string, privateKeyPem?: string): Certificate {
    if (typeof certificatePem !== "string") {
      throw new TypeError(
        `Cannot read the certificate: "certificatePem" must be a PEM string, got ${
          describe(certificatePem)
        }`,
      );
    }
    const blocks = certificatePem.match(PEM_CERTIFICATE);
    if (blocks === null) {
      throw new TypeError(
        `Cannot read the certificate: no "-----BEGIN CERTIFICATE-----" block found in "certificatePem"`,
      );
    }
    const x509 = parseX509(blocks[0]!);
    const certificate = new Certificate(x509, `${blocks.join("\n")}\n`);
    if (privateKeyPem !== undefined) {
      checkPrivateKey(x509, privateKeyPem);
      privateKeys.set(certificate, privateKeyPem);
    }
    return certificate;
  }

  /**
   * Reads a certificate chain and, optionally, its private key from PEM files.
   *
   * @param certificatePath The PEM certificate chain file.
   * @param privateKeyPath The PEM private key file.
   * @returns The certificate.
   * @throws {TypeError} As {@linkcode Certificate.fromPem}.
   * @throws {Deno.errors.NotFound} If a file does not exist.
   *
   * @example Load the test client certificate
   * ```ts
   * import { Certificate } from "@seed/sockets";
   *
   * const dir = new URL("../tests/testdata/", import.meta.url);
   * const certificate = await Certificate.fromFiles(new URL("client.pem", dir), new URL("client.key", dir));
   * ```
   */
  static async fromFiles(
    certificatePath: string | URL,
    privateKeyPath?: string | URL,
  ): Promise<Certificate> {
    const pem = await Deno.readTextFile(certificatePath);
    const key = privateKeyPath === undefined
      ? undefined
      : await Deno.readTextFile(privateKeyPath);
    return Certificate.fromPem(pem, key);
  }

  /**
   * Reads a PFX (PKCS#12) file: the certificate, its private key and the
   * certificates bundled with it, as Windows' `Export-PfxCertificate` and
   * `openssl pkcs12 -export` write them. Both encryptions in use load: the
   * modern one (PBES2, AES-256-CBC; Windows' `AES256_SHA256`, OpenSSL 3's
   * default) and the legacy one (3DES and RC2; Windows' `TripleDES_SHA1`,
   * `openssl pkcs12 -legacy`).
   *
   * The result works wherever a PEM certificate does:
   * {@linkcode StreamSocketControl.clientCertificate}, a listener's
   * `serverCertificate`, on both TLS backends.
   *
   * @param bytes The file's bytes (`await Deno.readFile(path)`).
   * @param password The password the file was exported with; `""` for none.
   * @returns The certificate, with its private key when the file holds one.
   * @throws {TypeError} If the password is wrong or missing, the bytes are
   * not a PKCS#12 file, or the file holds no certificate; the message says
   * which.
   *
   * @example A client certificate from a PFX file
   * ```ts
   * import assert from "node:assert/strict";
   * import { Certificate } from "@seed/sockets";
   *
   * const file = await Deno.readFile(new URL("../tests/testdata/client.pfx", import.meta.url));
   * const certificate = Certificate.fromPfx(file, "seed-sockets");
   * assert.equal(certificate.commonName, "test-client");
   * assert.ok(certificate.hasPrivateKey);
   * assert.throws(() => Certificate.fromPfx(file, "wrong"), /password is wrong/);
   * ```
   */
  static fromPfx(bytes: Uint8Array, password: string = ""): Certificate {
    if (!(bytes instanceof Uint8Array)) {
      throw new TypeError(
        `Cannot read the PFX file: "bytes" must be a Uint8Array, got ${
          describe(bytes)
        }`,
      );
    }
    if (typeof password !== "string") {
      throw new TypeError(
        `Cannot read the PFX file: "password" must be a string, got ${
          describe(password)
        }`,
      );
    }
    const { chain, key } = readPfx(bytes, password);
    return Certificate.fromPem(chain, key);
  }

  /**
   * Reads one certificate in DER (binary) form.
   *
   * @param der The DER bytes.
   * @returns The certificate, without a private key.
   * @throws {TypeError} If the bytes are not a certificate.
   *
   * @example Round-trip through DER
   * ```ts
   * import assert from "node:assert/strict";
   * import { Certificate } from "@seed/sockets";
   *
   * const pem = await Deno.readTextFile(new URL("../tests/testdata/ca.pem", import.meta.url));
   * const certificate = Certificate.fromPem(pem);
   * assert.equal(Certificate.fromDer(certificate.der).fingerprint, certificate.fingerprint);
   * ```
   */
  static fromDer(der: Uint8Array): Certificate {
    if (!(der instanceof Uint8Array)) {
      throw new TypeError(
        `Cannot read the certificate: "der" must be a Uint8Array, got ${
          describe(der)
        }`,
      );
    }
    const x509 = parseX509(der);
    return new Certificate(x509, x509.toString());
  }

  /** The subject's distinguished name, one `KEY=value` per part joined by `", "` (`"O=Example, CN=localhost"`). */
  get subject(): string {
    return oneLine(this.#x509.subject);
  }

  /** The issuer's distinguished name, in the same form as `subject`. */
  get issuer(): string {
    return oneLine(this.#x509.issuer);
  }

  /** The subject's common name (`CN`), or `""` when it has none. */
  get commonName(): string {
    return commonNameOf(this.#x509.subject);
  }

  /** When the certificate becomes valid. */
  get validFrom(): Date {
    return new Date(this.#x509.validFrom);
  }

  /** When the certificate stops being valid. */
  get validTo(): Date {
    return new Date(this.#x509.validTo);
  }

  /** The SHA-256 fingerprint of the DER form, upper-case hex bytes joined by `:`. */
  get fingerprint(): string {
    return this.#x509.fingerprint256;
  }

  /** The serial number, upper-case hex. */
  get serialNumber(): string {
    return this.#x509.serialNumber;
  }

  /** The subject alternative names as OpenSSL prints them (`"DNS:localhost"`, `"IP Address:127.0.0.1"`). */
  get subjectAltNames(): string[] {
    const names = this.#x509.subjectAltName;
    return names === undefined || names === "" ? [] : names.split(", ");
  }

  /** The certificate chain in PEM (the leaf first); never the private key. */
  get pem(): string {
    return this.#chain;
  }

  /** The DER form of the (leaf) certificate. */
  get der(): Uint8Array {
    return new Uint8Array(this.#x509.raw);
  }

  /** Whether a private key was given, so the certificate can be presented to a peer. */
  get hasPrivateKey(): boolean {
    return privateKeys.has(this);
  }

  /**
   * Tells whether the certificate is valid at a moment (by dates only; the
   * chain is not checked).
   *
   * @param at The moment (default now).
   * @returns `true` between `validFrom` and `validTo`.
   *
   * @example An expired certificate
   * ```ts
   * import assert from "node:assert/strict";
   * import { Certificate } from "@seed/sockets";
   *
   * const pem = await Deno.readTextFile(new URL("../tests/testdata/expired.pem", import.meta.url));
   * assert.equal(Certificate.fromPem(pem).isValidAt(), false);
   * ```
   */
  isValidAt(at: Date = new Date()): boolean {
    const time = at.getTime();
    return this.validFrom.getTime() <= time && time <= this.validTo.getTime();
  }

  /**
   * A one-line description: subject, issuer and fingerprint.
   *
   * @returns The description.
   */
  toString(): string {
    return `Certificate(${this.subject}; issuer ${this.issuer}; SHA-256 ${this.fingerprint})`;
  }

  /**
   * The public facts, for `JSON.stringify` (never the private key).
   *
   * @returns A plain object.
   */
  toJSON(): Record<string, unknown> {
    return {
      subject: this.subject,
      issuer: this.issuer,
      validFrom: this.validFrom.toISOString(),
      validTo: this.validTo.toISOString(),
      fingerprint: this.fingerprint,
      serialNumber: this.serialNumber,
      subjectAltNames: this.subjectAltNames,
    };
  }
}

function oneLine(name: string): string {
  return name.split("\n").filter((part) => part !== "").join(", ");
}

function commonNameOf(name: string): string {
  for (const part of name.split("\n")) {
    if (part.startsWith("CN=")) return part.slice(3);
  }
  return "";
}

function checkPrivateKey(x509: X509Certificate, privateKeyPem: string): void {
  if (typeof privateKeyPem !== "string") {
    throw new TypeError(
      `Cannot read the private key: "privateKeyPem" must be a PEM string, got ${
        describe(privateKeyPem)
      }`,
    );
  }
  let matches: boolean;
  try {
    matches = x509.checkPrivateKey(createPrivateKey(privateKeyPem));
  } catch (error) {
    throw new TypeError(
      `Cannot read the private key: ${
        error instanceof Error ? error.message : String(error)
      }`,
      { cause: error },
    );
  }
  if (!matches) {
    throw new TypeError(
      `Cannot use the private key: it does not belong to the certificate "${
        oneLine(x509.subject)
      }"`,
    );
  }
}

/** Parses one certificate; a `TypeError` that says why if it is not one. */
function parseX509(data: string | Uint8Array): X509Certificate {
  try {
    return new X509Certificate(data);
  } catch (error) {
    throw new TypeError(
      `Cannot read the certificate: ${
        error instanceof Error ? error.message : String(error)
      }`,
      { cause: error },
    );
  }
}
