import assert from "node:assert/strict";
import { Deadlines } from "./_deadlines.ts";

Deno.test("Deadlines fires expired entries once and never removed ones", async () => {
  const d = new Deadlines(5);
  const fired: string[] = [];
  d.add(0, () => fired.push("now"));
  d.add(20, () => fired.push("later"));
  const gone = d.add(10, () => fired.push("removed"));
  d.remove(gone);
  const end = Date.now() + 5000;
  while (d.size > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  assert.deepEqual(fired, ["now", "later"]);
  assert.equal(d.size, 0);
});
