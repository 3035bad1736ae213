/**
 * A small kubeconfig reader for the CNI path, which must not load the Kubernetes
 * client library (its import alone costs more than the whole ADD). Reads JSON, or
 * the block-style YAML subset that kubectl and our sandbox write: nested mappings,
 * `- ` sequences, plain and quoted scalars, `{}`/`[]`. Anchors, multi-line scalars
 * and flow collections with content are not supported and raise a clear error.
 *
 * @module
 */

/** A parsed YAML/JSON value. */
export type Yaml = string | number | boolean | null | Yaml[] | { [k: string]: Yaml };

interface Line {
  indent: number;
  text: string;
  no: number;
}

function scalar(raw: string, no: number): Yaml {
  const t = raw.trim();
  if (t === "" || t === "~" || t === "null") return null;
  if (t === "{}") return {};
  if (t === "[]") return [];
  if (t.startsWith('"')) return JSON.parse(t) as string;
  if (t.startsWith("'")) {
    if (!t.endsWith("'") || t.length < 2) throw new SyntaxError(`line ${no}: unterminated string`);
    return t.slice(1, -1).replaceAll("''", "'");
  }
  if (/^[[{&*|>!]/.test(t)) {
    throw new SyntaxError(`line ${no}: unsupported YAML construct "${t.slice(0, 20)}"`);
  }
  if (t === "true") return true;
  if (t === "false") return false;
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  return t;
}

/** Splits `key: value`, honouring quoted keys; returns undefined when not a mapping entry. */
function splitKey(text: string): [string, string] | undefined {
  const m = /^("(?:[^"\\]|\\.)*"|'[^']*'|[^'"#][^:#]*?)\s*:(?:\s+(.*)|$)/.exec(text);
  if (!m) return undefined;
  const key = m[1]!.startsWith('"')
    ? JSON.parse(m[1]!) as string
    : m[1]!.startsWith("'")
    ? m[1]!.slice(1, -1)
    : m[1]!;
  return [key, m[2] ?? ""];
}

function stripComment(text: string): string {
  let quote = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(text[i - 1]!))) return text.slice(0, i).trimEnd();
  }
  return text.trimEnd();
}

class Parser {
  #lines: Line[];
  #i = 0;
  constructor(lines: Line[]) {
    this.#lines = lines;
  }
  parse(): Yaml {
    const first = this.#lines[0];
    if (!first) return null;
    const v = this.#block(first.indent);
    const rest = this.#lines[this.#i];
    if (rest) throw new SyntaxError(`line ${rest.no}: unexpected indentation`);
    return v;
  }
  #block(indent: number): Yaml {
    const line = this.#lines[this.#i]!;
    return line.text === "-" || line.text.startsWith("- ") ? this.#seq(indent) : this.#map(indent);
  }
  #seq(indent: number): Yaml[] {
    const out: Yaml[] = [];
    for (let l = this.#lines[this.#i]; l && l.indent === indent; l = this.#lines[this.#i]) {
      if (!(l.text === "-" || l.text.startsWith("- "))) break;
      const rest = l.text.slice(1).trimStart();
      if (rest === "") {
        this.#i++;
        const next = this.#lines[this.#i];
        out.push(next && next.indent > indent ? this.#block(next.indent) : null);
      } else if (splitKey(rest)) {
        // "- key: value": the item is a mapping indented past the dash.
        const inner = l.indent + (l.text.length - rest.length);
        this.#lines[this.#i] = { indent: inner, text: rest, no: l.no };
        out.push(this.#map(inner));
      } else {
        out.push(scalar(rest, l.no));
        this.#i++;
      }
    }
    return out;
  }
  #map(indent: number): { [k: string]: Yaml } {
    const out: { [k: string]: Yaml } = {};
    for (let l = this.#lines[this.#i]; l && l.indent === indent; l = this.#lines[this.#i]) {
      if (l.text.startsWith("- ")) break;
      const kv = splitKey(l.text);
      if (!kv) throw new SyntaxError(`line ${l.no}: expected "key: value"`);
      this.#i++;
      const [key, value] = kv;
      if (value !== "") {
        out[key] = scalar(value, l.no);
        continue;
      }
      const next = this.#lines[this.#i];
      if (next && next.indent > indent) out[key] = this.#block(next.indent);
      else if (next && next.indent === indent && next.text.startsWith("- ")) {
        out[key] = this.#seq(indent);
      } else out[key] = null;
    }
    return out;
  }
}

/**
 * Parses a kubeconfig's text: JSON, or block-style YAML.
 *
 * @param text file content
 * @returns the document
 * @throws {SyntaxError} naming the line of an unsupported construct
 */
