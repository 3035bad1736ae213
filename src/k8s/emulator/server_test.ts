import assert from "node:assert/strict";
import { findResource } from "../resources.ts";
import { startEmulator } from "./server.ts";

const PODS = findResource("pods")!;

async function lines(res: Response): Promise<{ type: string; object: Record<string, unknown> }[]> {
  const text = await res.text();
  return text.split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

Deno.test("startEmulator() serves discovery, OpenAPI v3 with fieldValidation, and 404 elsewhere", async () => {
  await using emu = await startEmulator();
  const get = async (p: string) => (await fetch(`${emu.url}${p}`)).json();
  assert.equal((await get("/version")).major, "1");
  assert.deepEqual((await get("/api")).versions, ["v1"]);
  const groups = (await get("/apis")).groups.map((g: { name: string }) => g.name).sort();
  assert.deepEqual(groups, ["coordination.k8s.io", "discovery.k8s.io"]);
  const core = (await get("/api/v1")).resources.map((r: { name: string }) => r.name);
  for (const r of ["pods", "pods/status", "services", "endpoints", "nodes", "namespaces"]) {
    assert.ok(core.includes(r), r);
  }
  const index = await get("/openapi/v3");
  const spec = await get(index.paths["api/v1"].serverRelativeURL);
  const patch = spec.paths["/api/v1/namespaces/{namespace}/pods/{name}"].patch;
  assert.deepEqual(patch["x-kubernetes-group-version-kind"], {
    group: "",
    version: "v1",
    kind: "Pod",
  });
  assert.ok(patch.parameters.some((p: { name: string }) => p.name === "fieldValidation"));
  const nf = await fetch(`${emu.url}/api/v1/widgets`);
  assert.equal(nf.status, 404);
  assert.equal((await nf.json()).kind, "Status");
});

Deno.test("startEmulator() answers 401 without the token and 415 for unknown patch types", async () => {
  await using emu = await startEmulator({ token: "t0k" });
  const anon = await fetch(`${emu.url}/api/v1/pods`);
  assert.equal(anon.status, 401);
  await anon.body?.cancel();
  const auth = { authorization: "Bearer t0k" };
  const created = await fetch(`${emu.url}/api/v1/namespaces/default/pods`, {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ metadata: { name: "p" } }),
  });
  assert.equal(created.status, 201);
  await created.body?.cancel();
  const bad = await fetch(`${emu.url}/api/v1/namespaces/default/pods/p`, {
    method: "PATCH",
    headers: { ...auth, "content-type": "application/apply-patch+yaml" },
    body: "{}",
  });
  assert.equal(bad.status, 415);
  assert.equal((await bad.json()).reason, "UnsupportedMediaType");
});

Deno.test("startEmulator() lists with selectors and renders Tables for kubectl", async () => {
  await using emu = await startEmulator();
  emu.store.create(PODS, "default", {
    metadata: { name: "a", labels: { app: "x" } },
    spec: { nodeName: "n1" },
  });
  emu.store.create(PODS, "default", { metadata: { name: "b" }, spec: { nodeName: "n2" } });
  const names = async (q: string) =>
    ((await (await fetch(`${emu.url}/api/v1/pods?${q}`)).json()).items as {
      metadata: { name: string };
    }[])
      .map((p) => p.metadata.name);
  assert.deepEqual(await names("fieldSelector=spec.nodeName%3Dn2"), ["b"]);
  assert.deepEqual(await names("labelSelector=app%3Dx"), ["a"]);
  assert.deepEqual(await names("fieldSelector=metadata.name%3Da"), ["a"]);
  const table =
    await (await fetch(`${emu.url}/api/v1/namespaces/default/pods?includeObject=Object`, {
      headers: { accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json" },
    })).json();
  assert.equal(table.kind, "Table");
  assert.deepEqual(table.columnDefinitions.slice(0, 3).map((c: { name: string }) => c.name), [
    "Name",
    "Ready",
    "Status",
  ]);
  assert.deepEqual(table.rows.map((r: { cells: string[] }) => r.cells[0]), ["a", "b"]);
  assert.equal(table.rows[0].object.kind, "Pod");
});

Deno.test("startEmulator() watches end at timeoutSeconds, carry bookmarks, and send 410 for old versions", async () => {
  await using emu = await startEmulator({ bookmarkIntervalMs: 100, historySize: 2 });
  const rv = emu.store.resourceVersion;
  emu.store.create(PODS, "default", { metadata: { name: "a" } });
  const evs = await lines(
    await fetch(
      `${emu.url}/api/v1/pods?watch=1&resourceVersion=${rv}&allowWatchBookmarks=true&timeoutSeconds=1`,
    ),
  );
  assert.equal(evs[0]!.type, "ADDED");
  assert.ok(evs.some((e) => e.type === "BOOKMARK"), "bookmarks arrive on a quiet stream");
  for (const n of ["b", "c", "d"]) emu.store.create(PODS, "default", { metadata: { name: n } });
  const gone = await lines(await fetch(`${emu.url}/api/v1/pods?watch=1&resourceVersion=${rv}`));
  assert.equal(gone.length, 1);
  assert.equal(gone[0]!.type, "ERROR");
  assert.equal(gone[0]!.object["code"], 410);
  assert.equal(emu.watchCount, 0);
});
