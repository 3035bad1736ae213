/**
 * The end-to-end suite's stage: one sandbox cluster (`ovn-k8s sandbox up --no-demo`,
 * three nodes, its own prefix and state directory, so a user's sandbox is untouched),
 * driven as a user drives it: `kubectl` with the sandbox kubeconfig (and a private HOME),
 * `ovn-k8s sandbox exec POD -- CMD` for commands inside pods, `ip netns exec NODE` for
 * the nodes. Reads of OVN NB and the nodes' OVS go through the CLI tools with explicit
 * sockets.
 *
 * The binary is `dist/ovn-k8s` (built by `deno task compile-ready`), or
 * `OVN_K8S_E2E_BINARY`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Lab, openLab } from "../../src/sandbox/mod.ts";
import { silentLogger } from "../../src/log/mod.ts";

/** The binary under test. */
export const OVN_K8S = Deno.env.get("OVN_K8S_E2E_BINARY") ??
  new URL("../../dist/ovn-k8s", import.meta.url).pathname;

/** What a finished command gave. */
export interface Out {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a program to completion (bounded).
 *
 * @param argv program and arguments
 * @param o environment, stdin, deadline
 * @returns exit code and output
 */
export async function sh(
  argv: string[],
  o: { env?: Record<string, string>; stdin?: string; timeoutMs?: number } = {},
): Promise<Out> {
  const child = new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdin: o.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", ...o.env },
    signal: AbortSignal.timeout(o.timeoutMs ?? 120_000),
  }).spawn();
  if (o.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(o.stdin));
    await w.close();
  }
  const r = await child.output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

