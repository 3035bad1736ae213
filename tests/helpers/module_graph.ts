/**
 * Test helper: the module graph of an entry point as `deno info --json` reports it (what
 * the compile gate reads), for tests that keep heavy libraries off a role's start path.
 *
 * @module
 */
import assert from "node:assert/strict";

/** One module of `deno info --json`. */
export interface GraphModule {
  specifier: string;
  dependencies?: { specifier: string; code?: { specifier?: string }; isDynamic?: boolean }[];
}

/**
 * Runs `deno info --json ENTRY`.
 *
 * @param entry path of the entry module
 * @returns every module of the graph (static and dynamic imports)
 * @throws {AssertionError} when `deno info` fails (its stderr is the message)
 */
export async function moduleGraph(entry: string): Promise<GraphModule[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return (JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: GraphModule[] }).modules;
}

/**
 * The modules a start of `entry` loads: its static imports, transitively (no `import()`).
 *
 * @param entry path of the entry module
 * @returns their specifiers, the entry's first
 */
export async function staticGraph(entry: string): Promise<string[]> {
  const modules = await moduleGraph(entry);
  const bySpecifier = new Map(modules.map((m) => [m.specifier, m]));
  const root = modules.find((m) => m.specifier.endsWith(entry))!;
  const seen = new Set<string>([root.specifier]);
  const todo = [root];
  while (todo.length) {
    const m = todo.pop()!;
    for (const d of m.dependencies ?? []) {
      if (d.isDynamic) continue;
      const resolved = d.code?.specifier ?? d.specifier;
      const abs = resolved.startsWith(".") ? new URL(resolved, m.specifier).href : resolved;
      if (seen.has(abs)) continue;
      seen.add(abs);
      const next = bySpecifier.get(abs);
      if (next) todo.push(next);
    }
  }
  return [...seen];
}
