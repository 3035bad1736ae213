import assert from "node:assert/strict";
import { Informer, type ListWatcher } from "../k8s/informer.ts";
import type { KubeObject, ResourceDef } from "../k8s/resources.ts";
import { silentLogger } from "../log/mod.ts";
import type { Operation, OperationResult, RowChange } from "../ovsdb/mod.ts";
import { NO_EVENTS } from "./events.ts";
import { MetricsRegistry } from "./metrics.ts";
import { NbWriter } from "./nb_writer.ts";
import { ServiceController } from "./service_controller.ts";
import type { NbClient, WatcherContext } from "./watcher.ts";

/** A list/watch that lists fixed objects and then watches nothing until stopped. */
function staticLw(items: KubeObject[]): ListWatcher<KubeObject> {
  return {
    list: () => Promise.resolve({ items, resourceVersion: "1" }),
    async *watch(_rv, signal) {
      await new Promise<void>((r) => signal.addEventListener("abort", () => r(), { once: true }));
      yield* [];
    },
  };
}

/** A fake NB cache: tables from fixed rows, change listeners fired by hand. */
function fakeNb() {
  const listeners = new Set<(c: RowChange<unknown>) => void>();
  const cache = {
    table: () => ({ all: () => [] }),
    on: (_e: string, l: (c: RowChange<unknown>) => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  return {
    nb: { cache } as unknown as NbClient,
    emit: (c: RowChange<unknown>) => listeners.forEach((l) => l(c)),
  };
}

interface Fixture extends AsyncDisposable {
  ctl: ServiceController;
  sent: Operation[][];
  emit: (c: RowChange<unknown>) => void;
}

async function fixture(objects: Record<string, KubeObject[]>): Promise<Fixture> {
  const ac = new AbortController();
  const sent: Operation[][] = [];
  const { nb, emit } = fakeNb();
  const metrics = new MetricsRegistry();
  const writer = new NbWriter({
    transact: (ops) => {
      sent.push([...ops]);
      return Promise.resolve(
        ops.map((o, i): OperationResult =>
          o.op === "insert" ? { uuid: `00000000-0000-0000-0000-00000000000${i}` } : { count: 1 }
        ),
      );
    },
  }, metrics);
  const informers = new Map<string, Informer<KubeObject>>();
  const ctx: WatcherContext = {
    nb,
    writer,
    http: undefined as unknown as WatcherContext["http"],
    events: NO_EVENTS,
    metrics,
    log: silentLogger,
    informer(r: ResourceDef) {
      let inf = informers.get(r.plural);
      if (!inf) {
        inf = new Informer(staticLw(objects[r.plural] ?? []), { name: r.plural });
        informers.set(r.plural, inf);
      }
      return inf;
    },
  };
  const ctl = new ServiceController(ctx, { seenTimeoutMs: 20 });
  const runs = [...informers.values()].map((i) => i.run(ac.signal));
  await Promise.all([...informers.values()].map((i) => i.synced));
  return {
    ctl,
    sent,
    emit,
    async [Symbol.asyncDispose]() {
      ac.abort();
      await Promise.all(runs);
    },
  };
}

const svc = (name: string): KubeObject => ({
  metadata: { name, namespace: "default", resourceVersion: "1" },
  spec: { clusterIP: "10.96.0.10", ports: [{ port: 80 }] },
});
const slice = (name: string, svcName: string): KubeObject => ({
  metadata: {
    name,
    namespace: "default",
    resourceVersion: "1",
    labels: { "kubernetes.io/service-name": svcName },
  },
});
const endpoints = (name: string): KubeObject => ({
  metadata: { name, namespace: "default", resourceVersion: "1" },
});

async function taken(ctl: ServiceController): Promise<string[]> {
  const keys = ctl.queue.depth ? await ctl.queue.take(100) : [];
  for (const k of keys) ctl.queue.done(k);
  return keys.sort();
}

Deno.test("ServiceController queues service keys from Services, EndpointSlices and Endpoints", async () => {
  await using f = await fixture({
    services: [svc("web"), svc("db")],
    endpointslices: [slice("web-1", "web")],
    endpoints: [endpoints("web"), endpoints("db"), endpoints("orphan")],
  });
  assert.deepEqual(await taken(f.ctl), [
    "service:default/db",
    "service:default/orphan",
    "service:default/web",
  ]);
});

Deno.test("ServiceController.reconcile() fails a service while the group is missing and queues the group", async () => {
  await using f = await fixture({ services: [svc("web")] });
  await taken(f.ctl);
  const failed = await f.ctl.reconcile(["service:default/web"], new AbortController().signal);
  assert.match(String(failed.get("service:default/web")), /group ovn-k8s-services is missing/);
  assert.deepEqual(await taken(f.ctl), ["group"]);
  assert.deepEqual(f.sent, [], "nothing was written");
});

Deno.test("ServiceController.reconcile() of the group key inserts the group and attaches it", async () => {
  await using f = await fixture({});
  f.emit({
    table: "Logical_Switch",
    uuid: "s1",
    kind: "insert",
    old: undefined,
    new: {
      _uuid: "s1",
      name: "node1",
      other_config: { subnet: "10.244.1.0/24" },
      load_balancer_group: [],
    },
  });
  assert.deepEqual(await taken(f.ctl), ["group"], "a node switch without the group queues it");
  await f.ctl.reconcile(["group"], new AbortController().signal);
  assert.equal(f.sent.length, 1);
  assert.deepEqual(f.sent[0]!.map((o) => `${o.op} ${(o as { table?: string }).table}`), [
    "insert Load_Balancer_Group",
    "mutate Logical_Switch",
  ]);
});

Deno.test("ServiceController queues a gateway router when one appears, not other routers", async () => {
  await using f = await fixture({});
  const router = (name: string, chassis?: string) => ({
    _uuid: `r-${name}`,
    name,
    options: chassis ? { chassis } : {},
    external_ids: {},
    load_balancer: [],
    load_balancer_group: [],
  });
  f.emit({
    table: "Logical_Router",
    uuid: "r-a",
    kind: "insert",
    old: undefined,
    new: router("ovn_cluster_router"),
  });
  f.emit({
    table: "Logical_Router",
    uuid: "r-b",
    kind: "insert",
    old: undefined,
    new: router("GR_node1", "ch1"),
  });
  assert.deepEqual(await taken(f.ctl), ["router:GR_node1"]);
});
