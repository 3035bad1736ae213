/**
 * The API emulator's HTTP side: Kubernetes REST paths over `Deno.serve` (http, or
 * https with a given certificate), optional bearer-token auth, discovery, OpenAPI,
 * Tables for kubectl, and watch streams with bookmarks, `timeoutSeconds` and
 * `410 Gone`. Test hooks end, drop or stall the watch streams to play an API server
 * restart or a dead peer.
 *
 * @module
 */
import type { Logger } from "../../log/mod.ts";
import { apiVersionOf, type KubeObject, type ResourceDef, RESOURCES } from "../resources.ts";
import { openApiV2, openApiV3Index, openApiV3Spec } from "./openapi.ts";
import { type Matcher, parseFieldSelector, parseLabelSelector } from "./selectors.ts";
import { ApiError, EmulatorStore, type Snapshot, type StoreEvent } from "./store.ts";
import { type IncludeObject, toTable } from "./table.ts";

/** Options of {@linkcode startEmulator}. */
export interface EmulatorOptions {
  /** Address to listen on (default `127.0.0.1`). */
  hostname?: string;
  /** Port (default 0: a free one). */
  port?: number;
  /** Serve https with this PEM certificate chain and key. */
  tls?: { cert: string; key: string };
  /** Require `Authorization: Bearer <token>` (401 otherwise). */
  token?: string;
  /** Events kept for watch resumption (default 1,000). */
  historySize?: number;
  /** Interval of BOOKMARK events on watches that allow them (default 5,000 ms). */
  bookmarkIntervalMs?: number;
  /** First service ClusterIP (default `10.96.0.1`). */
  serviceIpBase?: string;
  /** Load state from this JSON file if present, and save every change to it. */
  stateFile?: string;
  /** Logger for requests (debug) and lifecycle (info). */
  log?: Logger;
}

/** A running emulator. */
export interface Emulator extends AsyncDisposable {
  /** Base URL, e.g. `https://127.0.0.1:43211`. */
  readonly url: string;
  /** The port listened on. */
  readonly port: number;
  /** The object store (for test setup and assertions). */
  readonly store: EmulatorStore;
  /** Number of open watch streams. */
  readonly watchCount: number;
  /** Content types of the PATCH requests received, most recent last (at most 100). */
  readonly patchContentTypes: readonly string[];
  /** Ends every open watch stream cleanly, as an API server does at its watch timeout. */
  closeWatches(): void;
  /**
   * Aborts every watch stream mid-body and closes every connection, then listens
   * again on the same port: an API server restart as clients see it.
   */
  dropConnections(): Promise<void>;
  /** Stops writing to the open watch streams but keeps them open: a half-open peer. */
  stallWatches(): void;
  /** Stops serving and closes every connection. */
  close(): Promise<void>;
}

interface OpenWatch {
  controller: ReadableStreamDefaultController<Uint8Array>;
  stop: () => void;
  clearTimers: () => void;
  stalled: boolean;
}

const enc = new TextEncoder();

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json" },
  });
}

function statusResponse(err: ApiError): Response {
  return json(err.toStatus(), err.code);
}

interface Route {
  resource: ResourceDef;
  namespace?: string;
  name?: string;
  subresource?: "status";
}

/**
 * Parses a resource path.
 *
 * @param segments path segments after `/api/v1` or `/apis/g/v`
 * @param group API group
 * @param version API version
 * @returns the route, or `undefined` when it names no served resource
 */
function parseRoute(segments: string[], group: string, version: string): Route | undefined {
  const find = (plural: string | undefined) =>
    plural === undefined
      ? undefined
      : RESOURCES.find((r) => r.plural === plural && r.group === group && r.version === version);
  let rest = segments;
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length >= 3 && find(rest[2])?.namespaced) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const resource = find(rest[0]);
  if (!resource || rest.length > 3) return undefined;
  if (rest.length === 3 && (rest[2] !== "status" || !resource.hasStatus)) return undefined;
  return {
    resource,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(rest[1] !== undefined ? { name: rest[1] } : {}),
    ...(rest.length === 3 ? { subresource: "status" as const } : {}),
  };
}

