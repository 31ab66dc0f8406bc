/**
 * Checks what `FaultProxy.addToxic()` is given and fills in toxiproxy's
 * defaults.
 *
 * @module
 */

import type {
  Toxic,
  ToxicAttributes,
  ToxicOptions,
  ToxicStream,
  ToxicType,
} from "./toxic.ts";
import { describe } from "./_format.ts";

/** Each type's attributes and their defaults (toxiproxy's zero values, except where 0 is meaningless). */
const ATTRIBUTES: Readonly<
  Record<ToxicType, Readonly<Partial<Record<keyof ToxicAttributes, number>>>>
> = {
  latency: { latency: 0, jitter: 0 },
  bandwidth: { rate: 0 },
  slow_close: { delay: 0 },
  timeout: { timeout: 0 },
  reset_peer: { timeout: 0 },
  // toxiproxy's slicer recurses forever on an average size of 0.
  slicer: { average_size: 1, size_variation: 0, delay: 0 },
  limit_data: { bytes: 0 },
  limit_time: { duration: 0 },
};

const TYPES = Object.keys(ATTRIBUTES) as ToxicType[];

const ACTION = "Cannot add the toxic";

/**
 * Validates `options` against the toxics already named in `taken`.
 *
 * @throws {TypeError} For an unknown type, stream or attribute, a name that
 * is not a non-empty string or is taken.
 * @throws {RangeError} For an out-of-range toxicity or attribute.
 */
export function checkToxic(
  options: unknown,
  taken: ReadonlySet<string>,
): Toxic {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(
      `${ACTION}: "options" must be an object, got ${describe(options)}`,
    );
  }
  const given = options as ToxicOptions;
  const type = given.type;
  if (!TYPES.includes(type)) {
    throw new TypeError(
      `${ACTION}: "type" must be one of ${TYPES.join(", ")}, got ${
        describe(type)
      }`,
    );
  }
  const stream = checkStream(given.stream ?? "downstream");
  const name = given.name ?? `${type}_${stream}`;
  if (typeof name !== "string" || name === "") {
    throw new TypeError(
      `${ACTION}: "name" must be a non-empty string, got ${describe(name)}`,
    );
  }
  if (taken.has(name)) {
    throw new TypeError(
      `${ACTION}: "name" must be unique on the proxy, got "${name}", which is taken; remove it first or pass another name`,
    );
  }
  const toxicity = given.toxicity ?? 1;
  if (
    typeof toxicity !== "number" || !(toxicity >= 0 && toxicity <= 1)
  ) {
    throw new RangeError(
      `${ACTION}: "toxicity" must be a probability from 0 to 1, got ${
        describe(toxicity)
      }`,
    );
  }
  const attributes = checkAttributes(type, given.attributes ?? {});
  return Object.freeze({ name, type, stream, toxicity, attributes });
}

function checkStream(stream: unknown): ToxicStream {
  if (stream !== "downstream" && stream !== "upstream") {
    throw new TypeError(
      `${ACTION}: "stream" must be "downstream" or "upstream", got ${
        describe(stream)
      }`,
    );
  }
  return stream;
}

function checkAttributes(
  type: ToxicType,
  given: unknown,
): Readonly<ToxicAttributes> {
  if (typeof given !== "object" || given === null) {
    throw new TypeError(
      `${ACTION}: "attributes" must be an object, got ${describe(given)}`,
    );
  }
  const defaults = ATTRIBUTES[type];
  const known = Object.keys(defaults);
  const attributes: Record<string, number> = { ...defaults };
  for (const [key, value] of Object.entries(given)) {
    if (!known.includes(key)) {
      throw new TypeError(
        `${ACTION}: "attributes" must hold only ${type}'s attributes (${
          known.join(", ")
        }), got "${key}"`,
      );
    }
    if (value === undefined) continue;
    if (
      typeof value !== "number" || !Number.isSafeInteger(value) || value < 0
    ) {
      throw new RangeError(
        `${ACTION}: "attributes.${key}" must be a non-negative integer, got ${
          describe(value)
        }`,
      );
    }
    attributes[key] = value;
  }
  if (type === "slicer") checkSlicer(attributes);
  return Object.freeze(attributes);
}

function checkSlicer(attributes: Record<string, number>): void {
  const average = attributes.average_size!;
  const variation = attributes.size_variation!;
  if (average < 1) {
    throw new RangeError(
      `${ACTION}: "attributes.average_size" must be at least 1, got ${
        describe(average)
      }`,
    );
  }
  if (variation >= average) {
    throw new RangeError(
      `${ACTION}: "attributes.size_variation" must be less than average_size ${average}, got ${
        describe(variation)
      }`,
    );
  }
}

/** Checks the name given to `removeToxic()`. */
export function checkRemoval(
  name: unknown,
  names: ReadonlySet<string>,
): string {
  if (typeof name !== "string" || !names.has(name)) {
    const list = names.size === 0 ? "none" : [...names].join(", ");
    throw new TypeError(
      `Cannot remove the toxic: "name" must be the name of a toxic on this proxy (it has ${list}), got ${
        describe(name)
      }`,
    );
  }
  return name;
}
