// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Circuit, CircuitRegistration} from "../types/Circuit.sol";
import {CircuitId, JobId} from "../types/JobId.sol";
import {JobState} from "../types/JobState.sol";
import {JobTerms} from "../types/JobTerms.sol";
import {MarketParams, SlashTerms} from "../types/MarketParams.sol";
import {ProverAccount} from "../types/ProverAccount.sol";
import {IProofMarketErrors} from "./IProofMarketErrors.sol";
import {IProofMarketEvents} from "./IProofMarketEvents.sol";

/// @notice What a requester supplies to post a job.
struct JobRequest {
    CircuitId circuitId;
    /// The price offered at and before `rampStart` (may be 0).
    uint96 minFee;
    /// The most the requester will pay: the price from the ramp's end on, escrowed at posting. `minFee == maxFee` is
    /// a fixed fee.
    uint96 maxFee;
    /// When the price starts to rise; 0 means at posting (the block's timestamp).
    uint40 rampStart;
    /// Seconds the price takes to rise from `minFee` to `maxFee`.
    uint32 rampDuration;
    uint96 bond;
    uint32 provingWindow;
    uint40 expiresAt;
    /// keccak256(abi.encodePacked(uint256[] publicInputs)), in circuit order.
    bytes32 inputsCommitment;
    /// sha256 of the inputs document at `inputsURI`.
    bytes32 inputsHash;
    string inputsURI;
}

/// @title ProofMarket
/// @notice A market for SNARK proofs. Requesters escrow a fee per job; provers stake an ERC-20 bond, claim a job
///         (locking part of their stake until a deadline), and are paid when a proof of the job's public inputs
///         verifies on chain. A claim that misses its deadline is slashed by anyone and the job reopens.
///         One ERC-20 token is used for fees and stakes; all balances are held by this contract and move only by
///         the job state machine. The owner can pause new posts and claims and tune parameters within hard caps,
///         and can never move escrowed fees, stakes or withdrawable balances.
interface IProofMarket is IProofMarketErrors, IProofMarketEvents {
    // ------------------------------------------------------------------ circuits

    /// @notice Registers a circuit; anyone may. Requesters choose the circuit (and so trust its verifier); provers
    ///         choose which circuits they serve. The verifiers' code hashes are recorded: once the code at either
    ///         address changes, the circuit's jobs can no longer be claimed or proved (with that verifier), and a
    ///         claim held on it is released without slash by `abandon`, `reassign` or `expire`.
    /// @return circuitId the new circuit's id
    function registerCircuit(CircuitRegistration calldata registration) external returns (CircuitId circuitId);

    // ------------------------------------------------------------------ staking

    /// @notice Adds `amount` tokens (pulled from the caller) to the caller's bonded stake.
    function stake(uint96 amount) external;

    /// @notice Moves `amount` of free stake into unbonding; it can be withdrawn with `completeUnstake` once the
    ///         unbonding delay has passed. A new request adds to what is unbonding and restarts the delay.
    function requestUnstake(uint96 amount) external;

    /// @notice Pays out the caller's unbonded stake after the delay.
    function completeUnstake() external;

    /// @notice Pays the caller's withdrawable balance (fees earned, refunds, keeper and slash shares) to `to`.
    function withdraw(address to) external;

    // ------------------------------------------------------------------ jobs

    /// @notice Posts a job, pulling `request.maxFee` from the caller into escrow. The job is offered at a price that
    ///         rises from `minFee` to `maxFee` over its ramp (see `JobTerms.priceAt`).
    /// @return jobId the new job's id
    function postJob(JobRequest calldata request) external returns (JobId jobId);

    /// @notice Claims an Open job at its price now (`JobTerms.priceAt`), which the claim locks: a proof is paid that
    ///         price. Locks `terms.bond` of the caller's free stake and sets the deadline to `now + provingWindow`,
    ///         capped at the job's expiry. The claim is slashed, if ever, by the slash terms in force now
    ///         (`slashTermsId`), whatever the owner sets later.
    /// @param terms the job's current terms (from `JobPosted`, with the fees and ramp start of the latest re-opening)
    function claim(JobId jobId, JobTerms calldata terms) external;

    /// @notice Submits the assignee's proof. Checks that the public-input part of `publicSignals` matches the
    ///         job's commitment, verifies the proof with the circuit's verifier, records the outputs, credits the
    ///         locked price to the caller, credits the rest of the escrow (`maxFee` - price) to the requester and
    ///         releases the caller's bond.
    /// @param proof the proof in the encoding of the circuit's proof system (see `SnarkjsVerifierCall`)
    /// @param publicSignals outputs then inputs, as snarkjs lists them
    function submitProof(
        JobId jobId,
        JobTerms calldata terms,
        bytes calldata proof,
        uint256[] calldata publicSignals
    ) external;