function resourceList(group: string, version: string): KubeObject {
  const gv = group ? `${group}/${version}` : version;
  const resources = RESOURCES.filter((r) => r.group === group && r.version === version).flatMap((
    r,
  ) => [
    {
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
      ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
    },
    ...(r.hasStatus
      ? [{
        name: `${r.plural}/status`,
        singularName: "",
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: ["get", "patch", "update"],
      }]
      : []),
  ]);
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: gv,
    resources,
  } as unknown as KubeObject;
}

function apiGroups(): { name: string; versions: { groupVersion: string; version: string }[] }[] {
  const groups = new Map<string, Set<string>>();
  for (const r of RESOURCES) {
    if (!r.group) continue;
    if (!groups.has(r.group)) groups.set(r.group, new Set());
    groups.get(r.group)!.add(r.version);
  }
  return [...groups].map(([name, vs]) => ({
    name,
    versions: [...vs].map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
    preferredVersion: { groupVersion: `${name}/${[...vs][0]}`, version: [...vs][0]! },
  }));
}

function selectorOf(params: URLSearchParams): Matcher {
  const label = parseLabelSelector(params.get("labelSelector") ?? "");
  const field = parseFieldSelector(params.get("fieldSelector") ?? "");
  return (o) => label(o) && field(o);
}

function wantsTable(req: Request): boolean {
  return /as=Table/.test(req.headers.get("accept") ?? "");
}

function includeOf(params: URLSearchParams): IncludeObject {
  const v = params.get("includeObject");
  return v === "None" || v === "Object" ? v : "Metadata";
}

async function readBody(req: Request): Promise<unknown> {
  const text = await req.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(
      400,
      "BadRequest",
      "the request body is not JSON (the emulator speaks JSON only)",
    );
  }
}

/**
 * Starts an emulator.
 *
 * @param opts listening address, TLS, token, limits, state file
 * @returns the running emulator; dispose it (or `close()`) to stop
 * @throws when the port cannot be bound or the state file is not valid JSON
 */
