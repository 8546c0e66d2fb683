/**
 * A Logger (common/log.ts) that keeps its lines in memory instead of writing them, for tests of code that logs.
 */
import type { Fields, Logger } from "../../common/log.ts";

export interface CapturedLine {
  level: "debug" | "info" | "warn" | "error";
  msg: string;
  fields: Fields;
}

/** The logger and the lines it has logged so far (a child logs into the same list, with its parent's fields). */
export function capturingLogger(): { logger: Logger; lines: CapturedLine[] } {
  const lines: CapturedLine[] = [];
  const make = (base: Fields): Logger => {
    const at =
      (level: CapturedLine["level"]) =>
      (msg: string, fields: Fields = {}) =>
        lines.push({ level, msg, fields: { ...base, ...fields } });
    return {
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return { logger: make({}), lines };
}
