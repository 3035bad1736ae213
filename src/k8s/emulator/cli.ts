/**
 * Runs the API emulator as its own process (for the sandbox and tests that kill it):
 *
 * ```sh
 * deno run --allow-all src/k8s/emulator/cli.ts [--listen HOST:PORT] [--tls-dir DIR [--san ADDR]...]
 *     [--token TOKEN] [--state-file FILE] [--history-size N] [--bookmark-interval-ms MS]
 *     [--port-file FILE]
 * ```
 *
 * Prints the URL on stdout when listening; with `--tls-dir` the CA is `DIR/ca.crt`
 * (generated with openssl when absent). Stops on SIGINT/SIGTERM.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { ProcessRunner } from "../../exec/mod.ts";
import { createLogger, printOut } from "../../log/mod.ts";
import { type Emulator, startEmulator } from "./server.ts";
import { ensureEmulatorPki } from "./tls.ts";

/** Usage text of the emulator command. */
export const EMULATOR_USAGE =
  "Usage: emulator [--listen HOST:PORT] [--tls-dir DIR [--san ADDR]...] [--token TOKEN]\n" +
  "                [--state-file FILE] [--history-size N] [--bookmark-interval-ms MS] [--port-file FILE]";

function parseListen(v: string): { hostname: string; port: number } {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(v);
  if (!m || Number(m[2]) > 65535) {
    throw new TypeError(`Cannot parse --listen "${v}": expected HOST:PORT, e.g. 127.0.0.1:6443`);
  }
  return { hostname: m[1] || "127.0.0.1", port: Number(m[2]) };
}

function positiveInt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) {
    throw new TypeError(`Cannot use --${name} "${v}": not a positive integer`);
  }
  return n;
}

/**
 * Parses the command line and starts the emulator.
 *
 * @param args command-line arguments
 * @returns the running emulator
 * @throws {TypeError} on bad arguments
 */
export async function emulatorFromArgs(args: string[]): Promise<Emulator> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      listen: { type: "string", default: "127.0.0.1:0" },
      "tls-dir": { type: "string" },
      san: { type: "string", multiple: true },
      token: { type: "string" },
      "state-file": { type: "string" },
      "history-size": { type: "string" },
      "bookmark-interval-ms": { type: "string" },
      "port-file": { type: "string" },
    },
  });
  const { hostname, port } = parseListen(values.listen);
  const tlsDir = values["tls-dir"];
  const pki = tlsDir
    ? await ensureEmulatorPki(new ProcessRunner(), tlsDir, [hostname, ...(values.san ?? [])])
    : undefined;
  const historySize = positiveInt("history-size", values["history-size"]);
  const bookmark = positiveInt("bookmark-interval-ms", values["bookmark-interval-ms"]);
  const emu = await startEmulator({
    hostname,
    port,
    log: createLogger("k8s-emulator"),
    ...(pki ? { tls: { cert: pki.certPem, key: pki.keyPem } } : {}),
    ...(values.token !== undefined ? { token: values.token } : {}),
    ...(values["state-file"] ? { stateFile: values["state-file"] } : {}),
    ...(historySize ? { historySize } : {}),
    ...(bookmark ? { bookmarkIntervalMs: bookmark } : {}),
  });
  if (values["port-file"]) {
    const tmp = `${values["port-file"]}.tmp`;
    await Deno.writeTextFile(tmp, `${emu.port}\n`);
    await Deno.rename(tmp, values["port-file"]);
  }
  return emu;
}

if (import.meta.main) {
  let emu: Emulator;
  try {
    emu = await emulatorFromArgs(Deno.args);
  } catch (err) {
    createLogger("k8s-emulator").error(err instanceof Error ? err.message : String(err));
    printOut(EMULATOR_USAGE);
    Deno.exit(2);
  }
  printOut(emu.url);
  const stop = async () => {
    await emu.close();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
}
