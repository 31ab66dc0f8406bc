/**
 * One microtask chain for every output stream gathering writes.
 *
 * A stream that got a write waits until its writes stop coming before it
 * sends them together (see `SocketOutputStream`). Waiting means looking
 * again once per microtask tick. With a chain per stream, a server whose
 * connections all answer pipelined lines at once pays a microtask per
 * connection per line, as many as the lines themselves; with this one chain
 * it pays one per tick for all of them. A tick is the same for every
 * stream: the chain's next step is queued behind every job queued before,
 * so each producer makes one step in between.
 *
 * @module
 */
import { emptyArray } from "./_empty_array.ts";

/** Looks once at a stream; true once it has stopped waiting (it sent, or failed). */
export type SettleStep = () => boolean;

let waiting: SettleStep[] = [];
let spare: SettleStep[] = [];
let scheduled = false;

/** Calls `step` on the next tick, and on every tick after until it returns true. */
export function settleLater(step: SettleStep): void {
  waiting.push(step);
  if (!scheduled) {
    scheduled = true;
    queueMicrotask(pass);
  }
}

function pass(): void {
  const steps = waiting;
  // Steps that start waiting during this pass go to the next one.
  waiting = spare;
  let failure: { error: unknown } | undefined;
  for (let i = 0; i < steps.length; i++) {
    // A step that throws (a bug) is dropped, and the others still get
    // their turn: one broken stream must not stop every other's sending.
    try {
      if (!steps[i]!()) waiting.push(steps[i]!);
    } catch (error) {
      failure ??= { error };
    }
  }
  emptyArray(steps);
  spare = steps;
  if (waiting.length > 0) queueMicrotask(pass);
  else scheduled = false;
  // Reported as queueMicrotask reports what its callback throws.
  if (failure !== undefined) throw failure.error;
}
