/**
 * Private keys of certificates, kept out of the public surface of
 * {@linkcode Certificate} so that logging a certificate never prints its key.
 *
 * @module
 */

/** The PEM private key of each certificate that has one. */
export const privateKeys: WeakMap<object, string> = new WeakMap<
  object,
  string
>();
