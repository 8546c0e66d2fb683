/**
 * Structured logs: one JSON object per line on stderr. Fields whose names suggest secrets are redacted, so a key
 * passed by mistake never reaches a log.
 */
export type Level = "debug" | "info" | "warn" | "error";
export type Fields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  child(fields: Fields): Logger;
}

const SECRET = /key|password|secret|mnemonic/i;
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function clean(value: unknown, name = ""): unknown {
  if (SECRET.test(name)) return "[redacted]";
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return { message: value.message, ...("code" in value ? { code: value.code } : {}) };
  if (Array.isArray(value)) return value.map((v) => clean(v));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clean(v, k)]));
  }
  return value;
}

export function createLogger(
  base: Fields = {},
  minLevel: Level = (process.env.PM_LOG_LEVEL as Level) ?? "info",
): Logger {
  const write = (level: Level, msg: string, fields: Fields = {}) => {
    if (ORDER[level] < ORDER[minLevel]) return;
    process.stderr.write(
      `${JSON.stringify({ time: new Date().toISOString(), level, msg, ...(clean({ ...base, ...fields }) as Fields) })}\n`,
    );
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (fields) => createLogger({ ...base, ...fields }, minLevel),
  };
}
