import assert from "node:assert/strict";
import { parseCniArgs, readCniEnv } from "./env.ts";

const base = {
  CNI_COMMAND: "ADD",
  CNI_CONTAINERID: "c0ffee",
  CNI_NETNS: "/var/run/netns/p1",
  CNI_IFNAME: "eth0",
  CNI_PATH: "/opt/cni/bin:/usr/lib/cni",
  CNI_ARGS: "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-1;" +
    "K8S_POD_INFRA_CONTAINER_ID=infra;K8S_POD_UID=u-1",
};
const envOf = (o: Record<string, string>) => (k: string) => o[k];

Deno.test("parseCniArgs() splits pairs and keeps '=' in values", () => {
  assert.deepEqual(parseCniArgs("A=1;B=x=y;;C="), { A: "1", B: "x=y", C: "" });
  assert.throws(() => parseCniArgs("A=1;junk"), /Cannot parse CNI_ARGS pair "junk"/);
});

Deno.test("readCniEnv() reads an ADD", () => {
  const e = readCniEnv(envOf(base));
  assert.equal(e.command, "ADD");
  assert.equal(e.containerId, "c0ffee");
  assert.equal(e.podNamespace, "default");
  assert.equal(e.podName, "web-1");
  assert.equal(e.podUid, "u-1");
  assert.deepEqual(e.path, ["/opt/cni/bin", "/usr/lib/cni"]);
});

Deno.test("readCniEnv() falls back to K8S_POD_INFRA_CONTAINER_ID", () => {
  const e = readCniEnv(envOf({ ...base, CNI_CONTAINERID: "" }));
  assert.equal(e.containerId, "infra");
});

Deno.test("readCniEnv() lists every missing variable with code 4", () => {
  assert.throws(
    () => readCniEnv(envOf({ CNI_COMMAND: "ADD" })),
    (err: Error & { code?: number }) =>
      err.code === 4 &&
      /CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_ARGS K8S_POD_NAMESPACE, CNI_ARGS K8S_POD_NAME/
        .test(err.message),
  );
});

Deno.test("readCniEnv() needs only the container id for DEL and nothing for VERSION", () => {
  assert.equal(readCniEnv(envOf({ CNI_COMMAND: "DEL", CNI_CONTAINERID: "x" })).command, "DEL");
  assert.equal(readCniEnv(envOf({ CNI_COMMAND: "VERSION" })).command, "VERSION");
  assert.throws(() => readCniEnv(envOf({ CNI_COMMAND: "DEL" })), /CNI_CONTAINERID/);
});

Deno.test("readCniEnv() rejects unknown commands and bad interface names", () => {
  assert.throws(() => readCniEnv(envOf({ CNI_COMMAND: "GC" })), /unknown command/);
  assert.throws(() => readCniEnv(envOf({})), /CNI_COMMAND is not set/);
  assert.throws(
    () => readCniEnv(envOf({ ...base, CNI_IFNAME: "a-very-long-interface" })),
    /Cannot use CNI_IFNAME/,
  );
});
