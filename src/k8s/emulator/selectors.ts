/**
 * Label and field selectors as the API server parses them (`labelSelector`,
 * `fieldSelector` query parameters).
 *
 * @module
 */
import type { KubeObject } from "../resources.ts";

/** A compiled selector: true when the object matches. */
export type Matcher = (obj: KubeObject) => boolean;

function splitTerms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of text) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur.trim());
      cur = "";
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/**
 * Parses a label selector (`a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`).
 *
 * @param text the selector; empty matches everything
 * @returns the matcher
 * @throws {SyntaxError} on a term it cannot parse
 */
export function parseLabelSelector(text: string): Matcher {
  const tests: ((labels: Record<string, string>) => boolean)[] = [];
  for (const term of splitTerms(text)) {
    let m: RegExpExecArray | null;
    if ((m = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(term))) {
      const [, k, op, v] = m as unknown as [string, string, string, string];
      tests.push(op === "!=" ? (l) => l[k] !== v : (l) => l[k] === v);
    } else if ((m = /^([\w./-]+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(term))) {
      const [, k, op, list] = m as unknown as [string, string, string, string];
      const vals = new Set(list.split(",").map((s) => s.trim()));
      tests.push(
        op === "in"
          ? (l) => l[k] !== undefined && vals.has(l[k])
          : (l) => l[k] === undefined || !vals.has(l[k]),
      );
    } else if ((m = /^!([\w./-]+)$/.exec(term))) {
      const k = m[1]!;
      tests.push((l) => !(k in l));
    } else if ((m = /^([\w./-]+)$/.exec(term))) {
      const k = m[1]!;
      tests.push((l) => k in l);
    } else {
      throw new SyntaxError(`Cannot parse labelSelector term "${term}"`);
    }
  }
  return (obj) => {
    const labels = obj.metadata.labels ?? {};
    return tests.every((t) => t(labels));
  };
}

/** Field paths the emulator can select on. */
const FIELDS: Record<string, (obj: KubeObject) => string | undefined> = {
  "metadata.name": (o) => o.metadata.name,
  "metadata.namespace": (o) => o.metadata.namespace,
  "spec.nodeName": (o) => (o.spec as { nodeName?: string } | undefined)?.nodeName ?? "",
  "status.phase": (o) => (o.status as { phase?: string } | undefined)?.phase ?? "",
};

/**
 * Parses a field selector (`metadata.name=x`, `spec.nodeName!=`, ...).
 *
 * @param text the selector; empty matches everything
 * @returns the matcher
 * @throws {SyntaxError} on an unsupported field or a bad term
 */
export function parseFieldSelector(text: string): Matcher {
  const tests: Matcher[] = [];
  for (const term of splitTerms(text)) {
    const m = /^([\w.]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw new SyntaxError(`Cannot parse fieldSelector term "${term}"`);
    const [, field, op, value] = m as unknown as [string, string, string, string];
    const get = FIELDS[field];
    if (!get) {
      throw new SyntaxError(
        `Cannot select on field "${field}": supported are ${Object.keys(FIELDS).join(", ")}`,
      );
    }
    tests.push(op === "!=" ? (o) => (get(o) ?? "") !== value : (o) => (get(o) ?? "") === value);
  }
  return (obj) => tests.every((t) => t(obj));
}
