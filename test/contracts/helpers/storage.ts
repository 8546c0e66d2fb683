/**
 * Writing a job's storage directly, for states that no short sequence of calls reaches (a job's 999th claim, fees
 * grown by 998 reopenings), and seeing which entries a transaction wrote.
 *
 * The build does not ask solc for storage layouts (no `storageLayout` in the build info), so slots are found rather
 * than assumed: a mapping entry `m[jobId]` lives at keccak256(abi.encode(jobId, p)) where p is the mapping's
 * declaration slot, so `findJobSlot` tries p = 0, 1, 2, ... and keeps the slot whose stored word equals the word the
 * market's views say it holds. By declaration order (Ownable's `_owner` 0, Ownable2Step's `_pendingOwner` 1,
 * `_params` 2, `_treasury` 3, `_slashTerms` 4, `_circuitCount` 5, `_circuits` 6) that is p = 7 for `_termsHash`
 * and p = 8 for `_jobState`; the scan keeps the tests right if the layout moves.
 *
 * `JobState` packs into one word from the low-order bits: status (8), attempt (16), claimedAt (40), assignee (160),
 * slashTermsId (24). Its word is only a rich value (found unambiguously) while the job is Claimed.
 */
import type { HardhatEthers } from "@nomicfoundation/hardhat-ethers/types";
import { AbiCoder, keccak256, toBeHex, zeroPadValue } from "ethers";
import { JOB_STATUS } from "../../../common/market/jobStatus.ts";

const MAX_DECLARATION_SLOT = 64;

export interface JobStateWord {
  status: bigint;
  attempt: bigint;
  claimedAt: bigint;
  assignee: string;
  slashTermsId: bigint;
}

export function packJobState(s: JobStateWord): bigint {
  return s.status | (s.attempt << 8n) | (s.claimedAt << 24n) | (BigInt(s.assignee) << 64n) | (s.slashTermsId << 224n);
}

/** The slot of `m[key]` for a mapping `m` declared at slot `p` (a job id, or an address as a number). */
function entrySlot(key: bigint, p: bigint): bigint {
  return BigInt(keccak256(AbiCoder.defaultAbiCoder().encode(["uint256", "uint256"], [key, p])));
}

/** The slot of `m[jobId]` for the mapping `m` whose entry for `jobId` holds `word`. */
export async function findJobSlot(ethers: HardhatEthers, market: any, jobId: bigint, word: bigint): Promise<bigint> {
  const address = await market.getAddress();
  for (let p = 0n; p < BigInt(MAX_DECLARATION_SLOT); p++) {
    const slot = entrySlot(jobId, p);
    if (BigInt(await ethers.provider.getStorage(address, slot)) === word) return slot;
  }
  throw new Error(`job ${jobId}: no mapping entry holds ${toBeHex(word, 32)}`);
}

/**
 * Whether transaction `txHash` wrote (SSTORE, read from the node's trace of it) an entry keyed by `account` of any
 * mapping: a way to see a write that leaves a value as it was, such as a credit of zero.
 */
export async function wroteEntryOf(ethers: HardhatEthers, txHash: string, account: string): Promise<boolean> {
  const trace = await ethers.provider.send("debug_traceTransaction", [txHash]);
  // SSTORE's key is the top of the stack, the last word of a struct log's stack.
  const written = new Set<bigint>(
    trace.structLogs
      .filter((l: { op: string }) => l.op === "SSTORE")
      .map((l: { stack: string[] }) => BigInt(l.stack.at(-1)!)),
  );
  for (let p = 0n; p < BigInt(MAX_DECLARATION_SLOT); p++) if (written.has(entrySlot(BigInt(account), p))) return true;
  return false;
}

async function writeWord(ethers: HardhatEthers, market: any, slot: bigint, word: bigint): Promise<void> {
  await ethers.provider.send("hardhat_setStorageAt", [
    await market.getAddress(),
    toBeHex(slot),
    zeroPadValue(toBeHex(word), 32),
  ]);
}

/** The slot of `_jobState[jobId]`; the job must be Claimed (its word is then unmistakable). */
export async function jobStateSlot(ethers: HardhatEthers, market: any, jobId: bigint): Promise<bigint> {
  const s = await market.jobState(jobId);
  if (s.status !== JOB_STATUS.Claimed) throw new Error(`job ${jobId} must be Claimed to find its state slot`);
  return findJobSlot(ethers, market, jobId, packJobState(s));
}

/** Sets a Claimed job's attempt number, leaving the rest of its state as it is. */
export async function setClaimedAttempt(
  ethers: HardhatEthers,
  market: any,
  jobId: bigint,
  attempt: bigint,
): Promise<void> {
  const slot = await jobStateSlot(ethers, market, jobId);
  const s = await market.jobState(jobId);
  await writeWord(ethers, market, slot, packJobState({ ...s.toObject(), attempt }));
  const after = await market.jobState(jobId);
  if (after.attempt !== attempt || after.status !== JOB_STATUS.Claimed) {
    throw new Error(`job ${jobId}: writing its attempt did not take`);
  }
}

/** Replaces a job's terms commitment (e.g. to fees that many reopenings would have reached). */
export async function setTermsHash(ethers: HardhatEthers, market: any, jobId: bigint, hash: string): Promise<void> {
  const slot = await findJobSlot(ethers, market, jobId, BigInt(await market.jobTermsHash(jobId)));
  await writeWord(ethers, market, slot, BigInt(hash));
  if ((await market.jobTermsHash(jobId)) !== hash) throw new Error(`job ${jobId}: writing its terms hash did not take`);
}
