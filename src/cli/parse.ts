/**
 * Thin wrapper over `node:util` parseArgs that turns every parse failure into a
 * {@linkcode UsageError} carrying the command's usage text.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { UsageError } from "./errors.ts";

/** One option: string or boolean, optionally repeatable, with a help line. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  multiple?: boolean;
  /** Help text; the value placeholder for strings is taken from `arg`. */
  help: string;
  /** Placeholder printed in help for string options. */
  arg?: string;
}

/** A command's option table. */
export type OptionTable = Record<string, OptionSpec>;

/** Raw option values as parseArgs returns them. */
export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** What {@linkcode parseCommand} returns, with typed accessors. */
export class Parsed {
  /**
   * @param values option values (plain object)
   * @param positionals positional arguments
   */
  constructor(readonly values: OptionValues, readonly positionals: string[]) {}
  /** A string option's value, or `undefined` when absent. */
  string(name: string): string | undefined {
    const v = this.values[name];
    return typeof v === "string" ? v : undefined;
  }
  /** A boolean option's value (false when absent). */
  flag(name: string): boolean {
    return this.values[name] === true;
  }
  /** A repeatable string option's values. */
  strings(name: string): string[] {
    const v = this.values[name];
    if (Array.isArray(v)) return v.filter((x): x is string => typeof x === "string");
    return typeof v === "string" ? [v] : [];
  }
}

/**
 * Renders the usage text of a command.
 *
 * @param synopsis first line, e.g. `ovn-k8s master-init [options]`
 * @param summary one sentence about the command
 * @param options the option table
 * @returns multi-line usage text
 */
export function renderUsage(synopsis: string, summary: string, options: OptionTable): string {
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ""}--${name}${
      o.type === "string" ? ` ${o.arg ?? "VALUE"}` : ""
    }`;
    return `  ${flag.padEnd(34)} ${o.help}`;
  });
  return [`Usage: ${synopsis}`, "", summary, ...(rows.length ? ["", "Options:", ...rows] : [])]
    .join(
      "\n",
    );
}

/**
 * Parses a command's arguments strictly.
 *
 * @param args the arguments after the subcommand
 * @param options the option table
 * @param usage usage text attached to errors
 * @param allowPositionals whether positional arguments are accepted
 * @returns option values (plain object, not null-prototype) and positionals
 * @throws {UsageError} on unknown flags, missing values, or unexpected positionals
 */
export function parseCommand(
  args: string[],
  options: OptionTable,
  usage: string,
  allowPositionals = false,
): Parsed {
  const config: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> =
    {};
  for (const [name, o] of Object.entries(options)) {
    config[name] = {
      type: o.type,
      ...(o.short ? { short: o.short } : {}),
      ...(o.multiple ? { multiple: true } : {}),
    };
  }
  try {
    const { values, positionals } = parseArgs({
      args,
      options: config,
      strict: true,
      allowPositionals,
    });
    return new Parsed({ ...values }, positionals);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new UsageError(msg, usage);
  }
}