    /// @notice Submits proofs for several jobs of one circuit, all claimed by the caller. Groth16 circuits with a
    ///         batch verifier are checked with one pairing product; others proof by proof. All or nothing.
    /// @param proofs the proofs, concatenated in job order (each of its proof system's length)
    /// @param publicSignals the public signals of each proof, concatenated in job order
    function submitProofs(
        JobId[] calldata jobIds,
        JobTerms[] calldata terms,
        bytes calldata proofs,
        uint256[] calldata publicSignals
    ) external;

    /// @notice After a claim's deadline, anyone may slash the assignee's bond (keeper share to the caller, a share
    ///         added to both ends of the price ramp, the treasury share, the rest to the requester) and reopen the job
    ///         at the price the failed claim locked plus that share, the ramp paused for the time the claim held it.
    function reassign(JobId jobId, JobTerms calldata terms) external;

    /// @notice The assignee hands the job back before its deadline, for a smaller slash than `reassign`.
    function abandon(JobId jobId, JobTerms calldata terms) external;

    /// @notice The requester withdraws an Open job; the escrow (`maxFee`) becomes withdrawable by the requester.
    function cancel(JobId jobId, JobTerms calldata terms) external;

    /// @notice After a job's expiry anyone may close it: its escrow (`maxFee`) is refunded to the requester; a claim still held
    ///         is slashed (keeper share to the caller, the reward share to the requester too).
    function expire(JobId jobId, JobTerms calldata terms) external;

    // ------------------------------------------------------------------ administration

    /// @notice Sets parameters; each is checked against its hard cap (and `minBond` against MIN_BOND_FLOOR). Owner
    ///         only. New slash shares apply to claims made from now on, never to claims already held.
    function setParams(MarketParams calldata params) external;

    /// @notice Sets where the treasury share of slashes of claims made from now on is credited. Owner only.
    function setTreasury(address treasury) external;

    /// @notice Stops (or resumes) new posts and claims. Owner only. Submissions, slashes, refunds, unstaking and
    ///         withdrawals are never paused.
    function setPaused(bool paused) external;

    // ------------------------------------------------------------------ views

    /// @notice The ERC-20 used for fees and stakes.
    function token() external view returns (IERC20);
    /// @notice Seconds between `requestUnstake` and `completeUnstake`; longer than any proving window.
    function unbondingDelay() external view returns (uint32);
    /// @notice Current parameters and pause flag.
    function params() external view returns (MarketParams memory);
    /// @notice The id of the slash terms new claims are made under (a claim keeps its id: `jobState`).
    function slashTermsId() external view returns (uint24);
    /// @notice The slash shares, abandon fraction and treasury of slash terms `id`.
    function slashTerms(uint24 id) external view returns (SlashTerms memory);
    /// @notice Where the treasury share of slashes is credited.
    function treasury() external view returns (address);
    /// @notice A registered circuit (all zero if `circuitId` is unknown).
    function circuit(CircuitId circuitId) external view returns (Circuit memory);
    /// @notice Number of registered circuits; ids run from 1 to this.
    function circuitCount() external view returns (uint32);
    /// @notice Number of posted jobs; ids run from 1 to this.
    function jobCount() external view returns (uint256);
    /// @notice keccak256(abi.encode(terms, verifierCodeHash)) of an active job's current terms, bound to its circuit's
    ///         verifier code at registration; zero once it is final.
    function jobTermsHash(JobId jobId) external view returns (bytes32 termsHash);
    /// @notice A job's status, attempt, claim second and assignee. The claim's deadline and locked price follow from
    ///         its terms: `JobTerms.deadlineFrom` / `priceAt`, and `JobClaimed` carries both. A proof clears the job's
    ///         storage (the refunds pay for its bookkeeping), so a Proved job reads as status Proved with the other
    ///         fields zero: its `JobProved` event names the prover, the attempt and the price paid. Cancelled and
    ///         Expired jobs keep their last attempt and assignee.
    function jobState(JobId jobId) external view returns (JobState memory);
    /// @notice A prover's staked, locked and unbonding amounts.
    function account(address prover) external view returns (ProverAccount memory);
    /// @notice Stake a claim can lock or `requestUnstake` can take: staked - locked.
    function freeStake(address prover) external view returns (uint96);
    /// @notice What `withdraw` would pay `account` now.
    function withdrawable(address account) external view returns (uint256);
}
