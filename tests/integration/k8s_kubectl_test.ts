/**
 * The real kubectl (/usr/bin/kubectl) drives the API emulator over https with a
 * generated CA and a bearer token: apply (with validation, no --validate=false),
 * get -o json, annotate, patch --type=merge, get -w, delete; and fails clearly with a
 * wrong token or a wrong CA. kubectl runs with HOME in a temp dir and its own kubeconfig.
 */
import assert from "node:assert/strict";
import { ProcessRunner } from "../../src/exec/mod.ts";
import { startEmulator } from "../../src/k8s/emulator/server.ts";
import { ensureEmulatorPki } from "../../src/k8s/emulator/tls.ts";
import { findResource, type KubeObject } from "../../src/k8s/resources.ts";

const KUBECTL = "/usr/bin/kubectl";
const PODS = findResource("pods")!;
const TOKEN = "kubectl-test-token";

const MANIFEST = (image: string) =>
  `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: c
    image: ${image}
    ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
`;

function kubeconfig(server: string, caPath: string, token: string): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "emu", cluster: { server, "certificate-authority": caPath } }],
    users: [{ name: "u", user: { token } }],
    contexts: [{ name: "emu", context: { cluster: "emu", user: "u", namespace: "default" } }],
    "current-context": "emu",
  });
}

async function setup() {
  const dir = await Deno.makeTempDir({ prefix: "ovnk8s-kubectl-" });
  const runner = new ProcessRunner();
  const pki = await ensureEmulatorPki(runner, `${dir}/pki`);
  const emu = await startEmulator({ tls: { cert: pki.certPem, key: pki.keyPem }, token: TOKEN });
  const kc = `${dir}/kubeconfig`;
  await Deno.writeTextFile(kc, kubeconfig(emu.url, pki.caPath, TOKEN));
  const env = { HOME: dir, KUBECONFIG: kc, PATH: "/usr/bin:/bin" };
  const kubectl = async (args: string[], stdin?: string) => {
    const r = await runner.run([KUBECTL, ...args], {
      env,
      check: false,
      timeoutMs: 60_000,
      ...(stdin !== undefined ? { stdin } : {}),
    });
    return r;
  };
  return {
    dir,
    emu,
    env,
    runner,
    kubectl,
    async [Symbol.asyncDispose]() {
      await emu.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test({
  name: "kubectl applies, reads, annotates, patches, watches and deletes through the emulator",
  async fn() {
    await using t = await setup();
    const { emu, kubectl } = t;
    const ok = async (args: string[], stdin?: string) => {
      const r = await kubectl(args, stdin);
      assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
      return r.stdout;
    };

    assert.match(
      await ok(["apply", "-f", "-"], MANIFEST("busybox:1")),
      /pod\/web created\nservice\/web created/,
    );
    const pod = JSON.parse(await ok(["get", "pod", "web", "-o", "json"])) as KubeObject;
    assert.equal(pod.metadata.labels?.["app"], "web");
    assert.match(pod.metadata.uid!, /^[0-9a-f-]{36}$/);
    assert.ok(pod.metadata.annotations?.["kubectl.kubernetes.io/last-applied-configuration"]);
    const svc = JSON.parse(await ok(["get", "service", "web", "-o", "json"])) as KubeObject;
    assert.match((svc["spec"] as { clusterIP: string }).clusterIP, /^10\.96\./);

    assert.match(
      await ok(["get", "pods"]),
      /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\nweb\s+0\/1\s+Pending/,
    );

    await ok(["annotate", "pod", "web", "k8s.ovn.org/test=one"]);
    assert.equal(
      emu.store.get(PODS, "default", "web").metadata.annotations?.["k8s.ovn.org/test"],
      "one",
    );
    await ok([
      "patch",
      "pod",
      "web",
      "--type=merge",
      "-p",
      '{"metadata":{"labels":{"tier":"fe"}}}',
    ]);
    assert.equal(emu.store.get(PODS, "default", "web").metadata.labels?.["tier"], "fe");
    assert.ok(emu.patchContentTypes.includes("application/merge-patch+json"));

    // The kubelet's part: the pod runs with an IP; the endpoints controller follows.
    emu.store.patch(PODS, "default", "web", "application/merge-patch+json", {
      status: { phase: "Running", podIP: "10.244.1.5" },
    }, "status");
    const ep = JSON.parse(await ok(["get", "endpoints", "web", "-o", "json"])) as {
      subsets: { addresses: { ip: string }[]; ports: { port: number }[] }[];
    };
    assert.deepEqual(ep.subsets[0]!.addresses.map((a) => a.ip), ["10.244.1.5"]);
    assert.deepEqual(ep.subsets[0]!.ports.map((p) => p.port), [8080]);
    assert.match(await ok(["get", "endpointslices"]), /web-ipv4\s+IPv4\s+10\.244\.1\.5/);

    // A changed manifest: kubectl computes a 3-way strategic merge patch.
    assert.match(
      await ok(["apply", "-f", "-"], MANIFEST("busybox:2")),
      /pod\/web configured\nservice\/web unchanged/,
    );
    const image = await ok(["get", "pod", "web", "-o", "jsonpath={.spec.containers[0].image}"]);
    assert.equal(image, "busybox:2");

    // get -w: events for a pod created and deleted while kubectl watches.
    const watch = new Deno.Command(KUBECTL, {
      args: ["get", "pods", "-w", "--output-watch-events", "-o", "json"],
      env: t.env,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let out = "";
    const reader = (async () => {
      const dec = new TextDecoder();
      for await (const chunk of watch.stdout) out += dec.decode(chunk, { stream: true });
    })();
    const until = async (what: string, re: RegExp) => {
      const end = Date.now() + 30_000;
      while (!re.test(out)) {
        if (Date.now() > end) throw new Error(`kubectl get -w never showed ${what}: ${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await until("the existing pod", /"type":\s*"ADDED"[\s\S]*"name":\s*"web"/);
      await ok(["run", "w2", "--image=busybox", "--restart=Never"]);
      await until("w2 added", /"type":\s*"ADDED"[\s\S]*"name":\s*"w2"/);
      assert.match(await ok(["delete", "pod", "w2"]), /pod "w2" deleted/);
      await until("w2 deleted", /"type":\s*"DELETED"[\s\S]*"name":\s*"w2"/);
    } finally {
      watch.kill("SIGTERM");
      await watch.status;
      await reader;
      await watch.stderr.cancel();
    }

    assert.match(await ok(["delete", "pod", "web"]), /pod "web" deleted/);
    assert.throws(() => emu.store.get(PODS, "default", "web"), /not found/);
    assert.equal(await ok(["get", "pods"]), "", "no pods left");
  },
});

Deno.test({
  name: "kubectl fails clearly against the emulator with a wrong token or a wrong CA",
  async fn() {
    await using t = await setup();
    const badToken = await t.kubectl(["get", "pods", "--token=wrong-token"]);
    assert.notEqual(badToken.code, 0);
    assert.match(badToken.stderr, /Unauthorized|must be logged in/);

    const other = await ensureEmulatorPki(t.runner, `${t.dir}/other-pki`);
    const kc = `${t.dir}/wrong-ca.kubeconfig`;
    await Deno.writeTextFile(kc, kubeconfig(t.emu.url, other.caPath, TOKEN));
    const badCa = await t.kubectl(["--kubeconfig", kc, "get", "pods"]);
    assert.notEqual(badCa.code, 0);
    assert.match(badCa.stderr, /x509|certificate signed by unknown authority/);
  },
});
