import assert from "node:assert/strict";
import { loadKubeconfig, parseYamlSubset } from "./kubeconfig.ts";

const KUBECTL_STYLE = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: ${btoa("-----BEGIN CERTIFICATE-----\nCA\n")}
    server: https://127.0.0.1:6443/
  name: sandbox
- cluster:
    server: http://other:8080
  name: other
contexts:
- context:
    cluster: sandbox
    user: admin   # the sandbox's user
  name: sandbox
current-context: "sandbox"
kind: Config
preferences: {}
users:
- name: admin
  user:
    token: 's3cret'
`;

const files = (m: Record<string, string>) => (p: string) =>
  p in m ? Promise.resolve(m[p]!) : Promise.reject(new Error(`ENOENT ${p}`));

Deno.test("parseYamlSubset() reads block mappings, sequences and scalars", () => {
  assert.deepEqual(parseYamlSubset("a: 1\nb:\n  - x\n  - 'y z'\nc:\n  d: true\ne: {}\n"), {
    a: 1,
    b: ["x", "y z"],
    c: { d: true },
    e: {},
  });
  assert.deepEqual(parseYamlSubset('{"a": [1]}'), { a: [1] });
  assert.throws(() => parseYamlSubset("a: &anchor x\n"), /line 1: unsupported YAML/);
});

Deno.test("loadKubeconfig() reads a kubectl-style kubeconfig", async () => {
  const a = await loadKubeconfig("/k/config", files({ "/k/config": KUBECTL_STYLE }));
  assert.equal(a.server, "https://127.0.0.1:6443");
  assert.equal(a.token, "s3cret");
  assert.equal(a.caPem, "-----BEGIN CERTIFICATE-----\nCA\n");
  assert.equal(a.source, "kubeconfig /k/config");
});

Deno.test("loadKubeconfig() resolves token and CA files relative to the kubeconfig", async () => {
  const text = JSON.stringify({
    clusters: [{
      name: "c",
      cluster: { server: "https://h:1", "certificate-authority": "ca.crt" },
    }],
    users: [{ name: "u", user: { tokenFile: "/abs/token" } }],
    contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
    "current-context": "x",
  });
  const a = await loadKubeconfig(
    "/etc/k/kc.json",
    files({ "/etc/k/kc.json": text, "/etc/k/ca.crt": "PEM", "/abs/token": "tok\n" }),
  );
  assert.equal(a.caPem, "PEM");
  assert.equal(a.token, "tok");
});

Deno.test("loadKubeconfig() names the file when it cannot be used", async () => {
  await assert.rejects(loadKubeconfig("/nope", files({})), /Cannot read kubeconfig \/nope/);
  await assert.rejects(
    loadKubeconfig("/k", files({ "/k": "clusters: []\n" })),
    /Cannot use kubeconfig \/k: no cluster server/,
  );
});
