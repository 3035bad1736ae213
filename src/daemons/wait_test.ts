import assert from "node:assert/strict";
import { pollUntil, sleep } from "./wait.ts";

Deno.test("pollUntil() returns the first truthy value", async () => {
  let n = 0;
  const v = await pollUntil("n to reach 3", () => Promise.resolve(++n >= 3 ? n : false), {
    timeoutMs: 5000,
    intervalMs: 1,
  });
  assert.equal(v, 3);
});

Deno.test("pollUntil() times out naming what it waited for and the last error", async () => {
  await assert.rejects(
    pollUntil("the moon", () => Promise.reject(new Error("not yet")), {
      timeoutMs: 20,
      intervalMs: 5,
    }),
    /Timed out after 20 ms waiting for the moon: not yet/,
  );
});

Deno.test("pollUntil() and sleep() stop when aborted", async () => {
  const ac = new AbortController();
  const p = pollUntil("never", () => Promise.resolve(false), {
    timeoutMs: 60_000,
    signal: ac.signal,
  });
  ac.abort(new Error("stop"));
  await assert.rejects(p, /stop/);
  await assert.rejects(sleep(10, AbortSignal.abort(new Error("gone"))), /gone/);
});