export function parseYamlSubset(text: string): Yaml {
  if (text.trimStart().startsWith("{")) return JSON.parse(text) as Yaml;
  const lines: Line[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    if (/^\s*(#|$)/.test(raw) || raw === "---") return;
    if (/^\t/.test(raw)) throw new SyntaxError(`line ${i + 1}: tab indentation`);
    const body = stripComment(raw);
    const indent = body.length - body.trimStart().length;
    lines.push({ indent, text: body.trimStart(), no: i + 1 });
  });
  return new Parser(lines).parse();
}

/** Where and how to reach the API server. */
export interface ApiAccess {
  /** Base URL, e.g. `https://10.0.0.1:6443`. */
  server: string;
  /** Bearer token. */
  token?: string;
  /** PEM of the CA that signed the server's certificate. */
  caPem?: string;
  /** Client certificate and key (PEM), for mutual TLS. */
  certPem?: string;
  keyPem?: string;
  /** Skip server certificate verification (kubeconfig `insecure-skip-tls-verify`). */
  insecure?: boolean;
  /** Where these settings came from, for messages. */
  source: string;
}

function obj(v: Yaml | undefined): { [k: string]: Yaml } {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? v : {};
}

function named(list: Yaml | undefined, name: string, field: string): { [k: string]: Yaml } {
  for (const e of Array.isArray(list) ? list : []) {
    if (obj(e).name === name) return obj(obj(e)[field]);
  }
  return {};
}

function b64(s: string): string {
  return new TextDecoder().decode(Uint8Array.from(atob(s), (c) => c.charCodeAt(0)));
}

/**
 * Reads a kubeconfig file into {@linkcode ApiAccess} (current context; token, token
 * file, CA data or file, client certificate data or files). Needs `--allow-read`.
 *
 * @param path the kubeconfig path
 * @param readFile file reader (injected for tests)
 * @returns the access settings
 * @throws {Error} naming the file and what is missing
 */
export async function loadKubeconfig(
  path: string,
  readFile: (p: string) => Promise<string> = (p) => Deno.readTextFile(p),
): Promise<ApiAccess> {
  const text = await readFile(path).catch((err: unknown) => {
    throw new Error(`Cannot read kubeconfig ${path}: ${(err as Error).message}`, { cause: err });
  });
  let doc: { [k: string]: Yaml };
  try {
    doc = obj(parseYamlSubset(text));
  } catch (err) {
    throw new Error(`Cannot parse kubeconfig ${path}: ${(err as Error).message}`, { cause: err });
  }
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/") + 1) : "";
  const rel = (p: string) => p.startsWith("/") ? p : dir + p;
  const ctxName = typeof doc["current-context"] === "string" ? doc["current-context"] : "";
  const firstName = (k: string) => {
    const l = doc[k];
    return Array.isArray(l) && l[0] ? String(obj(l[0]).name ?? "") : "";
  };
  const ctx = named(doc.contexts, ctxName || firstName("contexts"), "context");
  const cluster = named(doc.clusters, String(ctx.cluster ?? firstName("clusters")), "cluster");
  const user = named(doc.users, String(ctx.user ?? firstName("users")), "user");
  const server = typeof cluster.server === "string" ? cluster.server : "";
  if (!server) {
    throw new Error(
      `Cannot use kubeconfig ${path}: no cluster server for context "${ctxName}"; ` +
        `set clusters[].cluster.server`,
    );
  }
  const access: ApiAccess = { server: server.replace(/\/+$/, ""), source: `kubeconfig ${path}` };
  const s = (o: { [k: string]: Yaml }, k: string) => typeof o[k] === "string" ? o[k] : undefined;
  const token = s(user, "token") ??
    (s(user, "tokenFile") ? (await readFile(rel(s(user, "tokenFile")!))).trim() : undefined);
  if (token) access.token = token;
  const ca = s(cluster, "certificate-authority-data");
  const caFile = s(cluster, "certificate-authority");
  if (ca) access.caPem = b64(ca);
  else if (caFile) access.caPem = await readFile(rel(caFile));
  const cert = s(user, "client-certificate-data");
  const certFile = s(user, "client-certificate");
  const key = s(user, "client-key-data");
  const keyFile = s(user, "client-key");
  if (cert) access.certPem = b64(cert);
  else if (certFile) access.certPem = await readFile(rel(certFile));
  if (key) access.keyPem = b64(key);
  else if (keyFile) access.keyPem = await readFile(rel(keyFile));
  if (cluster["insecure-skip-tls-verify"] === true) access.insecure = true;
  return access;
}
