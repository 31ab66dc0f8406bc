/**
 * Counts pending timers: Deno 2.9's test sanitizers do not report a timer
 * left running, so tests of code that must clear its timers count them.
 *
 * @module
 */

/** Timers started and neither fired nor cleared since `countTimers()`, until disposed. */
export function countTimers(): Disposable & { readonly pending: number } {
  const originalSet = globalThis.setTimeout;
  const originalClear = globalThis.clearTimeout;
  const live = new Set<number>();
  globalThis.setTimeout = ((
    callback: (...args: unknown[]) => void,
    ms?: number,
    ...args: unknown[]
  ): number => {
    const id = originalSet(() => {
      live.delete(id);
      callback(...args);
    }, ms) as unknown as number;
    live.add(id);
    return id;
  }) as unknown as typeof setTimeout;
  globalThis.clearTimeout = ((id?: number): void => {
    if (id !== undefined) live.delete(id);
    originalClear(id);
  }) as unknown as typeof clearTimeout;
  return {
    get pending(): number {
      return live.size;
    },
    [Symbol.dispose](): void {
      globalThis.setTimeout = originalSet;
      globalThis.clearTimeout = originalClear;
    },
  };
}
