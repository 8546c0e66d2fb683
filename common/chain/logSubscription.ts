/**
 * A push channel for a contract's logs: `eth_subscribe("logs")` over a WebSocket. It only says "something
 * happened": callers still read the logs themselves from their checkpoint with eth_getLogs, so a dropped
 * notification or a lost connection costs latency, never an event. A lost connection is re-opened after a pause.
 */
import { WebSocketProvider } from "ethers";
import type { Logger } from "../log.ts";

export interface LogSubscription {
  close(): Promise<void>;
}

export function subscribeToLogs(
  wsUrl: string,
  address: string,
  onLogs: () => void,
  logger: Logger,
  retryMs = 5_000,
): LogSubscription {
  let provider: WebSocketProvider | null = null;
  let closed = false;
  let retry: NodeJS.Timeout | null = null;

  const reopenLater = (reason: string) => {
    if (closed || retry !== null) return;
    logger.warn("log subscription lost; polling until it is re-opened", { wsUrl, reason });
    void provider?.destroy();
    provider = null;
    retry = setTimeout(() => {
      retry = null;
      open();
    }, retryMs);
  };

  function open(): void {
    if (closed) return;
    try {
      const p = new WebSocketProvider(wsUrl, undefined, { staticNetwork: true });
      provider = p;
      const socket = p.websocket as unknown as {
        addEventListener?: (type: string, cb: (e: unknown) => void) => void;
        on?: (type: string, cb: (e: unknown) => void) => void;
      };
      const listen = socket.addEventListener?.bind(socket) ?? socket.on?.bind(socket);
      listen?.("close", () => reopenLater("connection closed"));
      listen?.("error", (e) => reopenLater(String((e as { message?: string }).message ?? e)));
      p.on({ address }, () => onLogs()).then(
        () => logger.info("subscribed to market logs", { wsUrl }),
        (e: Error) => reopenLater(e.message),
      );
    } catch (e) {
      reopenLater((e as Error).message);
    }
  }

  open();
  return {
    async close() {
      closed = true;
      if (retry !== null) clearTimeout(retry);
      if (provider !== null) await provider.destroy();
    },
  };
}
