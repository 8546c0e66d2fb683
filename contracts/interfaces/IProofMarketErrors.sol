// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CircuitId, JobId} from "../types/JobId.sol";
import {JobStatus} from "../types/JobState.sol";

/// @notice Every way a market call can be refused; each names the condition and carries the values involved.
interface IProofMarketErrors {
    // --- parameters and administration
    error ParamAboveCap(string param, uint256 value, uint256 cap);
    error ParamBelowFloor(string param, uint256 value, uint256 floor);
    error ProvingWindowNotBelowUnbondingDelay(uint32 maxProvingWindow, uint32 unbondingDelay);
    error InvalidProvingWindowBounds(uint32 minProvingWindow, uint32 maxProvingWindow);
    error ZeroAddress(string what);
    error MarketPaused();

    // --- tokens
    /// The token moved a different amount than asked (fee-on-transfer or rebasing tokens are not supported).
    error TokenTransferMismatch(uint256 expected, uint256 received);
    error ZeroAmount();
    /// An amount would not fit the market's accounting (uint96), now or after every escalation it can undergo.
    error AmountTooLarge(string what, uint256 amount, uint256 max);

    // --- staking
    error InsufficientStake(address prover, uint256 free, uint256 needed);
    error NothingUnbonding(address prover);
    error UnbondingNotReady(address prover, uint40 readyAt);
    error NothingToWithdraw(address account);

    // --- circuits
    error UnknownCircuit(CircuitId circuitId);
    error VerifierHasNoCode(address verifier);
    /// An EIP-7702 delegated account: its code can be re-pointed by its owner, so it cannot be a circuit's verifier.
    error VerifierIsDelegatedAccount(address verifier);
    /// The batch verifier did not answer `nPublic()`.
    error NotABatchVerifier(address batchVerifier);
    error InvalidSignalCounts(uint16 nPublicOutputs, uint16 nPublicInputs);
    error BatchVerifierNotGroth16();
    error BatchVerifierSignalCount(uint256 batchVerifierPublic, uint256 circuitPublic);
    /// The code at a circuit's verifier is no longer the code registered: its jobs cannot be claimed or proved, and
    /// a claim already held on it is released without slash.
    error VerifierCodeChanged(CircuitId circuitId, address verifier, bytes32 registered, bytes32 current);

    // --- jobs
    error UnknownJob(JobId jobId);
    error TermsMismatch(JobId jobId);
    error WrongStatus(JobId jobId, JobStatus status);
    error ProvingWindowOutOfBounds(uint32 provingWindow, uint32 min, uint32 max);
    error BondBelowMinimum(uint96 bond, uint96 minBond);
    /// A job's price ramp must rise: `minFee` ≤ `maxFee`.
    error FeeRangeInverted(uint96 minFee, uint96 maxFee);
    error ExpiryTooSoon(uint40 expiresAt, uint256 earliest);
    /// A job may expire at most MAX_JOB_LIFETIME after its posting.
    error ExpiryTooLate(uint40 expiresAt, uint256 latest);
    /// A job's price ramp must end by its expiry: `rampStart + rampDuration` ≤ `expiresAt`.
    error RampPastExpiry(uint256 rampEnd, uint40 expiresAt);
    error JobPastExpiry(JobId jobId, uint40 expiresAt);
    error JobNotExpired(JobId jobId, uint40 expiresAt);
    error NotRequester(JobId jobId, address caller);
    error NotAssignee(JobId jobId, address caller, address assignee);
    error ClaimExpired(JobId jobId, uint40 deadline);
    error ClaimStillLive(JobId jobId, uint40 deadline);
    error AssigneeCannotReassign(JobId jobId);

    // --- proofs
    error PublicSignalCount(JobId jobId, uint256 given, uint256 expected);
    error PublicInputsMismatch(JobId jobId, bytes32 committed, bytes32 given);
    error SignalNotInField(JobId jobId, uint256 index);
    error InvalidProof(JobId jobId);
    /// The batch's single pairing check failed: at least one of its proofs is invalid.
    error InvalidBatchProof();
    error ProofLength(uint256 given, uint256 expected);
    error BatchLengthMismatch();
    error EmptyBatch();
    error BatchMixesCircuits(JobId jobId, CircuitId expected, CircuitId found);
}