/**
 * Polls until `fn` returns a value other than `undefined`/`false`.
 *
 * @param what for the timeout message
 * @param fn the probe
 * @param timeoutMs deadline (default 60 s)
 * @returns the value
 */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) {
      throw new Error(`Timed out waiting for ${what}${last ? `: ${last}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A pod as kubectl shows it. */
export interface PodView {
  name: string;
  node: string;
  ip: string;
  phase: string;
  ready: boolean;
  uid: string;
}

/** The running sandbox, seen from the test. */
export class Sandbox implements AsyncDisposable {
  readonly dir: string;
  readonly prefix: string;
  readonly home: string;
  lab!: Lab;

  /**
   * @param root temp dir (state dir and HOME live in it)
   * @param prefix the sandbox prefix
   */
  constructor(readonly root: string, prefix: string) {
    this.dir = `${root}/state`;
    this.home = `${root}/home`;
    this.prefix = prefix;
  }

  /** The kubeconfig `up` wrote. */
  get kubeconfig(): string {
    return `${this.dir}/kubeconfig`;
  }

  /**
   * Brings the sandbox up through the binary.
   *
   * @param nodes node count
   * @returns what `up` printed
   */
  async up(nodes: number): Promise<string> {
    await Deno.mkdir(this.home, { recursive: true });
    const r = await sh([
      OVN_K8S,
      "sandbox",
      "up",
      `--nodes=${nodes}`,
      `--dir=${this.dir}`,
      `--prefix=${this.prefix}`,
      "--no-demo",
    ], { timeoutMs: 180_000 });
    assert.equal(r.code, 0, `sandbox up failed:\n${r.stdout}\n${r.stderr}`);
    this.lab = (await openLab(this.dir, { log: silentLogger }))!;
    return r.stdout;
  }

  /**
   * Runs kubectl with the sandbox kubeconfig; fails the test on a non-zero exit.
   *
   * @param args kubectl arguments
   * @param stdin optional input (`-f -`)
   * @returns stdout
   */
  async kubectl(args: string[], stdin?: string): Promise<string> {
    const r = await this.kubectlRaw(args, stdin);
    assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  }

  /**
   * Runs kubectl, returning the exit code too.
   *
   * @param args kubectl arguments
   * @param stdin optional input
   * @returns the outcome
   */
  kubectlRaw(args: string[], stdin?: string): Promise<Out> {
    return sh(["kubectl", ...args], {
      env: { KUBECONFIG: this.kubeconfig, HOME: this.home },
      ...(stdin !== undefined ? { stdin } : {}),
    });
  }

  /**
   * Applies objects with `kubectl apply -f -` (a stream of JSON objects).
   *
   * @param items the objects
   */
  async apply(items: unknown[]): Promise<void> {
    await this.kubectl(
      ["apply", "-f", "-"],
      items.map((i) => JSON.stringify(i)).join("\n") + "\n",
    );
  }

  /**
   * Lists pods through kubectl.
   *
   * @param selector optional label selector
   * @returns the pods
   */
  async pods(selector?: string): Promise<PodView[]> {
    const out = await this.kubectl([
      "get",
      "pods",
      "-o",
      "json",
      ...(selector ? ["-l", selector] : []),
    ]);
    type P = {
      metadata: { name: string; uid: string };
      spec: { nodeName?: string };
      status?: {
        podIP?: string;
        phase?: string;
        conditions?: Array<{ type: string; status: string }>;
      };
    };
    return (JSON.parse(out).items as P[]).map((p) => ({
      name: p.metadata.name,
      uid: p.metadata.uid,
      node: p.spec.nodeName ?? "",
      ip: p.status?.podIP ?? "",
      phase: p.status?.phase ?? "",
      ready: p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
    }));
  }

  /**
   * Waits until every named pod is Running and Ready with an IP.
   *
   * @param names pod names
   * @param timeoutMs deadline
   * @returns the pods by name
   */
  async waitRunning(names: string[], timeoutMs = 90_000): Promise<Map<string, PodView>> {
    let pending = "";
    return await until(
      `pods ${names.length > 5 ? names.length : names.join(", ")} Running`,
      async () => {
        const all = new Map((await this.pods()).map((p) => [p.name, p]));
        const notYet = names.filter((n) => {
          const p = all.get(n);
          return !(p && p.phase === "Running" && p.ready && p.ip !== "");
        });
        pending = notYet.map((n) => {
          const p = all.get(n);
          return p ? `${n} (${p.phase || "no phase"} on ${p.node || "no node"}, ip "${p.ip}")` : n;
        }).join(", ");
        return notYet.length ? undefined : all;
      },
      timeoutMs,
    ).catch(async (err) => {
      // Say which pods and what the supervisor (kubelets, runs) said last.
      const log = await Deno.readTextFile(`${this.dir}/supervisor.log`).catch(() => "");
      const tail = log.split("\n").filter((l) => /warn|error/i.test(l)).slice(-15).join("\n");
      throw new Error(
        `${(err as Error).message}; not yet: ${pending}\nsupervisor.log warnings:\n${tail}`,
      );
    });
  }

  /**
   * `ovn-k8s sandbox exec POD -- CMD`.
   *
   * @param pod pod name
   * @param cmd command
   * @returns the outcome
   */
  exec(pod: string, cmd: string[]): Promise<Out> {
    return sh([OVN_K8S, "sandbox", "exec", pod, `--dir=${this.dir}`, "--", ...cmd], {
      timeoutMs: 60_000,
    });
  }

  /**
   * Runs a command in a node's namespace.
   *
   * @param node node name
   * @param cmd command
   * @returns the outcome
   */
  onNode(node: string, cmd: string[]): Promise<Out> {
    const n = this.lab.node(node);
    return sh(["ip", "netns", "exec", n.netns, ...cmd], { env: n.env, timeoutMs: 60_000 });
  }

  /**
   * `ovn-nbctl` against the sandbox's NB.
   *
   * @param args arguments
   * @returns stdout
   */
  async nbctl(args: string[]): Promise<string> {
    const r = await sh([
      "ovn-nbctl",
      `--db=unix:${this.lab.central.nbSock}`,
      "--timeout=20",
      ...args,
    ]);
    assert.equal(r.code, 0, `ovn-nbctl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  }

  /**
   * Names of the logical switch ports in NB.
   *
   * @returns port names
   */
  async lsps(): Promise<string[]> {
    const out = await this.nbctl([
      "--format=csv",
      "--no-headings",
      "--columns=name",
      "list",
      "Logical_Switch_Port",
    ]);
    return out.split("\n").map((l) => l.replace(/"/g, "").trim()).filter((l) => l !== "");
  }

  /**
   * `iface-id`s of the OVS interfaces on a node.
   *
   * @param node node name
   * @returns the ids
   */
  async ifaceIds(node: string): Promise<string[]> {
    const n = this.lab.node(node);
    const r = await sh([
      "ovs-vsctl",
      `--db=unix:${n.ovsDbSock}`,
      "--timeout=20",
      "--format=csv",
      "--no-headings",
      "--columns=external_ids",
      "list",
      "Interface",
    ]);
    assert.equal(r.code, 0, r.stderr);
    return [...r.stdout.matchAll(/iface-id=\\?"?([^",}\\]+)/g)].map((m) => m[1]!);
  }

  /** Namespaces of this sandbox that exist. */
  async namespaces(): Promise<string[]> {
    const r = await sh(["ip", "netns", "list"]);
    return r.stdout.split("\n").map((l) => l.split(" ")[0]!).filter((n) =>
      n.startsWith(`${this.prefix}-`)
    );
  }

  /** `sandbox down`, then checks nothing is left. */
  async down(): Promise<Out> {
    return await sh([OVN_K8S, "sandbox", "down", `--dir=${this.dir}`], { timeoutMs: 120_000 });
  }

  /** Same as {@linkcode Sandbox.down}, and removes the temp dir. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.down();
    await Deno.remove(this.root, { recursive: true }).catch(() => {});
  }
}

/**
 * A pod manifest.
 *
 * @param name pod name
 * @param o node to pin it to, labels, command
 * @returns the object
 */
export function podManifest(
  name: string,
  o: { node?: string; labels?: Record<string, string>; command?: string[] } = {},
): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: o.labels ?? {} },
    spec: {
      ...(o.node ? { nodeName: o.node } : {}),
      containers: [{
        name: "main",
        image: "sandbox/host",
        ...(o.command ? { command: o.command } : {}),
      }],
    },
  };
}

/**
 * A ClusterIP service with an HTTP (80 -> 8080) and a UDP echo (53 -> 5353) port.
 *
 * @param name service name
 * @param selector pod selector
 * @returns the object
 */
export function serviceManifest(name: string, selector: Record<string, string>) {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name },
    spec: {
      selector,
      ports: [
        { name: "http", port: 80, targetPort: 8080, protocol: "TCP" },
        { name: "echo", port: 53, targetPort: 5353, protocol: "UDP" },
      ],
    },
  };
}
