/**
 * A push channel for a contract's logs: `eth_subscribe("logs")` over a WebSocket (Node's own WebSocket client).
 * It says "something happened", with the log: callers may act on it at once (the worker drops a job another prover
 * was just seen claiming) but still read the logs themselves from their cursor through the chain reader, so a
 * dropped notification or a lost connection costs latency, never an event. "subscribed" is
 * logged once the node has acknowledged the subscription, and a lost connection is re-opened after a pause.
 */
import type { Logger } from "../log.ts";

/** A log as `eth_subscription` delivers it (hex fields, as the node sends them). */
export interface SubscribedLog {
  topics: string[];
  data: string;
  blockNumber?: string;
  removed?: boolean;
}

export interface LogSubscription {
  close(): void;
}

export function subscribeToLogs(
  wsUrl: string,
  address: string,
  onLogs: (log: SubscribedLog | null) => void,
  logger: Logger,
  retryMs = 5_000,
): LogSubscription {
  let socket: WebSocket | null = null;
  let closed = false;
  let retry: NodeJS.Timeout | null = null;

  const reopenLater = (reason: string) => {
    if (closed || retry !== null) return;
    logger.warn("log subscription lost; polling until it is re-opened", { wsUrl, reason });
    socket = null;
    retry = setTimeout(() => {
      retry = null;
      open();
    }, retryMs);
  };

  function open(): void {
    if (closed) return;
    let ws: WebSocket;
    try {
      ws = new WebSocket(wsUrl);
    } catch (e) {
      return reopenLater((e as Error).message);
    }
    socket = ws;
    ws.addEventListener("open", () =>
      ws.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_subscribe", params: ["logs", { address }] })),
    );
    ws.addEventListener("message", (event) => {
      let message: {
        id?: number;
        result?: unknown;
        error?: { message?: string };
        method?: string;
        params?: { result?: SubscribedLog };
      };
      try {
        message = JSON.parse(String(event.data));
      } catch {
        return;
      }
      if (message.id === 1) {
        if (message.error) {
          logger.warn("the node refused the log subscription; polling only", { wsUrl, error: message.error.message });
          closed = true;
          ws.close();
        } else logger.info("subscribed to market logs", { wsUrl });
      } else if (message.method === "eth_subscription") {
        const log = message.params?.result;
        onLogs(log !== undefined && Array.isArray(log.topics) && typeof log.data === "string" ? log : null);
      }
    });
    ws.addEventListener("close", () => {
      if (socket === ws) reopenLater("connection closed");
    });
    ws.addEventListener("error", () => {
      if (socket === ws) reopenLater("connection error");
    });
  }

  open();
  return {
    close() {
      closed = true;
      if (retry !== null) clearTimeout(retry);
      socket?.close();
    },
  };
}
