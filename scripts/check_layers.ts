// deno-lint-ignore-file no-console
/**
 * Keeps imports pointing down (STYLE.md "Layout"): each folder under src/ may import
 * only the folders listed for it. Leaves (log, exec, net, ovsdb) import nothing from
 * src/; ovn and k8s never import each other; only roles (and the sandbox, which
 * composes the product's own parts) build real clients. A new folder must be added
 * here before it can be used. Run by `deno task ok` and CI.
 *
 * @module
 */

/** Folder -> folders it may import from (besides itself). */
export const LAYERS: Record<string, readonly string[]> = {
  log: [],
  exec: [],
  net: [],
  ovsdb: [],
  cli: ["log"],
  ipam: ["net"],
  ovn: ["ovsdb", "net"],
  ovs: ["ovsdb", "exec", "net", "log"],
  host: ["exec", "net", "log"],
  daemons: ["exec", "net", "log", "ovsdb"],
  k8s: ["net", "log", "exec"],
  cni: ["host", "exec", "net", "log", "ovs", "ovsdb", "cli"],
  gateway: ["ovn", "ovs", "ovsdb", "host", "exec", "net", "log", "ipam"],
  controllers: ["ovn", "k8s", "ovsdb", "ipam", "net", "log", "exec"],
  sandbox: [
    "log",
    "exec",
    "net",
    "ovsdb",
    "cli",
    "ipam",
    "ovn",
    "ovs",
    "host",
    "daemons",
    "k8s",
    "cni",
    "gateway",
    "controllers",
  ],
  roles: [
    "log",
    "exec",
    "net",
    "ovsdb",
    "cli",
    "ipam",
    "ovn",
    "ovs",
    "host",
    "daemons",
    "k8s",
    "cni",
    "gateway",
    "controllers",
    "sandbox",
  ],
};

const IMPORT_RE =
  /(?:^|\n)\s*(?:import|export)[^"'`;]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;

/**
 * Lists the layer violations of one file's source.
 *
 * @param file path relative to the repo, e.g. `src/ovsdb/client.ts`
 * @param source file text
 * @returns human-readable violations
 */
export function violations(file: string, source: string): string[] {
  const m = /^src\/([^/]+)\//.exec(file);
  if (!m) return [];
  const layer = m[1]!;
  const allowed = LAYERS[layer];
  if (!allowed) return [`${file}: folder src/${layer}/ is not in scripts/check_layers.ts LAYERS`];
  const out: string[] = [];
  for (const im of source.matchAll(IMPORT_RE)) {
    const spec = im[1] ?? im[2] ?? "";
    if (!spec.startsWith(".")) continue;
    const target = new URL(spec, `file:///${file}`).pathname.slice(1);
    const t = /^src\/([^/]+)\//.exec(target);
    if (!t) {
      out.push(`${file}: imports ${spec}, outside src/`);
      continue;
    }
    const tl = t[1]!;
    if (tl !== layer && !allowed.includes(tl)) {
      out.push(`${file}: src/${layer} may not import src/${tl} (${spec})`);
    }
  }
  return out;
}

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) yield* walk(p);
    else if (e.isFile && p.endsWith(".ts")) yield p;
  }
}

if (import.meta.main) {
  const problems: string[] = [];
  for await (const f of walk("src")) {
    if (f.endsWith("_test.ts")) continue;
    problems.push(...violations(f, await Deno.readTextFile(f)));
  }
  if (problems.length) {
    console.error(`check_layers: ${problems.length} violation(s):\n  ${problems.join("\n  ")}`);
    Deno.exit(1);
  }
  console.error("check_layers: ok");
}
