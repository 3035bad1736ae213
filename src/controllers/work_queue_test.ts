import assert from "node:assert/strict";
import { WorkQueue } from "./work_queue.ts";

Deno.test("WorkQueue.add() de-duplicates queued keys and take() batches them", async () => {
  const q = new WorkQueue({ name: "t" });
  for (const k of ["a", "b", "a", "c", "b"]) q.add(k);
  assert.equal(q.depth, 3);
  assert.deepEqual(await q.take(2), ["a", "b"]);
  assert.deepEqual(await q.take(10), ["c"]);
  assert.equal(q.depth, 0);
  assert.equal(q.inFlight, 3);
});

Deno.test("WorkQueue.done() re-queues a key added while it was in flight", async () => {
  const q = new WorkQueue({ name: "t" });
  q.add("a");
  const [k] = await q.take(1);
  q.add("a");
  assert.equal(q.depth, 0, "not queued twice while in flight");
  q.done(k!);
  assert.equal(q.depth, 1);
  assert.deepEqual(await q.take(1), ["a"]);
});

Deno.test("WorkQueue.take() waits for a key and returns [] on abort", async () => {
  const q = new WorkQueue({ name: "t" });
  const p = q.take(5);
  setTimeout(() => q.add("x"), 5);
  assert.deepEqual(await p, ["x"]);
  const ac = new AbortController();
  const p2 = q.take(5, ac.signal);
  ac.abort();
  assert.deepEqual(await p2, []);
});

Deno.test("WorkQueue.retry() backs off exponentially and gives up after maxRetries", async () => {
  const q = new WorkQueue({ name: "t", maxRetries: 2, baseDelayMs: 5, maxDelayMs: 7 });
  assert.equal(q.backoffMs(1), 5);
  assert.equal(q.backoffMs(2), 7);
  q.add("k");
  let [k] = await q.take(1);
  assert.equal(q.retry(k!), 1);
  q.done(k!);
  assert.equal(q.depth, 0);
  assert.equal(q.delayed, 1);
  [k] = await q.take(1);
  assert.equal(k, "k");
  assert.equal(q.retry(k!), 2);
  q.done(k!);
  [k] = await q.take(1);
  assert.equal(q.retry(k!), undefined, "third failure: given up");
  q.done(k!);
  assert.equal(q.stats.givenUp, 1);
  assert.ok(q.idle);
  q.shutdown();
});

Deno.test("WorkQueue.forget() resets the failure count", async () => {
  const q = new WorkQueue({ name: "t", baseDelayMs: 1 });
  q.add("k");
  const [k] = await q.take(1);
  q.retry(k!);
  assert.equal(q.failures("k"), 1);
  q.forget("k");
  assert.equal(q.failures("k"), 0);
  q.done(k!);
  q.shutdown();
});
