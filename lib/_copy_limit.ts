/**
 * The size under which an output stream takes a copy of what it is given.
 *
 * @module
 */

/**
 * `OutputStream`'s contract: a buffer smaller than this is taken (copied or
 * sent) before `writeAsync` returns, so its caller may reuse it at once, as
 * `DataWriter` reuses its buffer after every store; a buffer of this size or
 * more may be read until the write settles. Every output stream of the
 * library enforces it, and `DataWriter` relies on it: one constant, so the
 * two sides cannot drift apart.
 */
export const COPY_LIMIT = 16 * 1024;
