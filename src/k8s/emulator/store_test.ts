import assert from "node:assert/strict";
import { findResource, type KubeObject } from "../resources.ts";
import { ApiError, EmulatorStore, type StoreEvent } from "./store.ts";

const PODS = findResource("pods")!;
const SVCS = findResource("services")!;
const EPS = findResource("endpoints")!;
const SLICES = findResource("endpointslices", "discovery.k8s.io")!;

function code(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err.code;
    throw err;
  }
  return 0;
}

Deno.test("EmulatorStore.create() sets uid, timestamp, version, generateName; 409 on duplicates", () => {
  const s = new EmulatorStore();
  const p = s.create(PODS, "default", { metadata: { generateName: "web-" }, spec: {} });
  assert.match(p.metadata.name!, /^web-[a-z0-9]{5}$/);
  assert.match(p.metadata.uid!, /^[0-9a-f-]{36}$/);
  assert.match(p.metadata.creationTimestamp!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(p.metadata.resourceVersion, s.resourceVersion);
  assert.deepEqual(p["status"], { phase: "Pending" });
  assert.equal(code(() => s.create(PODS, "default", { metadata: { name: p.metadata.name } })), 409);
  assert.equal(code(() => s.create(PODS, "nope", { metadata: { name: "x" } })), 404);
  assert.equal(code(() => s.create(PODS, "default", { metadata: { name: "Bad_Name" } })), 422);
});

Deno.test("EmulatorStore.update() rejects a stale resourceVersion with 409 and keeps status", () => {
  const s = new EmulatorStore();
  const p = s.create(PODS, "default", { metadata: { name: "a" }, spec: { x: 1 } });
  s.patch(
    PODS,
    "default",
    "a",
    "application/merge-patch+json",
    { status: { podIP: "10.0.0.1" } },
    "status",
  );
  assert.equal(code(() => s.update(PODS, "default", "a", { ...p, spec: { x: 2 } })), 409);
  const cur = s.get(PODS, "default", "a");
  const next = s.update(PODS, "default", "a", {
    ...cur,
    spec: { x: 2 },
    status: { phase: "Lost" },
  });
  assert.deepEqual(next["spec"], { x: 2 });
  assert.deepEqual(
    next["status"],
    { phase: "Pending", podIP: "10.0.0.1" },
    "main resource writes keep status",
  );
  assert.equal(next.metadata.uid, p.metadata.uid);
});

Deno.test("EmulatorStore.patch() answers 415 for unknown patch types", () => {
  const s = new EmulatorStore();
  s.create(PODS, "default", { metadata: { name: "a" } });
  assert.equal(code(() => s.patch(PODS, "default", "a", "application/apply-patch+yaml", {})), 415);
  assert.equal(code(() => s.patch(PODS, "default", "zz", "application/merge-patch+json", {})), 404);
});

Deno.test("EmulatorStore.watch() replays history, filters, and answers 410 for compacted versions", () => {
  const s = new EmulatorStore({ historySize: 3 });
  const rv0 = s.resourceVersion;
  s.create(PODS, "default", { metadata: { name: "a" }, spec: { nodeName: "n1" } });
  const rv1 = s.resourceVersion;
  s.create(PODS, "default", { metadata: { name: "b" }, spec: { nodeName: "n2" } });
  s.delete(PODS, "default", "a");
  const seen: StoreEvent[] = [];
  const stop = s.watch({ resource: PODS, match: () => true, send: (e) => seen.push(e) }, rv1);
  assert.deepEqual(seen.map((e) => `${e.type} ${e.object.metadata.name}`), [
    "ADDED b",
    "DELETED a",
  ]);
  s.create(PODS, "default", { metadata: { name: "c" } });
  stop();
  s.create(PODS, "default", { metadata: { name: "d" } });
  assert.deepEqual(seen.map((e) => e.object.metadata.name), ["b", "a", "c"]);
  assert.equal(
    code(() => s.watch({ resource: PODS, match: () => true, send: () => {} }, rv0)),
    410,
  );
  const all: StoreEvent[] = [];
  s.watch({ resource: PODS, match: (o) => o.metadata.name !== "c", send: (e) => all.push(e) });
  assert.deepEqual(all.map((e) => `${e.type} ${e.object.metadata.name}`), ["ADDED b", "ADDED d"]);
});

Deno.test("EmulatorStore keeps Endpoints and EndpointSlices in step with pods and services", () => {
  const s = new EmulatorStore();
  s.create(SVCS, "default", {
    metadata: { name: "web" },
    spec: { selector: { app: "web" }, ports: [{ port: 80 }] },
  });
  assert.match(
    (s.get(SVCS, "default", "web")["spec"] as { clusterIP: string }).clusterIP,
    /^10\.96\.0\.\d+$/,
  );
  assert.equal(s.get(EPS, "default", "web")["subsets"], undefined);
  s.create(PODS, "default", {
    metadata: { name: "p", labels: { app: "web" } },
    spec: { nodeName: "n1" },
  });
  s.patch(PODS, "default", "p", "application/merge-patch+json", {
    status: { phase: "Running", podIP: "10.0.0.7" },
  }, "status");
  const ips = () => {
    const ep = s.get(EPS, "default", "web") as KubeObject & {
      subsets?: { addresses?: { ip: string }[] }[];
    };
    return (ep.subsets ?? []).flatMap((x) => (x.addresses ?? []).map((a) => a.ip));
  };
  assert.deepEqual(ips(), ["10.0.0.7"]);
  const slice = s.get(SLICES, "default", "web-ipv4") as KubeObject & {
    endpoints: { addresses: string[] }[];
  };
  assert.deepEqual(slice.endpoints.map((e) => e.addresses[0]), ["10.0.0.7"]);
  const rv = s.resourceVersion;
  s.patch(PODS, "default", "p", "application/merge-patch+json", {
    metadata: { annotations: { a: "b" } },
  });
  assert.equal(
    Number(s.resourceVersion),
    Number(rv) + 1,
    "an unrelated pod change does not rewrite endpoints",
  );
  s.delete(PODS, "default", "p");
  assert.deepEqual(ips(), []);
  s.delete(SVCS, "default", "web");
  assert.equal(code(() => s.get(EPS, "default", "web")), 404);
  assert.equal(code(() => s.get(SLICES, "default", "web-ipv4")), 404);
});

Deno.test("EmulatorStore restarts from a snapshot with an empty history (410 for older versions)", () => {
  const a = new EmulatorStore();
  a.create(PODS, "default", { metadata: { name: "x" } });
  const rvBefore = a.resourceVersion;
  const b = new EmulatorStore({ initial: JSON.parse(JSON.stringify(a.snapshot())) });
  assert.equal(b.resourceVersion, rvBefore);
  assert.equal(b.get(PODS, "default", "x").metadata.uid, a.get(PODS, "default", "x").metadata.uid);
  assert.equal(
    code(() => b.watch({ resource: PODS, match: () => true, send: () => {} }, "1")),
    410,
  );
  b.watch({ resource: PODS, match: () => true, send: () => {} }, rvBefore);
});

Deno.test("EmulatorStore.watch() turns modifications across a selector into ADDED and DELETED", () => {
  const s = new EmulatorStore();
  const rv = s.resourceVersion;
  const seen: string[] = [];
  const sel = (o: KubeObject) => o.metadata.labels?.["app"] === "web";
  s.watch({
    resource: PODS,
    match: sel,
    send: (e) => seen.push(`${e.type} ${e.object.metadata.name}`),
  }, rv);
  s.create(PODS, "default", { metadata: { name: "a" } });
  s.patch(PODS, "default", "a", "application/merge-patch+json", {
    metadata: { labels: { app: "web" } },
  });
  s.patch(PODS, "default", "a", "application/merge-patch+json", {
    metadata: { labels: { v: "2" } },
  });
  s.patch(PODS, "default", "a", "application/merge-patch+json", {
    metadata: { labels: { app: null } },
  });
  const replay: string[] = [];
  s.watch({
    resource: PODS,
    match: sel,
    send: (e) => replay.push(`${e.type} ${e.object.metadata.name}`),
  }, rv);
  assert.deepEqual(seen, ["ADDED a", "MODIFIED a", "DELETED a"]);
  assert.deepEqual(replay, seen, "a replay from history scopes events the same way");
});
