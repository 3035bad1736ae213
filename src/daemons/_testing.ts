/**
 * Fakes for unit tests of daemons (and of code built on them): a runner that records
 * argv and answers from rules, and a process table held in memory.
 *
 * @module
 */
import { CommandError, type Runner, type RunOptions, type RunResult } from "../exec/mod.ts";
import type { Processes } from "./process.ts";

/** One rule: argv lines containing `match` get `result` (or what `fn` returns). */
export interface FakeRule {
  match: string | RegExp;
  result?: Partial<RunResult>;
  fn?: (argv: string[], opts: RunOptions) => Partial<RunResult> | void;
}

/** A runner that records every call and answers from rules (default: exit 0, no output). */
export class FakeRunner implements Runner {
  /** Every argv run, in order. */
  calls: string[][] = [];
  /** Every option object, in order. */
  options: RunOptions[] = [];
  /** @param rules first matching rule wins */
  constructor(public rules: FakeRule[] = []) {}
  /** @inheritdoc */
  run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    const a = [...argv];
    this.calls.push(a);
    this.options.push(opts);
    const line = a.join(" ");
    const rule = this.rules.find((r) =>
      typeof r.match === "string" ? line.includes(r.match) : r.match.test(line)
    );
    const res = {
      code: 0,
      stdout: "",
      stderr: "",
      ...rule?.result,
      ...(rule?.fn?.(a, opts) ?? {}),
    };
    if (res.code !== 0 && opts.check !== false) {
      return Promise.reject(new CommandError(a, res.code, res.stderr));
    }
    return Promise.resolve(res);
  }
  /** The calls whose argv line contains `text`. */
  callsWith(text: string): string[][] {
    return this.calls.filter((c) => c.join(" ").includes(text));
  }
}

/** An in-memory process table: pid -> argv, plus files (pidfiles). */
export class FakeProcesses implements Processes {
  procs = new Map<number, string[]>();
  files = new Map<string, string>();
  signals: Array<[number, Deno.Signal]> = [];
  /** Whether SIGTERM ends a process (false: only SIGKILL does). */
  termKills = true;
  /** Adds a running process that wrote its pidfile. */
  spawn(pid: number, pidfile: string, argv: string[] = []): void {
    this.procs.set(pid, [...argv, `--pidfile=${pidfile}`]);
    this.files.set(pidfile, `${pid}\n`);
  }
  alive(pid: number): Promise<boolean> {
    return Promise.resolve(this.procs.has(pid));
  }
  cmdline(pid: number): Promise<string[] | undefined> {
    return Promise.resolve(this.procs.get(pid));
  }
  kill(pid: number, signal: Deno.Signal): void {
    this.signals.push([pid, signal]);
    if (signal === "SIGKILL" || (signal === "SIGTERM" && this.termKills)) this.procs.delete(pid);
  }
  readFile(path: string): Promise<string | undefined> {
    return Promise.resolve(this.files.get(path));
  }
}
