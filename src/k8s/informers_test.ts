import assert from "node:assert/strict";
import { makeConnection } from "./connection_info.ts";
import { startEmulator } from "./emulator/server.ts";
import { KubeHttp } from "./http.ts";
import { createInformer } from "./informers.ts";
import { type KubeObject, RESOURCES } from "./resources.ts";

Deno.test({
  name: "createInformer() lists and watches every resource, decoded into client-node models",
  sanitizeOps: false,
  async fn() {
    await using emu = await startEmulator();
    using http = new KubeHttp(makeConnection({ server: emu.url, source: "test" }));
    const r = (plural: string) => RESOURCES.find((x) => x.plural === plural)!;
    emu.store.create(r("nodes"), undefined, { metadata: { name: "n1" } });
    emu.store.create(r("leases"), "kube-node-lease", {
      metadata: { name: "n1" },
      spec: { holderIdentity: "n1", renewTime: "2026-01-01T00:00:00.000000Z" },
    });
    emu.store.create(r("services"), "default", {
      metadata: { name: "web" },
      spec: { selector: { app: "web" }, ports: [{ port: 80 }] },
    });
    emu.store.create(r("pods"), "default", {
      metadata: { name: "p1", labels: { app: "web" } },
      spec: { nodeName: "n1", containers: [{ name: "c", image: "i" }] },
    });
    const events = RESOURCES.find((x) => x.plural === "events");
    if (events) {
      emu.store.create(events, "default", {
        metadata: { name: "p1.1" },
        involvedObject: { kind: "Pod", name: "p1", namespace: "default" },
        reason: "Test",
      });
    }
    const ac = new AbortController();
    const runs: Promise<void>[] = [];
    try {
      for (const res of RESOURCES) {
        const added: string[] = [];
        const inf = createInformer<KubeObject>(http, res, {
          handlers: { add: (o) => added.push(o.metadata.name!) },
        });
        runs.push(inf.run(ac.signal));
        await inf.synced;
        assert.ok(inf.cache.size >= 1, `${res.plural}: something cached`);
        const first = inf.cache.list()[0]!;
        assert.ok(
          (first.metadata.creationTimestamp as unknown) instanceof Date,
          `${res.plural}: decoded into ${res.model}`,
        );
        assert.equal(added.length, inf.cache.size, `${res.plural}: one add per cached object`);
        if (res.plural === "pods") {
          assert.deepEqual(inf.cache.byIndex("node", "n1").map((p) => p.metadata.name), ["p1"]);
        }
        if (res.plural === "endpointslices") {
          assert.deepEqual(inf.cache.keys(), ["default/web-ipv4"]);
        }
      }
    } finally {
      ac.abort();
      await Promise.all(runs);
    }
  },
});
