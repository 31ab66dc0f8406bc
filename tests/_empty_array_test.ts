import assert from "node:assert/strict";
import { emptyArray } from "../lib/_empty_array.ts";

Deno.test("emptyArray() empties the array in place, which takes pushes again", () => {
  const array = [1, 2, 3];
  const alias = array;
  emptyArray(array);
  assert.equal(alias.length, 0);
  array.push(4);
  assert.deepEqual(alias, [4]);
  emptyArray(array);
  emptyArray(array);
  assert.deepEqual(array, []);
});
