/**
 * Serves a {@linkcode MetricsRegistry} on `GET /metrics` (Prometheus text format) and
 * `GET /healthz`. Needs `--allow-net` for the listen address.
 *
 * @module
 */
import type { Logger } from "../log/mod.ts";
import type { MetricsRegistry } from "./metrics.ts";

/** Default `--metrics-address` of the watcher (loopback only). */
export const DEFAULT_METRICS_ADDRESS = "127.0.0.1:9476";

/** A running metrics endpoint. */
export interface MetricsServer extends AsyncDisposable {
  /** The address listened on, `host:port`. */
  readonly address: string;
  /** Stops serving. */
  close(): Promise<void>;
}

/**
 * Parses `host:port` (IPv6 as `[::1]:9476`; port 0 picks a free one).
 *
 * @param text the address
 * @returns host and port
 * @throws {RangeError} naming the value when it is not `host:port`
 */
export function parseListenAddress(text: string): { hostname: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) {
    throw new RangeError(
      `Cannot use --metrics-address "${text}": expected HOST:PORT, e.g. ${DEFAULT_METRICS_ADDRESS}`,
    );
  }
  return { hostname: m[1]!.replace(/^\[|\]$/g, ""), port };
}

/**
 * Starts the endpoint.
 *
 * @param registry what to serve
 * @param address `host:port`
 * @param log where the listen line goes
 * @returns the server
 * @throws {RangeError} for a malformed address; `Deno.errors.AddrInUse` when taken
 */
export function serveMetrics(
  registry: MetricsRegistry,
  address: string,
  log?: Logger,
): MetricsServer {
  const { hostname, port } = parseListenAddress(address);
  const server = Deno.serve({ hostname, port, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (req.method === "GET" && path === "/metrics") {
      return new Response(registry.render(), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      });
    }
    if (req.method === "GET" && path === "/healthz") return new Response("ok\n");
    return new Response("not found\n", { status: 404 });
  });
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  const bound = `${host}:${server.addr.port}`;
  log?.info("metrics served", { url: `http://${bound}/metrics` });
  const close = async () => {
    await server.shutdown();
  };
  return { address: bound, close, [Symbol.asyncDispose]: close };
}
