/**
 * The chain reader (common/chain/logReader.ts) set up for the market contract: its events decoded with the market's
 * ABI, and the topic filters that find one job's events by its indexed id. The indexer, the worker and the
 * requester each make one.
 */
import { Interface, toBeHex, zeroPadValue } from "ethers";
import { createLogReader, type LogReader, type LogReaderOptions } from "../chain/logReader.ts";
import { contractArtifact } from "../contracts/artifacts.ts";
import { JOB_EVENTS } from "./fold.ts";

let marketInterface: Interface | undefined;

function market(): Interface {
  marketInterface ??= new Interface(contractArtifact("ProofMarket").abi);
  return marketInterface;
}

export function createMarketReader(o: Omit<LogReaderOptions, "iface">): LogReader {
  return createLogReader({ ...o, iface: market() });
}

/**
 * The eth_getLogs topics of one job's events (all of them, or the named ones): every job event indexes the job id
 * first, and the event's own topic keeps out other events whose first indexed value happens to be the same number.
 */
export function jobTopics(jobId: bigint, events: readonly string[] = JOB_EVENTS): string[][] {
  return [events.map((name) => market().getEvent(name)!.topicHash), [zeroPadValue(toBeHex(jobId), 32)]];
}
