// deno-lint-ignore-file no-console
/**
 * `deno task bench sandbox_up`: how long `ovn-k8s sandbox up` takes for 3 nodes from
 * nothing (target: 10 s), against a baseline measured in the same run: the bare lab
 * (`startLab`: underlay, central OVN, 3 nodes with OVS and ovn-controller, chassis and
 * tunnels up), i.e. what the cluster adds on top of the OVN hosts. Rounds are
 * interleaved; each `up` is followed by `down` (also timed).
 *
 * Measured: (a) the bare lab; (b) `dist/ovn-k8s sandbox up --no-demo` (API server,
 * setup-host + run per node, kubelets: nodes ready); (c) `dist/ovn-k8s sandbox up` (plus
 * the demo pods and the 6 connectivity checks). Needs root and dist/ovn-k8s.
 *
 * @module
 */
import { silentLogger } from "../src/log/mod.ts";
import { startLab } from "../src/sandbox/mod.ts";

const BIN = new URL("../dist/ovn-k8s", import.meta.url).pathname;
const ROUNDS = Number(Deno.env.get("BENCH_ROUNDS") ?? "3");

async function timed(argv: string[]): Promise<number> {
  const t0 = performance.now();
  const r = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (r.code !== 0) {
    throw new Error(`${argv.join(" ")} failed: ${new TextDecoder().decode(r.stdout)}`);
  }
  return performance.now() - t0;
}

const root = await Deno.makeTempDir({ prefix: "ovn-k8s-bench-sandbox-" });
const series: Record<string, number[]> = { lab: [], noDemo: [], full: [], down: [] };
try {
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    const lab = await startLab({
      nodes: 3,
      prefix: `bsl${i}`,
      dir: `${root}/lab`,
      log: silentLogger,
    });
    series.lab!.push(performance.now() - t0);
    await lab.down();
    for (const [key, extra] of [["noDemo", ["--no-demo"]], ["full", []]] as const) {
      const dir = `${root}/sb`;
      series[key]!.push(
        await timed([BIN, "sandbox", "up", `--dir=${dir}`, `--prefix=bsb${i}`, ...extra]),
      );
      series.down!.push(await timed([BIN, "sandbox", "down", `--dir=${dir}`]));
    }
  }
} finally {
  await Deno.remove(root, { recursive: true }).catch(() => {});
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const base = median(series.lab!);
console.log(`sandbox_up: 3 nodes, ${ROUNDS} rounds, medians (all runs)`);
console.log(
  `  baseline: bare lab (OVN hosts)        ${s(base)}  [${series.lab!.map(s).join(", ")}]`,
);
for (
  const [key, what] of [["noDemo", "sandbox up --no-demo"], ["full", "sandbox up (demo + checks)"]]
) {
  const m = median(series[key!]!);
  console.log(
    `  ${what!.padEnd(36)} ${s(m)}  ${(m / base).toFixed(1)}x baseline  [${
      series[key!]!.map(s).join(", ")
    }]`,
  );
}
console.log(`  sandbox down                         ${s(median(series.down!))}`);