export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const log = opts.log;
  let initial: Snapshot | undefined;
  if (opts.stateFile) {
    try {
      initial = JSON.parse(await Deno.readTextFile(opts.stateFile)) as Snapshot;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) {
        throw new Error(`Cannot load emulator state "${opts.stateFile}": ${String(err)}`, {
          cause: err,
        });
      }
    }
  }
  const stateFile = opts.stateFile;
  const save = stateFile
    ? () => {
      const tmp = `${stateFile}.tmp`;
      Deno.writeTextFileSync(tmp, JSON.stringify(store.snapshot()));
      Deno.renameSync(tmp, stateFile);
    }
    : undefined;
  const store = new EmulatorStore({
    ...(opts.historySize !== undefined ? { historySize: opts.historySize } : {}),
    ...(opts.serviceIpBase ? { serviceIpBase: opts.serviceIpBase } : {}),
    ...(initial ? { initial } : {}),
    ...(save ? { onChange: save } : {}),
  });
  save?.();
  const bookmarkMs = opts.bookmarkIntervalMs ?? 5000;
  const watches = new Set<OpenWatch>();
  const patchTypes: string[] = [];
  const hostname = opts.hostname ?? "127.0.0.1";

  const handleWatch = (req: Request, route: Route, params: URLSearchParams): Response => {
    const r = route.resource;
    const table = wantsTable(req);
    const include = includeOf(params);
    const bookmarks = params.get("allowWatchBookmarks") === "true";
    const timeoutS = Number(params.get("timeoutSeconds") ?? "0");
    const match = selectorOf(params);
    let open: OpenWatch | undefined;
    let unsubscribe = () => {};
    const timers: ReturnType<typeof setTimeout>[] = [];
    const clearTimers = () => {
      for (const t of timers) clearTimeout(t);
    };
    const stop = () => {
      unsubscribe();
      clearTimers();
      if (open) watches.delete(open);
    };
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        open = { controller, stop, clearTimers, stalled: false };
        const w = open;
        const write = (type: string, object: KubeObject) => {
          if (w.stalled) return;
          const obj = table && type !== "BOOKMARK" && type !== "ERROR"
            ? toTable(r, [object], include)
            : object;
          try {
            controller.enqueue(enc.encode(JSON.stringify({ type, object: obj }) + "\n"));
          } catch {
            stop();
          }
        };
        try {
          unsubscribe = store.watch({
            resource: r,
            ...(route.namespace ? { namespace: route.namespace } : {}),
            match,
            send: (ev: StoreEvent) => write(ev.type, ev.object),
          }, params.get("resourceVersion") ?? undefined);
        } catch (err) {
          if (!(err instanceof ApiError)) throw err;
          write("ERROR", err.toStatus());
          controller.close();
          return;
        }
        watches.add(w);
        if (bookmarks) {
          const tick = () => {
            write("BOOKMARK", {
              kind: r.kind,
              apiVersion: apiVersionOf(r),
              metadata: {
                resourceVersion: store.resourceVersion,
                annotations: { "k8s.io/initial-events-end": "true" },
              },
            });
            timers[0] = setTimeout(tick, bookmarkMs);
          };
          timers[0] = setTimeout(tick, bookmarkMs);
        }
        if (timeoutS > 0) {
          timers[1] = setTimeout(() => {
            stop();
            try {
              controller.close();
            } catch { /* already closed */ }
          }, timeoutS * 1000);
        }
      },
      cancel() {
        stop();
      },
    });
    return new Response(body, {
      headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
    });
  };

  const handleResource = async (req: Request, route: Route, url: URL): Promise<Response> => {
    const r = route.resource;
    const p = url.searchParams;
    if (p.get("dryRun")) {
      throw new ApiError(400, "BadRequest", "dryRun is not supported by the ovn-k8s API emulator");
    }
    if (route.name === undefined) {
      if (req.method === "GET") {
        const watch = p.get("watch");
        if (watch === "true" || watch === "1") return handleWatch(req, route, p);
        const { items, resourceVersion } = store.list(r, route.namespace, selectorOf(p));
        if (wantsTable(req)) return json(toTable(r, items, includeOf(p), resourceVersion));
        return json({
          kind: `${r.kind}List`,
          apiVersion: apiVersionOf(r),
          metadata: { resourceVersion },
          items,
        });
      }
      if (req.method === "POST") {
        return json(store.create(r, route.namespace, await readBody(req)), 201);
      }
      throw new ApiError(405, "MethodNotAllowed", `${req.method} is not supported on ${r.plural}`);
    }
    const name = route.name;
    switch (req.method) {
      case "GET": {
        const o = store.get(r, route.namespace, name);
        return json(
          wantsTable(req) ? toTable(r, [o], includeOf(p), o.metadata.resourceVersion) : o,
        );
      }
      case "PUT":
        return json(store.update(r, route.namespace, name, await readBody(req), route.subresource));
      case "PATCH": {
        const ct = (req.headers.get("content-type") ?? "").split(";")[0]!.trim();
        patchTypes.push(ct);
        if (patchTypes.length > 100) patchTypes.shift();
        return json(
          store.patch(r, route.namespace, name, ct, await readBody(req), route.subresource),
        );
      }
      case "DELETE":
        return json(store.delete(r, route.namespace, name));
      default:
        throw new ApiError(
          405,
          "MethodNotAllowed",
          `${req.method} is not supported on ${r.plural}/${name}`,
        );
    }
  };

  const handler = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    log?.debug("request", { method: req.method, path: url.pathname + url.search });
    if (opts.token !== undefined && req.headers.get("authorization") !== `Bearer ${opts.token}`) {
      return statusResponse(new ApiError(401, "Unauthorized", "Unauthorized"));
    }
    const path = url.pathname.replace(/\/+$/, "");
    const seg = path.split("/").filter(Boolean).map(decodeURIComponent);
    try {
      if (path === "/version") {
        return json({
          major: "1",
          minor: "32",
          gitVersion: "v1.32.0-ovn-k8s-emulator",
          platform: "linux/amd64",
        });
      }
      if (path === "/healthz" || path === "/readyz" || path === "/livez") return new Response("ok");
      if (path === "/api") {
        return json({
          kind: "APIVersions",
          versions: ["v1"],
          serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: url.host }],
        });
      }
      if (path === "/apis") {
        return json({ kind: "APIGroupList", apiVersion: "v1", groups: apiGroups() });
      }
      if (path === "/openapi/v2" && /application\/json/.test(req.headers.get("accept") ?? "")) {
        return json(openApiV2());
      }
      if (path === "/openapi/v3") return json(openApiV3Index());
      if (seg[0] === "openapi" && seg[1] === "v3") {
        const spec = openApiV3Spec(seg.slice(2).join("/"));
        if (spec) return json(spec);
      }
      if (seg[0] === "api" && seg[1] === "v1") {
        if (seg.length === 2) return json(resourceList("", "v1"));
        const route = parseRoute(seg.slice(2), "", "v1");
        if (route) return await handleResource(req, route, url);
      }
      if (seg[0] === "apis" && seg[1]) {
        const g = apiGroups().find((x) => x.name === seg[1]);
        if (g && seg.length === 2) {
          return json({ kind: "APIGroup", apiVersion: "v1", ...g });
        }
        if (g && seg[2] && g.versions.some((v) => v.version === seg[2])) {
          if (seg.length === 3) return json(resourceList(seg[1], seg[2]));
          const route = parseRoute(seg.slice(3), seg[1], seg[2]);
          if (route) return await handleResource(req, route, url);
        }
      }
      return statusResponse(
        new ApiError(404, "NotFound", "the server could not find the requested resource"),
      );
    } catch (err) {
      if (err instanceof ApiError) return statusResponse(err);
      if (err instanceof SyntaxError) {
        return statusResponse(new ApiError(400, "BadRequest", err.message));
      }
      log?.error("request failed", { path, error: err });
      return statusResponse(new ApiError(500, "InternalError", String(err)));
    }
  };

  let server: Deno.HttpServer<Deno.NetAddr>;
  const serve = (port: number) =>
    Deno.serve({
      hostname,
      port,
      onListen: () => {},
      ...(opts.tls ? { cert: opts.tls.cert, key: opts.tls.key } : {}),
    }, handler);
  server = serve(opts.port ?? 0);
  const port = server.addr.port;
  const scheme = opts.tls ? "https" : "http";
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  log?.info("API emulator listening", { url: `${scheme}://${host}:${port}` });

  // The listener of a server that was shut down may still hold the port for a moment on a
  // busy machine (seen with parallel test runs: AddrInUse). Same port, so retry briefly.
  const serveAgain = async (p: number): Promise<Deno.HttpServer<Deno.NetAddr>> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        return serve(p);
      } catch (err) {
        if (!(err instanceof Deno.errors.AddrInUse) || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };

  const abortAll = () => {
    for (const w of [...watches]) {
      w.stop();
      try {
        w.controller.error(new Error("API emulator: watch stream dropped on purpose"));
      } catch { /* already closed */ }
    }
  };
  const emulator: Emulator = {
    url: `${scheme}://${host}:${port}`,
    port,
    store,
    get watchCount() {
      return watches.size;
    },
    get patchContentTypes() {
      return patchTypes;
    },
    closeWatches() {
      for (const w of [...watches]) {
        w.stop();
        try {
          w.controller.close();
        } catch { /* already closed */ }
      }
    },
    async dropConnections() {
      abortAll();
      await server.shutdown();
      server = await serveAgain(port);
    },
    stallWatches() {
      for (const w of watches) {
        w.stalled = true;
        w.clearTimers();
      }
    },
    async close() {
      emulator.closeWatches();
      await server.shutdown();
    },
    async [Symbol.asyncDispose]() {
      await emulator.close();
    },
  };
  return emulator;
}
