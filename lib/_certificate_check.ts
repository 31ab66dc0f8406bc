/**
 * Validation shared by the settings that take a certificate with its key.
 *
 * @module
 */

import { Certificate } from "./certificate.ts";
import { privateKeys } from "./_tls_private_keys.ts";
import { describe } from "./_format.ts";

/**
 * Checks that `value` is a certificate that carries its private key, as a
 * client or server certificate must.
 *
 * @param name The setting, for the error message.
 * @param action What failed, for the error message.
 */
export function checkCertificateWithKey(
  value: unknown,
  name: string,
  action = `Cannot set ${name}`,
): void {
  if (!(value instanceof Certificate)) {
    throw new TypeError(
      `${action}: "${name}" must be a Certificate, got ${describe(value)}`,
    );
  }
  if (!privateKeys.has(value)) {
    throw new TypeError(
      `${action}: "${name}" must have its private key: use Certificate.fromPem(certificatePem, privateKeyPem)`,
    );
  }
}
