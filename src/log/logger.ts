/**
 * Structured logger: one line per event on stderr (or a given sink), OVS-style
 * `time|level|module|message key=value...`. The only module allowed to use `console`.
 *
 * @module
 */

/** Severity levels, lowest first. */
export type LogLevel = "debug" | "info" | "warn" | "error";

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Field values attached to a log line. */
export type LogFields = Record<string, unknown>;

/** Where finished lines go. */
export type LogSink = (line: string) => void;

/** A logger bound to a module name. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger for a sub-module that shares level and sink. */
  child(module: string): Logger;
}

/** Options for {@linkcode createLogger}. */
export interface LoggerOptions {
  /** Minimum level printed; default `info`, or `OVN_K8S_LOG_LEVEL`. */
  level?: LogLevel;
  /** Where lines go; default stderr. */
  sink?: LogSink;
}

/** Keys whose values never reach a log line. */
const SECRET_KEYS = /token|password|secret|authorization|private.?key/i;

function render(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.message);
  if (typeof value === "string") return /[\s"=|]/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value) ?? String(value);
}

/**
 * Formats one log line. Exported for tests.
 *
 * @param level severity
 * @param module module name
 * @param msg the message
 * @param fields extra fields; secret-looking keys are redacted
 * @returns the line without a trailing newline
 */
export function formatLine(
  level: LogLevel,
  module: string,
  msg: string,
  fields?: LogFields,
): string {
  let line = `${new Date().toISOString()}|${level}|${module}|${msg}`;
  for (const [k, v] of Object.entries(fields ?? {})) {
    if (v === undefined) continue;
    line += ` ${k}=${SECRET_KEYS.test(k) ? "<redacted>" : render(v)}`;
  }
  return line;
}

function envLevel(): LogLevel | undefined {
  try {
    const v = Deno.env.get("OVN_K8S_LOG_LEVEL");
    return v && v in LEVELS ? v as LogLevel : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Creates a logger.
 *
 * @param module module name printed on every line
 * @param opts level and sink
 * @returns the logger
 */
export function createLogger(module: string, opts: LoggerOptions = {}): Logger {
  const min = LEVELS[opts.level ?? envLevel() ?? "info"];
  const sink: LogSink = opts.sink ?? ((line) => console.error(line));
  const make = (mod: string): Logger => {
    const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
      if (LEVELS[level] >= min) sink(formatLine(level, mod, msg, fields));
    };
    return {
      debug: (m, f) => emit("debug", m, f),
      info: (m, f) => emit("info", m, f),
      warn: (m, f) => emit("warn", m, f),
      error: (m, f) => emit("error", m, f),
      child: (sub) => make(`${mod}.${sub}`),
    };
  };
  return make(module);
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = createLogger("silent", { sink: () => {} });

/** Writes text to stdout: the one sanctioned way for CLI output outside logs. */
export function printOut(text: string): void {
  console.log(text);
}

/** Writes text to stderr: usage and fatal errors of the CLI. */
export function printErr(text: string): void {
  console.error(text);
}
