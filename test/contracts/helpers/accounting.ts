/**
 * The market's accounting invariant (ProofMarket's @dev note), checked from outside after a scenario:
 *
 *   token.balanceOf(market) == Σ maxFee of Open and Claimed jobs + Σ (staked + unbonding) + Σ withdrawable
 *
 * over the jobs and accounts a test names (requesters, provers, keepers, every treasury a slash may have paid), and
 * Σ locked == Σ bonds of Claimed jobs. A job's escrow is its current `maxFee` (the top of its price ramp, raised by
 * each reopening's reward share): the market stores only a commitment, so the terms are folded from the job's events
 * by the job book (common/market/jobBook.ts) unless the test passes the job's current terms, and either way they are
 * checked against `jobTermsHash`.
 */
import { expect } from "chai";
import { AbiCoder, keccak256 } from "ethers";
import { JOB_STATUS } from "../../../common/market/jobStatus.ts";
import { currentTerms as foldedTerms } from "../../../common/market/jobBook.ts";
import { createMarketReader } from "../../../common/market/marketReader.ts";
import { deployStakedMarket, type Terms } from "./fixture.ts";

export type AccountLike = string | { address: string };
/** A job by id (its terms read from events), or with the terms the test holds for it now. */
export type JobRef = bigint | { jobId: bigint; terms?: Terms };

/** `JobTerms.hash`: keccak256(abi.encode(terms, verifierCodeHash)), the fields in the struct's order. */
export function termsHash(terms: Terms, verifierCodeHash: string): string {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["tuple(address,uint32,uint40,uint32,uint96,uint96,uint40,uint32,uint96,bytes32)", "bytes32"],
      [
        [
          terms.requester,
          terms.circuitId,
          terms.expiresAt,
          terms.provingWindow,
          terms.minFee,
          terms.maxFee,
          terms.rampStart,
          terms.rampDuration,
          terms.bond,
          terms.inputsCommitment,
        ],
        verifierCodeHash,
      ],
    ),
  );
}

/** A job's terms now: as posted, with the fees of its latest reopening (the job book's fold of its events). */
export async function currentTerms(market: any, jobId: bigint): Promise<Terms> {
  const reader = createMarketReader({ provider: market.runner.provider, address: await market.getAddress() });
  const terms = await foldedTerms(reader, 0, jobId);
  if (terms === null) throw new Error(`job ${jobId}: no JobPosted event`);
  return terms;
}

export interface AccountingSums {
  balance: bigint;
  escrow: bigint;
  stakes: bigint;
  owed: bigint;
  locked: bigint;
  bonds: bigint;
}

/** Asserts the invariant over `jobs` and `accounts` (the current treasury is always included) and returns its sums. */
export async function expectAccounting(
  market: any,
  token: any,
  jobs: readonly JobRef[],
  accounts: readonly AccountLike[],
): Promise<AccountingSums> {
  let escrow = 0n;
  let bonds = 0n;
  for (const ref of jobs) {
    const jobId = typeof ref === "bigint" ? ref : ref.jobId;
    const status = (await market.jobState(jobId)).status as bigint;
    if (status !== JOB_STATUS.Open && status !== JOB_STATUS.Claimed) continue;
    const given = typeof ref === "bigint" ? undefined : ref.terms;
    const terms = given ?? (await currentTerms(market, jobId));
    const { verifierCodeHash } = await market.circuit(terms.circuitId);
    expect(termsHash(terms, verifierCodeHash), `job ${jobId}: the maxFee counted is not the one escrowed`).to.equal(
      await market.jobTermsHash(jobId),
    );
    escrow += terms.maxFee;
    if (status === JOB_STATUS.Claimed) bonds += terms.bond;
  }
  const addresses = new Set(
    [...accounts, await market.treasury()].map((a) => (typeof a === "string" ? a : a.address).toLowerCase()),
  );
  let stakes = 0n;
  let owed = 0n;
  let locked = 0n;
  for (const a of addresses) {
    const acct = await market.account(a);
    expect(acct.locked, `${a}: locked stake exceeds stake`).to.be.lte(acct.staked);
    stakes += acct.staked + acct.unbonding;
    locked += acct.locked;
    owed += await market.withdrawable(a);
  }
  const balance = await token.balanceOf(await market.getAddress());
  expect(balance, "token balance != Σ escrowed maxFees + Σ stakes + Σ withdrawable").to.equal(escrow + stakes + owed);
  expect(locked, "Σ locked != Σ bonds of Claimed jobs").to.equal(bonds);
  return { balance, escrow, stakes, owed, locked, bonds };
}

/**
 * The staked market (fixture.ts) with `check(jobs)`: the invariant over those jobs and every account the fixture
 * names (owner, treasury, requester, provers, keeper, stranger) and `extra` ones.
 */
export async function deployCheckedMarket(ethers: Parameters<typeof deployStakedMarket>[0], extra: AccountLike[] = []) {
  const base = await deployStakedMarket(ethers);
  const { owner, treasury, requester, prover, prover2, keeper, stranger } = base;
  const accounts = [owner, treasury, requester, prover, prover2, keeper, stranger, ...extra];
  const check = (jobs: readonly JobRef[]) => expectAccounting(base.market, base.token, jobs, accounts);
  return { ...base, accounts, check };
}
