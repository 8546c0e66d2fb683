// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CircuitId, JobId} from "../types/JobId.sol";
import {MarketParams, SlashSplit} from "../types/MarketParams.sol";
import {ProofSystem} from "../types/Circuit.sol";

/// @notice Events carry everything an indexer needs: no extra eth_call per event.
interface IProofMarketEvents {
    // --- circuits
    event CircuitRegistered(
        CircuitId indexed circuitId,
        address indexed registrant,
        address verifier,
        ProofSystem system,
        uint16 nPublicOutputs,
        uint16 nPublicInputs,
        address batchVerifier,
        bytes32 manifestHash,
        string name,
        string artifactsURI
    );

    // --- staking
    event Staked(address indexed prover, uint96 amount, uint96 staked);
    event UnstakeRequested(address indexed prover, uint96 amount, uint96 unbonding, uint40 readyAt);
    event Unstaked(address indexed prover, uint96 amount);
    event Withdrawn(address indexed account, address to, uint256 amount);

    // --- jobs
    /// @param minFee the price at and before `rampStart`, rising every second to `maxFee` at `rampStart + rampDuration`
    /// @param maxFee what the requester escrowed: the most a proof can be paid
    /// @param inputsHash sha256 of the full inputs document (public and private) at `inputsURI`, which a prover
    ///        checks before claiming.
    event JobPosted(
        JobId indexed jobId,
        CircuitId indexed circuitId,
        address indexed requester,
        uint96 minFee,
        uint96 maxFee,
        uint40 rampStart,
        uint32 rampDuration,
        uint96 bond,
        uint32 provingWindow,
        uint40 expiresAt,
        bytes32 inputsCommitment,
        bytes32 inputsHash,
        string inputsURI
    );
    /// @param price the price the claim locked: what a proof of this claim is paid
    event JobClaimed(
        JobId indexed jobId,
        address indexed prover,
        uint16 attempt,
        uint40 deadline,
        uint96 bond,
        uint96 price
    );
    /// @param price paid to `prover`: the price its claim locked. The rest of the escrow, the job's `maxFee` minus
    ///        `price`, is credited to the requester.
    /// @param outputs the circuit's public outputs, as proven.
    event JobProved(JobId indexed jobId, address indexed prover, uint16 attempt, uint96 price, uint256[] outputs);
    /// A stalled claim was slashed by `keeper` and the job is Open again as `attempt`, its price ramp raised by the
    /// reward share to run from `newMinFee` to `newMaxFee`, and paused while the claim held the job: it now starts at
    /// `newRampStart`, so the job is offered at the price the claim locked plus the reward share.
    event JobReassigned(
        JobId indexed jobId,
        address indexed prover,
        address indexed keeper,
        uint16 attempt,
        uint96 newMinFee,
        uint96 newMaxFee,
        uint40 newRampStart,
        SlashSplit split
    );
    /// The assignee gave the job back before its deadline, for the smaller slash in `split`; its price ramp is raised
    /// and paused as after a reassignment.
    event JobAbandoned(
        JobId indexed jobId,
        address indexed prover,
        uint16 attempt,
        uint96 newMinFee,
        uint96 newMaxFee,
        uint40 newRampStart,
        SlashSplit split
    );
    /// @param refund the job's escrow (`maxFee`), credited to the requester.
    event JobCancelled(JobId indexed jobId, address indexed requester, uint96 refund);
    /// @param refund the job's escrow (`maxFee`), credited to the requester.
    /// @param prover the assignee whose claim was still held at expiry (slashed per `split`), or zero.
    event JobExpired(
        JobId indexed jobId,
        address indexed requester,
        address indexed prover,
        uint96 refund,
        SlashSplit split
    );

    // --- administration
    event ParamsUpdated(MarketParams params);
    event TreasuryUpdated(address treasury);
}
