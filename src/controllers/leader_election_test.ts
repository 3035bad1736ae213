import assert from "node:assert/strict";
import { silentLogger } from "../log/mod.ts";
import { K8sApiError } from "../k8s/errors.ts";
import { LeaderElector, type Lease, type LeaseApi } from "./leader_election.ts";

/** An in-memory Lease store with resourceVersion checks, like the API server. */
function memoryLeases(): LeaseApi & { lease: () => Lease | undefined } {
  let stored: Lease | undefined;
  let rv = 0;
  const conflict = () => new K8sApiError(409, "Conflict", "Cannot update lease: conflict");
  return {
    lease: () => stored,
    get: () => Promise.resolve(stored ? structuredClone(stored) : undefined),
    create(l) {
      if (stored) return Promise.reject(conflict());
      stored = {
        ...structuredClone(l),
        metadata: { ...l.metadata, resourceVersion: String(++rv) },
      };
      return Promise.resolve(structuredClone(stored));
    },
    update(l) {
      if (!stored || l.metadata.resourceVersion !== stored.metadata.resourceVersion) {
        return Promise.reject(conflict());
      }
      stored = {
        ...structuredClone(l),
        metadata: { ...l.metadata, resourceVersion: String(++rv) },
      };
      return Promise.resolve(structuredClone(stored));
    },
  };
}

function elector(api: LeaseApi, identity: string, clock: { t: number }) {
  return new LeaderElector(api, {
    identity,
    log: silentLogger,
    leaseDurationMs: 1500,
    renewDeadlineMs: 1000,
    retryPeriodMs: 500,
    now: () => clock.t,
  });
}

Deno.test("LeaderElector.tryAcquireOrRenew() gives the lease to one candidate at a time", async () => {
  const api = memoryLeases();
  const clock = { t: 0 };
  const a = elector(api, "a", clock);
  const b = elector(api, "b", clock);
  assert.equal(await a.tryAcquireOrRenew(), true);
  assert.equal(await b.tryAcquireOrRenew(), false, "a's lease is fresh");
  clock.t = 1000;
  assert.equal(await a.tryAcquireOrRenew(), true, "a renews");
  assert.equal(await b.tryAcquireOrRenew(), false, "b saw a new record at t=1000");
  clock.t = 2900;
  // The Lease records whole seconds: 1500 ms is written as 2 s.
  assert.equal(await b.tryAcquireOrRenew(), false, "only 1900 ms since b saw the change");
  clock.t = 3100;
  assert.equal(await b.tryAcquireOrRenew(), true, "a stopped renewing: expired for b");
  assert.equal(api.lease()!.spec.holderIdentity, "b");
  assert.equal(api.lease()!.spec.leaseTransitions, 1);
});

Deno.test("LeaderElector.release() empties the holder so a standby takes over at once", async () => {
  const api = memoryLeases();
  const clock = { t: 0 };
  const a = elector(api, "a", clock);
  const b = elector(api, "b", clock);
  await a.acquire(new AbortController().signal);
  assert.equal(a.isLeader, true);
  await a.release();
  assert.equal(api.lease()!.spec.holderIdentity, "");
  assert.equal(await b.tryAcquireOrRenew(), true);
});

Deno.test("LeaderElector rejects timings where the renew deadline is not below the lease", () => {
  assert.throws(
    () =>
      new LeaderElector(memoryLeases(), {
        identity: "x",
        log: silentLogger,
        leaseDurationMs: 1000,
        renewDeadlineMs: 1000,
      }),
    /retry < renew deadline < lease duration/,
  );
});
