import assert from "node:assert/strict";
import { abortableSleep } from "./sleep.ts";

Deno.test("abortableSleep() resolves after the time and rejects on abort", async () => {
  const t = performance.now();
  await abortableSleep(20);
  assert.ok(performance.now() - t >= 15, "slept");
  const ac = new AbortController();
  const pending = abortableSleep(60_000, ac.signal);
  ac.abort(new Error("stop"));
  await assert.rejects(pending, /stop/);
  await assert.rejects(abortableSleep(10, AbortSignal.abort(new Error("early"))), /early/);
});
