/**
 * Reading PFX (PKCS#12) files, what Windows' `Export-PfxCertificate` and
 * `openssl pkcs12 -export` write, into the PEM certificate chain and private
 * key the rest of the library works with.
 *
 * Deno's `node:tls` already decrypts PKCS#12 (both the OpenSSL 3 default,
 * PBES2 with AES-256-CBC, and the legacy 3DES and RC2 encryptions): its
 * `createSecureContext({ pfx, passphrase })` converts the file to PEM. Reading
 * the PEM back from that context keeps the certificate usable on every TLS
 * stack the library uses (`Deno.connectTls`, `Deno.listenTls`, `node:tls`).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { createSecureContext } from "node:tls";

/** What a PFX file holds, in PEM. */
export interface PfxContents {
  /** The leaf certificate, then the other certificates of the file. */
  chain: string;
  /** The private key in PKCS#8 PEM, when the file holds one. */
  key: string | undefined;
}

/** The PEM fields Deno's `node:tls` context keeps after reading a PFX. */
interface PemContext {
  cert?: unknown;
  key?: unknown;
  ca?: unknown;
}

/**
 * Decrypts a PFX file.
 *
 * @throws {TypeError} Naming the cause: a wrong or missing password, bytes
 * that are not PKCS#12, or a file without a certificate.
 */
export function readPfx(bytes: Uint8Array, password: string): PfxContents {
  let context: PemContext;
  try {
    const pfx = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    context = createSecureContext({ pfx, passphrase: password })
      .context as PemContext;
  } catch (error) {
    throw pfxError(error, password);
  }
  if (typeof context.cert !== "string") {
    throw new TypeError(
      "Cannot read the PFX file: it holds no certificate",
    );
  }
  const others = Array.isArray(context.ca)
    ? context.ca.filter((pem): pem is string => typeof pem === "string")
    : [];
  return {
    chain: [context.cert, ...others].map((pem) => pem.trim()).join("\n"),
    key: typeof context.key === "string" ? context.key : undefined,
  };
}

/** A wrong password fails the file's integrity check (its MAC) before anything is decrypted. */
const WRONG_PASSWORD = /mac verify|mac check|invalid password|bad decrypt/i;

function pfxError(error: unknown, password: string): TypeError {
  const message = error instanceof Error ? error.message : String(error);
  if (WRONG_PASSWORD.test(message)) {
    return new TypeError(
      password === ""
        ? `Cannot read the PFX file: it is protected by a password, and none was given (${message})`
        : `Cannot read the PFX file: the password is wrong (${message})`,
      { cause: error },
    );
  }
  return new TypeError(
    `Cannot read the PFX file: it is not a valid PKCS#12 file or is damaged (${message})`,
    { cause: error },
  );
}
