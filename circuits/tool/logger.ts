/**
 * A snarkjs-compatible logger that shows progress of long steps (snarkjs reports progress at debug level) with
 * the elapsed time, and throttles the flood of per-chunk lines to one every two seconds per step.
 */
export interface SnarkjsLogger {
  info(msg: string): void;
  debug(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export function progressLogger(prefix: string): SnarkjsLogger {
  const started = Date.now();
  const lastByStep = new Map<string, number>();
  const stamp = () => `[${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${prefix}`;
  return {
    info: (msg) => console.log(`${stamp()} ${msg}`),
    debug: (msg) => {
      // "Applying key: L Section: 1000/6000" -> step "Applying key: L Section"
      const step = msg.replace(/[\d/]+\s*$/, "");
      const now = Date.now();
      if (now - (lastByStep.get(step) ?? 0) < 2000) return;
      lastByStep.set(step, now);
      console.log(`${stamp()} ${msg}`);
    },
    warn: (msg) => console.warn(`${stamp()} warning: ${msg}`),
    error: (msg) => console.error(`${stamp()} error: ${msg}`),
  };
}
