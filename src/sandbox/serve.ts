/**
 * The tiny server that sandbox pods run (`ovn-k8s sandbox serve`): HTTP answering every
 * request with the pod's name, and a UDP echo that answers `NAME DATAGRAM`. So the
 * sandbox's demo pods and the end-to-end tests need nothing but this binary.
 *
 * @module
 */
import dgram from "node:dgram";
import type { Logger } from "../log/mod.ts";

/** Options of {@linkcode serve}. */
export interface ServeOptions {
  /** TCP port of the HTTP server (0: none). */
  httpPort: number;
  /** UDP echo port (0: none). */
  udpPort: number;
  /** What the answers carry (the pod name). */
  name: string;
  /** Address to bind (default `0.0.0.0`). */
  hostname?: string;
  signal: AbortSignal;
  log: Logger;
}

/**
 * Serves until `signal` aborts.
 *
 * @param o ports, name, signal
 */
export async function serve(o: ServeOptions): Promise<void> {
  const hostname = o.hostname ?? "0.0.0.0";
  const done: Promise<unknown>[] = [];
  if (o.httpPort) {
    const server = Deno.serve(
      { hostname, port: o.httpPort, signal: o.signal, onListen: () => {} },
      (req) => new Response(`${o.name}\n`, { headers: { "x-path": new URL(req.url).pathname } }),
    );
    done.push(server.finished);
    o.log.info("http listening", { port: o.httpPort });
  }
  if (o.udpPort) {
    const sock = dgram.createSocket("udp4");
    sock.on("message", (msg, rinfo) => {
      sock.send(`${o.name} ${new TextDecoder().decode(msg)}`, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => sock.bind(o.udpPort, hostname, () => resolve()));
    o.log.info("udp echo listening", { port: o.udpPort });
    done.push(
      new Promise<void>((resolve) => {
        const close = () => sock.close(() => resolve());
        if (o.signal.aborted) close();
        else o.signal.addEventListener("abort", close, { once: true });
      }),
    );
  }
  await Promise.all(done);
}
