import assert from "node:assert/strict";
import {
  type ConnectionFs,
  describeConnection,
  parseApiServer,
  resolveConnection,
  unescapeOvsPem,
} from "./connection.ts";

const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

/** An in-memory file system; paths listed in `unreadable` fail to read. */
function memFs(files: Record<string, string>, unreadable: string[] = []) {
  const written: Record<string, string> = {};
  const fs: ConnectionFs = {
    readTextFile: (p) => {
      if (unreadable.includes(p)) {
        return Promise.reject(new Deno.errors.PermissionDenied("permission denied"));
      }
      const v = files[p] ?? written[p];
      return v === undefined
        ? Promise.reject(new Deno.errors.NotFound("No such file"))
        : Promise.resolve(v);
    },
    writeTextFile: (p, t) => {
      written[p] = t;
      return Promise.resolve();
    },
    exists: (p) => Promise.resolve(p in files || p in written || unreadable.includes(p)),
  };
  return { fs, written };
}

const noEnv = () => undefined;

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- name: c1
  cluster: {server: "https://10.1.1.1:6443", certificate-authority-data: ${btoa(CA)}}
users:
- name: u1
  user: {token: kubeconfig-token}
contexts:
- name: ctx1
  context: {cluster: c1, user: u1}
current-context: ctx1
`;

Deno.test("parseApiServer() reads host:port as http and keeps full URLs", () => {
  assert.equal(parseApiServer("10.0.0.1:8080", "x"), "http://10.0.0.1:8080");
  assert.equal(parseApiServer("https://k8s.example:6443/", "x"), "https://k8s.example:6443");
  assert.equal(parseApiServer("http://[fd00::1]:8080", "x"), "http://[fd00::1]:8080");
});

Deno.test("parseApiServer() rejects malformed values naming their source", () => {
  for (const bad of ["", "10.0.0.1:notaport", "ftp://host:21", "http://", "https://h:1?x=1"]) {
    assert.throws(() => parseApiServer(bad, "external_ids:k8s-api-server"), (err: Error) => {
      assert.ok(err instanceof TypeError);
      assert.match(err.message, /^Cannot use external_ids:k8s-api-server "/);
      return true;
    }, bad);
  }
});

Deno.test("unescapeOvsPem() turns literal \\n sequences into newlines", () => {
  assert.equal(
    unescapeOvsPem("-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----"),
    CA,
  );
});

Deno.test("resolveConnection() prefers flags over OVS external_ids", async () => {
  const { fs } = memFs({ "/ca.pem": CA });
  const c = await resolveConnection({
    flags: { apiServer: "https://flag:6443", token: "flag-token", caCert: "/ca.pem" },
    ovsExternalIds: { "k8s-api-server": "ovs:8080", "k8s-api-token": "ovs-token" },
    env: noEnv,
    fs,
  });
  assert.equal(c.server, "https://flag:6443");
  assert.equal(c.token, "flag-token");
  assert.equal(c.caPem, CA);
  assert.equal(c.source, "flags");
});

Deno.test("resolveConnection() uses OVS external_ids before in-cluster and kubeconfig", async () => {
  const { fs } = memFs({
    "/sa/token": "sa-token",
    "/sa/ca.crt": CA,
    "/home/.kube/config": KUBECONFIG,
  });
  const env = (k: string) =>
    ({ KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443", HOME: "/home" })[k];
  const c = await resolveConnection({
    ovsExternalIds: () =>
      Promise.resolve({
        "k8s-api-server": "192.168.1.5:8080",
        "k8s-api-token": "ovs-token",
      }),
    env,
    fs,
    serviceAccountDir: "/sa",
  });
  assert.equal(c.server, "http://192.168.1.5:8080");
  assert.equal(c.token, "ovs-token");
  assert.equal(c.source, "OVS external_ids");
});

Deno.test("resolveConnection() writes the OVS CA to its file when the file is absent", async () => {
  const { fs, written } = memFs({});
  const c = await resolveConnection({
    ovsExternalIds: {
      "k8s-api-server": "https://10.0.0.1:6443",
      "k8s-ca-certificate": CA.trim().replaceAll("\n", "\\n"),
    },
    env: noEnv,
    fs,
    ovsCaPath: "/etc/ovs/k8s-ca.crt",
  });
  assert.equal(c.caPem, CA);
  assert.equal(written["/etc/ovs/k8s-ca.crt"], CA);
  assert.equal(c.insecureSkipTlsVerify, false);
});

Deno.test("resolveConnection() prefers an existing OVS CA file over the external_ids text", async () => {
  const other = CA.replace("MIIB", "MIIC");
  const { fs, written } = memFs({ "/etc/ovs/k8s-ca.crt": other });
  const c = await resolveConnection({
    ovsExternalIds: { "k8s-api-server": "https://10.0.0.1:6443", "k8s-ca-certificate": CA },
    env: noEnv,
    fs,
    ovsCaPath: "/etc/ovs/k8s-ca.crt",
  });
  assert.equal(c.caPem, other);
  assert.deepEqual(written, {});
});

Deno.test("resolveConnection() uses the in-cluster service account before kubeconfig", async () => {
  const { fs } = memFs({
    "/sa/token": "sa-token\n",
    "/sa/ca.crt": CA,
    "/home/.kube/config": KUBECONFIG,
  });
  const env = (k: string) =>
    ({ KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "6443", HOME: "/home" })[k];
  const c = await resolveConnection({ env, fs, serviceAccountDir: "/sa" });
  assert.equal(c.server, "https://[fd00::1]:6443");
  assert.equal(c.token, "sa-token");
  assert.equal(c.caPem, CA);
  assert.equal(c.source, "in-cluster service account");
});

Deno.test("resolveConnection() falls back to KUBECONFIG, then ~/.kube/config", async () => {
  const { fs } = memFs({
    "/k/config": KUBECONFIG,
    "/home/.kube/config": KUBECONFIG.replace("10.1.1.1", "10.2.2.2"),
  });
  const viaEnv = await resolveConnection({
    env: (k) => ({ KUBECONFIG: "/missing:/k/config", HOME: "/home" })[k],
    fs,
  });
  assert.equal(viaEnv.server, "https://10.1.1.1:6443");
  assert.equal(viaEnv.token, "kubeconfig-token");
  assert.equal(viaEnv.caPem, CA);
  assert.match(viaEnv.source, /^KUBECONFIG "\/k\/config" \(context "ctx1"\)$/);
  const viaHome = await resolveConnection({ env: (k) => ({ HOME: "/home" })[k], fs });
  assert.equal(viaHome.server, "https://10.2.2.2:6443");
});

Deno.test("resolveConnection() names the OVS source of a malformed k8s-api-server", async () => {
  await assert.rejects(
    resolveConnection({
      ovsExternalIds: { "k8s-api-server": "10.0.0.1:port" },
      env: noEnv,
      fs: memFs({}).fs,
    }),
    /^TypeError: Cannot use external_ids:k8s-api-server \(local Open_vSwitch row\) "10.0.0.1:port"/,
  );
});

Deno.test("resolveConnection() names an unreadable CA file", async () => {
  await assert.rejects(
    resolveConnection({
      flags: { apiServer: "https://h:6443", caCert: "/secret/ca.pem" },
      env: noEnv,
      fs: memFs({}, ["/secret/ca.pem"]).fs,
    }),
    /Cannot read --k8s-cacert file "\/secret\/ca.pem": permission denied/,
  );
  await assert.rejects(
    resolveConnection({
      ovsExternalIds: { "k8s-api-server": "https://h:6443" },
      env: noEnv,
      fs: memFs({}, ["/etc/ovs/ca"]).fs,
      ovsCaPath: "/etc/ovs/ca",
    }),
    /Cannot read the OVS k8s CA file "\/etc\/ovs\/ca"/,
  );
});

Deno.test("resolveConnection() names a kubeconfig with no current context", async () => {
  const { fs } = memFs({ "/k/config": KUBECONFIG.replace("current-context: ctx1\n", "") });
  await assert.rejects(
    resolveConnection({ env: (k) => ({ KUBECONFIG: "/k/config" })[k], fs }),
    /Cannot use KUBECONFIG "\/k\/config": it has no current-context/,
  );
  await assert.rejects(
    resolveConnection({ flags: { kubeconfig: "/k/config" }, env: noEnv, fs }),
    /Cannot use --kubeconfig "\/k\/config": it has no current-context/,
  );
});

Deno.test("resolveConnection() says which sources it tried when none gives a server", async () => {
  await assert.rejects(
    resolveConnection({
      ovsExternalIds: {},
      env: (k) => ({ HOME: "/nohome" })[k],
      fs: memFs({}).fs,
    }),
    /Cannot find the Kubernetes API server: .*--k8s-api-server.*external_ids:k8s-api-server.*KUBERNETES_SERVICE_HOST.*~\/\.kube\/config/,
  );
});

Deno.test("Connection keeps the token out of JSON, inspection and its description", async () => {
  const c = await resolveConnection({
    flags: { apiServer: "http://h:8080", token: "s3cr3t-token" },
    env: noEnv,
    fs: memFs({}).fs,
  });
  assert.equal(c.token, "s3cr3t-token");
  assert.doesNotMatch(JSON.stringify(c), /s3cr3t/);
  assert.doesNotMatch(Deno.inspect(c), /s3cr3t/);
  assert.doesNotMatch(JSON.stringify(describeConnection(c)), /s3cr3t/);
  assert.equal(describeConnection(c)["auth"], "bearer token");
});

Deno.test("resolveConnection() names real files it cannot use (a directory as CA, a kubeconfig without context)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ovnk8s-conn-" });
  try {
    await assert.rejects(
      resolveConnection({ flags: { apiServer: "https://h:6443", caCert: dir }, env: noEnv }),
      new RegExp(`Cannot read --k8s-cacert file "${dir}"`),
    );
    await Deno.writeTextFile(`${dir}/config`, KUBECONFIG.replace("current-context: ctx1\n", ""));
    await assert.rejects(
      resolveConnection({ env: (k) => ({ KUBECONFIG: `${dir}/config` })[k] }),
      new RegExp(`Cannot use KUBECONFIG "${dir}/config": it has no current-context`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
