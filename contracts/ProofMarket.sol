// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IGroth16BatchVerifier} from "./interfaces/IGroth16BatchVerifier.sol";
import {IProofMarket, JobRequest} from "./interfaces/IProofMarket.sol";
import {PublicSignals} from "./libraries/PublicSignals.sol";
import {SlashMath} from "./libraries/SlashMath.sol";
import {SnarkjsVerifierCall} from "./libraries/SnarkjsVerifierCall.sol";
import {Circuit, CircuitRegistration, ProofSystem} from "./types/Circuit.sol";
import {CircuitId, JobId} from "./types/JobId.sol";
import {JobState, JobStateLibrary, JobStatus} from "./types/JobState.sol";
import {JobTerms} from "./types/JobTerms.sol";
import {MarketParams, SlashSplit, SlashTerms, StoredMarketParams} from "./types/MarketParams.sol";
import {ProverAccount} from "./types/ProverAccount.sol";

/// @title ProofMarket
/// @notice See {IProofMarket}. Money moves in one shape everywhere: guards, state changes, then token transfers,
///         then the event; every entry point that moves tokens holds a transient reentrancy lock. Payouts are
///         credited to withdrawable balances (pull payments), so a reverting recipient only blocks itself.
/// @dev Accounting invariant (test/contracts/invariants): token.balanceOf(this) ==
///      Σ maxFee of Open and Claimed jobs + Σ (staked + unbonding) + Σ withdrawable (the treasury's included).
contract ProofMarket is IProofMarket, Ownable2Step, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// Hard caps on what the owner can set.
    uint16 public constant MAX_KEEPER_SHARE_BPS = 2_000;
    uint16 public constant MAX_TREASURY_SHARE_BPS = 2_000;
    uint16 public constant MAX_ABANDON_SLASH_BPS = 5_000;
    /// The keeper and reward shares together: what a prover that slashes its own claim from a second address can win
    /// back (the keeper share, and the reward share in the price it claims the job back at). The rest, at least 10%
    /// of the slash, it always loses, so that stalling a job never comes free (sim/: the self-reassigner).
    uint16 public constant MAX_RECOVERABLE_SHARE_BPS = 9_000;
    uint32 public constant MIN_PROVING_WINDOW_FLOOR = 30;
    uint32 public constant MAX_UNBONDING_DELAY = 60 days;
    /// Verifier gas grows with the public signal count; this bounds it.
    uint16 public constant MAX_PUBLIC_SIGNALS = 64;
    /// The smallest `minBond` the owner can set: no claim is free, and every basis-point share of the smallest
    /// bond's slash is at least one token unit.
    uint96 public constant MIN_BOND_FLOOR = 10_000;
    /// Claims a job can have. The claim numbered MAX_ATTEMPTS - 1 is the last: if it fails the job closes as
    /// Expired (escrow refunded) instead of reopening. Posting bounds `maxFee` so that every escalation before then
    /// fits in uint96.
    uint16 public constant MAX_ATTEMPTS = 1_000;
    /// The furthest ahead a job may expire. Every time a job carries (expiry, ramp) then lies within a year of its
    /// posting: indexers store them as 32-bit seconds, and a job meant to outlive a year is better posted again.
    uint32 public constant MAX_JOB_LIFETIME = 365 days;
    /// The largest `minBond` (it is stored in 80 bits): 1.2 million tokens of 18 decimals.
    uint96 public constant MAX_MIN_BOND = type(uint80).max;

    IERC20 private immutable _token;
    uint32 private immutable _unbondingDelay;

    StoredMarketParams private _params;
    address private _treasury;
    /// Every set of slash terms there has been, by id; a claim records the id in force when it was made.
    mapping(uint24 => SlashTerms) private _slashTerms;
    uint32 private _circuitCount;

    mapping(CircuitId => Circuit) private _circuits;
    mapping(JobId => bytes32) private _termsHash;
    mapping(JobId => JobState) private _jobState;
    mapping(address => ProverAccount) private _accounts;
    mapping(address => uint256) private _withdrawable;

    constructor(
        IERC20 token_,
        address owner_,
        address treasury_,
        uint32 unbondingDelay_,
        MarketParams memory params_
    ) Ownable(owner_) {
        if (address(token_) == address(0)) revert ZeroAddress("token");
        if (treasury_ == address(0)) revert ZeroAddress("treasury");
        if (unbondingDelay_ > MAX_UNBONDING_DELAY) {
            revert ParamAboveCap("unbondingDelay", unbondingDelay_, MAX_UNBONDING_DELAY);
        }
        _token = token_;
        _unbondingDelay = unbondingDelay_;
        _treasury = treasury_;
        _setParams(params_, false);
        emit TreasuryUpdated(treasury_);
    }

    // ================================================================== circuits

    /// @inheritdoc IProofMarket
    function registerCircuit(CircuitRegistration calldata r) external nonReentrant returns (CircuitId circuitId) {
        _requireFixedCode(r.verifier);
        bytes32 batchVerifierCodeHash;
        uint256 nPublic = uint256(r.nPublicOutputs) + r.nPublicInputs;
        if (nPublic == 0 || nPublic > MAX_PUBLIC_SIGNALS) revert InvalidSignalCounts(r.nPublicOutputs, r.nPublicInputs);
        if (r.batchVerifier != address(0)) {
            if (r.system != ProofSystem.Groth16) revert BatchVerifierNotGroth16();
            _requireFixedCode(r.batchVerifier);
            uint256 batchPublic;
            try IGroth16BatchVerifier(r.batchVerifier).nPublic() returns (uint256 n) {
                batchPublic = n;
            } catch {
                revert NotABatchVerifier(r.batchVerifier);
            }
            if (batchPublic != nPublic) revert BatchVerifierSignalCount(batchPublic, nPublic);
            batchVerifierCodeHash = r.batchVerifier.codehash;
        }
        circuitId = CircuitId.wrap(++_circuitCount);
        _circuits[circuitId] = Circuit({
            verifier: r.verifier,
            system: r.system,
            nPublicOutputs: r.nPublicOutputs,
            nPublicInputs: r.nPublicInputs,
            verifySelector: SnarkjsVerifierCall.selector(r.system, nPublic),
            batchVerifier: r.batchVerifier,
            verifierCodeHash: r.verifier.codehash,
            batchVerifierCodeHash: batchVerifierCodeHash,
            registrant: msg.sender,
            manifestHash: r.manifestHash,
            name: r.name,
            artifactsURI: r.artifactsURI
        });
        emit CircuitRegistered(
            circuitId,
            msg.sender,
            r.verifier,
            r.system,
            r.nPublicOutputs,
            r.nPublicInputs,
            r.batchVerifier,
            r.manifestHash,
            r.name,
            r.artifactsURI
        );
    }

    // ================================================================== staking

    /// @inheritdoc IProofMarket
    function stake(uint96 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        ProverAccount storage acct = _accounts[msg.sender];
        uint96 staked = _sum96("staked", acct.staked, amount);
        acct.staked = staked;
        if (!acct.hasStaked) acct.hasStaked = true;
        _pullExact(msg.sender, amount);
        emit Staked(msg.sender, amount, staked);
    }

    /// @inheritdoc IProofMarket
    function requestUnstake(uint96 amount) external nonReentrant {
        if (amount == 0) revert ZeroAmount();
        ProverAccount storage acct = _accounts[msg.sender];
        uint96 free = acct.staked - acct.locked;
        if (amount > free) revert InsufficientStake(msg.sender, free, amount);
        uint40 readyAt = uint40(block.timestamp + _unbondingDelay);
        acct.staked -= amount;
        uint96 unbonding = _sum96("unbonding", acct.unbonding, amount);
        acct.unbonding = unbonding;
        acct.unbondingReadyAt = readyAt;
        emit UnstakeRequested(msg.sender, amount, unbonding, readyAt);
    }

    /// @inheritdoc IProofMarket
    function completeUnstake() external nonReentrant {
        ProverAccount storage acct = _accounts[msg.sender];
        uint96 amount = acct.unbonding;
        if (amount == 0) revert NothingUnbonding(msg.sender);
        if (block.timestamp < acct.unbondingReadyAt) revert UnbondingNotReady(msg.sender, acct.unbondingReadyAt);
        acct.unbonding = 0;
        _token.safeTransfer(msg.sender, amount);
        emit Unstaked(msg.sender, amount);
    }

    /// @inheritdoc IProofMarket
    function withdraw(address to) external nonReentrant {
        if (to == address(0)) revert ZeroAddress("to");
        ProverAccount storage acct = _accounts[msg.sender];
        uint256 amount = _withdrawable[msg.sender] + acct.earned;
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        _withdrawable[msg.sender] = 0;
        acct.earned = 0;
        _token.safeTransfer(to, amount);
        emit Withdrawn(msg.sender, to, amount);
    }

    // ================================================================== jobs

    /// @inheritdoc IProofMarket
    function postJob(JobRequest calldata request) external nonReentrant returns (JobId jobId) {
        StoredMarketParams memory p = _params;
        if (p.paused) revert MarketPaused();
        // A registered circuit's verifier has code, so its recorded code hash is never zero.
        bytes32 codeHash = _circuits[request.circuitId].verifierCodeHash;
        if (codeHash == bytes32(0)) revert UnknownCircuit(request.circuitId);
        if (request.maxFee == 0) revert ZeroAmount();
        if (request.minFee > request.maxFee) revert FeeRangeInverted(request.minFee, request.maxFee);
        if (request.bond < p.minBond) revert BondBelowMinimum(request.bond, p.minBond);
        // Each reopening adds at most one bond to both fees (the reward share of a slash), so this is the largest
        // `maxFee` can ever grow to; refusing it here keeps every later escalation free of overflow.
        uint256 largestFee = request.maxFee + uint256(request.bond) * (MAX_ATTEMPTS - 1);
        if (largestFee > type(uint96).max) {
            revert AmountTooLarge("maxFee + (MAX_ATTEMPTS - 1) * bond", largestFee, type(uint96).max);
        }
        if (request.provingWindow < p.minProvingWindow || request.provingWindow > p.maxProvingWindow) {
            revert ProvingWindowOutOfBounds(request.provingWindow, p.minProvingWindow, p.maxProvingWindow);
        }
        uint256 earliestExpiry = block.timestamp + request.provingWindow;
        if (request.expiresAt < earliestExpiry) revert ExpiryTooSoon(request.expiresAt, earliestExpiry);
        uint256 latestExpiry = block.timestamp + MAX_JOB_LIFETIME;
        if (request.expiresAt > latestExpiry) revert ExpiryTooLate(request.expiresAt, latestExpiry);

        uint40 rampStart = request.rampStart == 0 ? uint40(block.timestamp) : request.rampStart;
        // A ramp that ends after expiry would offer prices no claim can take.
        uint256 rampEnd = uint256(rampStart) + request.rampDuration;
        if (rampEnd > request.expiresAt) revert RampPastExpiry(rampEnd, request.expiresAt);

        if (p.jobCount == type(uint40).max) revert ParamAboveCap("job count", p.jobCount, type(uint40).max);
        _params.jobCount = p.jobCount + 1;
        jobId = JobId.wrap(p.jobCount + 1);
        JobTerms memory terms = JobTerms({
            requester: msg.sender,
            circuitId: request.circuitId,
            expiresAt: request.expiresAt,
            provingWindow: request.provingWindow,
            minFee: request.minFee,
            maxFee: request.maxFee,
            rampStart: rampStart,
            rampDuration: request.rampDuration,
            bond: request.bond,
            inputsCommitment: request.inputsCommitment
        });
        // Only the terms hash is written: the job's state slot stays zero (read as Open while the terms hash is
        // set, see `_stateOf`) until the claim writes it, which saves touching one slot twice.
        _termsHash[jobId] = terms.hash(codeHash);
        _pullExact(msg.sender, request.maxFee);
        emit JobPosted(
            jobId,
            request.circuitId,
            msg.sender,
            request.minFee,
            request.maxFee,
            rampStart,
            request.rampDuration,
            request.bond,
            request.provingWindow,
            request.expiresAt,
            request.inputsCommitment,
            request.inputsHash,
            request.inputsURI
        );
    }

    /// @inheritdoc IProofMarket
    /// @dev No reentrancy lock: it moves no tokens and calls no contract (it reads the verifier's code hash only).
    function claim(JobId jobId, JobTerms calldata terms) external {
        JobTerms memory t = terms.load();
        StoredMarketParams memory p = _params;
        if (p.paused) revert MarketPaused();
        Circuit storage c = _circuits[t.circuitId];
        JobState memory state = _activeJobWithIntactVerifier(jobId, t, c, c.verifier.codehash);
        if (state.status != JobStatus.Open) revert WrongStatus(jobId, state.status);
        if (block.timestamp >= t.expiresAt) revert JobPastExpiry(jobId, t.expiresAt);

        ProverAccount storage acct = _accounts[msg.sender];
        uint96 free = acct.staked - acct.locked;
        if (free < t.bond) revert InsufficientStake(msg.sender, free, t.bond);
        acct.locked += t.bond;

        _jobState[jobId] = JobState({
            status: JobStatus.Claimed,
            attempt: state.attempt,
            claimedAt: uint40(block.timestamp),
            assignee: msg.sender,
            slashTermsId: p.slashTermsId
        });
        emit JobClaimed(
            jobId,
            msg.sender,
            state.attempt,
            t.deadlineFrom(block.timestamp),
            t.bond,
            t.priceAt(block.timestamp)
        );
    }

    /// @inheritdoc IProofMarket
    /// @dev No reentrancy lock (here and in `submitProofs`): they move no tokens, and their only calls are
    ///      staticcalls to verifiers, in which no state can change.
    function submitProof(
        JobId jobId,
        JobTerms calldata terms,
        bytes calldata proof,
        uint256[] calldata publicSignals
    ) external {
        JobTerms memory t = terms.load();
        Circuit storage c = _circuits[t.circuitId];
        uint256 nOutputs = c.nPublicOutputs;
        if (publicSignals.length != nOutputs + c.nPublicInputs) {
            revert PublicSignalCount(jobId, publicSignals.length, nOutputs + c.nPublicInputs);
        }
        uint96 price = _proveOne(jobId, t, c.verifier.codehash, nOutputs, publicSignals);
        if (!SnarkjsVerifierCall.verify(c.verifier, c.verifySelector, c.system, proof, publicSignals)) {
            revert InvalidProof(jobId);
        }
        _settleProofs(t.bond, price);
    }

    /// @inheritdoc IProofMarket
    /// @dev Each job is checked and marked Proved before the next is looked at, so a job id repeated in the batch
    ///      fails as already Proved. The proofs are verified last: by one staticcall to the batch verifier, or one by
    ///      one where the circuit has none; if any fails, all reverts.
    function submitProofs(
        JobId[] calldata jobIds,
        JobTerms[] calldata terms,
        bytes calldata proofs,
        uint256[] calldata publicSignals
    ) external {
        uint256 n = jobIds.length;
        if (n == 0) revert EmptyBatch();
        // Checked before `terms[0]` is read, so that a short array is a named error rather than a panic.
        if (terms.length != n) revert BatchLengthMismatch();
        CircuitId circuitId = terms[0].circuitId;
        Circuit storage c = _circuits[circuitId];
        uint256 proofBytes = SnarkjsVerifierCall.proofLength(c.system);
        uint256 nOutputs = c.nPublicOutputs;
        uint256 nPublic = nOutputs + c.nPublicInputs;
        if (proofs.length != n * proofBytes || publicSignals.length != n * nPublic) revert BatchLengthMismatch();
        address batchVerifier = c.batchVerifier;
        // Each job's commitment checks the single verifier's code (`_proveOne`); the batch verifier's is checked here.
        if (batchVerifier != address(0)) _requireCodeIntact(circuitId, batchVerifier, c.batchVerifierCodeHash);

        (uint256 fees, uint256 bonds) = _proveBatch(jobIds, terms, publicSignals, c.verifier.codehash, nOutputs);
        if (batchVerifier != address(0)) {
            if (!IGroth16BatchVerifier(batchVerifier).verifyBatch(proofs, publicSignals)) revert InvalidBatchProof();
        } else {
            for (uint256 i; i < n; ++i) {
                bytes calldata proof = proofs[i * proofBytes:(i + 1) * proofBytes];
                uint256[] calldata signals = publicSignals[i * nPublic:(i + 1) * nPublic];
                if (!SnarkjsVerifierCall.verify(c.verifier, c.verifySelector, c.system, proof, signals)) {
                    revert InvalidProof(jobIds[i]);
                }
            }
        }
        // The bonds were each locked in the caller's uint96 `locked`, so their sum fits.
        _settleProofs(uint96(bonds), fees);
    }

    /// @inheritdoc IProofMarket
    function reassign(JobId jobId, JobTerms calldata terms) external nonReentrant {
        JobTerms memory t = terms.load();
        JobState memory state = _activeJob(jobId, t);
        if (state.status != JobStatus.Claimed) revert WrongStatus(jobId, state.status);
        uint40 deadline = t.deadlineFrom(state.claimedAt);
        if (block.timestamp <= deadline) revert ClaimStillLive(jobId, deadline);
        if (t.isExpired(block.timestamp)) revert JobPastExpiry(jobId, t.expiresAt);
        if (msg.sender == state.assignee) revert AssigneeCannotReassign(jobId);

        SlashTerms memory st = _slashTerms[state.slashTermsId];
        bool last = _isLastAttempt(state);
        SlashSplit memory split = SlashMath.split(st, _slashable(t, t.bond), true, last);
        _slash(state.assignee, t.bond, split, msg.sender, t.requester, st.treasury);
        if (last) return _closeAtAttemptLimit(jobId, t, state, split);
        JobTerms memory next = _reopen(jobId, t, state, split.rewardShare);
        emit JobReassigned(
            jobId,
            state.assignee,
            msg.sender,
            state.attempt + 1,
            next.minFee,
            next.maxFee,
            next.rampStart,
            split
        );
    }

    /// @inheritdoc IProofMarket
    function abandon(JobId jobId, JobTerms calldata terms) external nonReentrant {
        JobTerms memory t = terms.load();
        JobState memory state = _activeJob(jobId, t);
        _requireLiveAssignee(jobId, state, t);

        SlashTerms memory st = _slashTerms[state.slashTermsId];
        bool last = _isLastAttempt(state);
        uint96 amount = _slashable(t, SlashMath.bps(t.bond, st.abandonSlashBps));
        SlashSplit memory split = SlashMath.split(st, amount, false, last);
        _slash(msg.sender, t.bond, split, address(0), t.requester, st.treasury);
        if (last) return _closeAtAttemptLimit(jobId, t, state, split);
        JobTerms memory next = _reopen(jobId, t, state, split.rewardShare);
        emit JobAbandoned(jobId, msg.sender, state.attempt + 1, next.minFee, next.maxFee, next.rampStart, split);
    }

    /// @inheritdoc IProofMarket
    function cancel(JobId jobId, JobTerms calldata terms) external nonReentrant {
        JobTerms memory t = terms.load();
        JobState memory state = _activeJob(jobId, t);
        if (state.status != JobStatus.Open) revert WrongStatus(jobId, state.status);
        if (msg.sender != t.requester) revert NotRequester(jobId, msg.sender);

        _close(jobId, state, JobStatus.Cancelled);
        _withdrawable[t.requester] += t.maxFee;
        emit JobCancelled(jobId, t.requester, t.maxFee);
    }

    /// @inheritdoc IProofMarket
    function expire(JobId jobId, JobTerms calldata terms) external nonReentrant {
        JobTerms memory t = terms.load();
        JobState memory state = _activeJob(jobId, t);
        if (!t.isExpired(block.timestamp)) revert JobNotExpired(jobId, t.expiresAt);

        SlashSplit memory split;
        address prover;
        if (state.status == JobStatus.Claimed) {
            // The deadline never passes expiry, so this claim has missed it: slash as `reassign` would, except
            // that the reward share goes to the requester, as there is no next prover.
            prover = state.assignee;
            if (msg.sender == prover) revert AssigneeCannotReassign(jobId);
            SlashTerms memory st = _slashTerms[state.slashTermsId];
            split = SlashMath.split(st, _slashable(t, t.bond), true, true);
            _slash(prover, t.bond, split, msg.sender, t.requester, st.treasury);
        }
        _close(jobId, state, JobStatus.Expired);
        _withdrawable[t.requester] += t.maxFee;
        emit JobExpired(jobId, t.requester, prover, t.maxFee, split);
    }

    // ================================================================== administration

    /// @inheritdoc IProofMarket
    function setParams(MarketParams calldata params_) external onlyOwner {
        _setParams(params_, _params.paused);
    }

    /// @inheritdoc IProofMarket
    function setTreasury(address treasury_) external onlyOwner {
        if (treasury_ == address(0)) revert ZeroAddress("treasury");
        _treasury = treasury_;
        StoredMarketParams memory p = _params;
        _params.slashTermsId = _newSlashTerms(
            p.keeperShareBps,
            p.rewardShareBps,
            p.treasuryShareBps,
            p.abandonSlashBps
        );
        emit TreasuryUpdated(treasury_);
    }

    /// @inheritdoc IProofMarket
    function setPaused(bool paused_) external onlyOwner {
        _params.paused = paused_;
        emit ParamsUpdated(_marketParams());
    }

    // ================================================================== views

    function token() external view returns (IERC20) {
        return _token;
    }

    function unbondingDelay() external view returns (uint32) {
        return _unbondingDelay;
    }

    function params() external view returns (MarketParams memory) {
        return _marketParams();
    }

    function slashTermsId() external view returns (uint24) {
        return _params.slashTermsId;
    }

    function slashTerms(uint24 id) external view returns (SlashTerms memory) {
        return _slashTerms[id];
    }

    function treasury() external view returns (address) {
        return _treasury;
    }

    function circuit(CircuitId circuitId) external view returns (Circuit memory) {
        return _circuits[circuitId];
    }

    function circuitCount() external view returns (uint32) {
        return _circuitCount;
    }

    function jobCount() external view returns (uint256) {
        return _params.jobCount;
    }

    function jobTermsHash(JobId jobId) external view returns (bytes32) {
        return _termsHash[jobId];
    }

    function jobState(JobId jobId) external view returns (JobState memory) {
        return _stateOf(jobId);
    }

    function account(address prover) external view returns (ProverAccount memory) {
        return _accounts[prover];
    }

    function freeStake(address prover) external view returns (uint96) {
        return _accounts[prover].free();
    }

    function withdrawable(address account_) external view returns (uint256) {
        return _withdrawable[account_] + _accounts[account_].earned;
    }

    // ================================================================== internals

    /// @dev Loads a job that is Open or Claimed and checks the caller's terms against its stored commitment, made
    ///      with the verifier code hash recorded at registration (for the paths that must work whatever the code).
    function _activeJob(JobId jobId, JobTerms memory terms) private view returns (JobState memory state) {
        bool termsMatch;
        (state, termsMatch) = _loadActiveJob(jobId, terms, _circuits[terms.circuitId].verifierCodeHash);
        if (!termsMatch) revert TermsMismatch(jobId);
    }

    /// @dev As `_activeJob`, with the commitment checked against `currentCodeHash`, the hash of the code now at the
    ///      circuit's verifier: terms that match prove the code is the registered code. On a mismatch, tells a
    ///      changed verifier from wrong terms.
    function _activeJobWithIntactVerifier(
        JobId jobId,
        JobTerms memory terms,
        Circuit storage c,
        bytes32 currentCodeHash
    ) private view returns (JobState memory state) {
        bool termsMatch;
        (state, termsMatch) = _loadActiveJob(jobId, terms, currentCodeHash);
        if (!termsMatch) {
            // The job's own circuit (the terms match once bound to its registered code) with changed code, or terms
            // that are not the job's: a wrong circuit id must not read as that circuit's verifier having changed.
            bytes32 registered = c.verifierCodeHash;
            if (currentCodeHash != registered && terms.hash(registered) == _termsHash[jobId]) {
                revert VerifierCodeChanged(terms.circuitId, c.verifier, registered, currentCodeHash);
            }
            revert TermsMismatch(jobId);
        }
    }

    function _loadActiveJob(
        JobId jobId,
        JobTerms memory terms,
        bytes32 verifierCodeHash
    ) private view returns (JobState memory state, bool termsMatch) {
        bytes32 termsHash;
        (state, termsHash) = _stateAndTermsHash(jobId);
        if (state.status != JobStatus.Open && state.status != JobStatus.Claimed) {
            if (state.status == JobStatus.None) revert UnknownJob(jobId);
            revert WrongStatus(jobId, state.status);
        }
        termsMatch = terms.hash(verifierCodeHash) == termsHash;
    }

    /// @dev The terms hash is set exactly while a job is active (Open or Claimed). Two statuses are read from the
    ///      slots rather than written, each to save gas on the hot path: a posted job that no one has claimed has an
    ///      empty state slot (Open), and a posted job with neither a terms hash nor a state was proved (Proved): a
    ///      proof clears both slots, and the refunds of the two cleared slots pay for most of its bookkeeping. Its
    ///      `JobProved` event is the record of who proved it, at which attempt and price. Cancelled and Expired are
    ///      written explicitly and keep the last attempt and assignee.
    function _stateOf(JobId jobId) private view returns (JobState memory state) {
        (state, ) = _stateAndTermsHash(jobId);
    }

    function _stateAndTermsHash(JobId jobId) private view returns (JobState memory state, bytes32 termsHash) {
        state = _jobState[jobId];
        termsHash = _termsHash[jobId];
        if (state.status != JobStatus.None) return (state, termsHash);
        if (termsHash != bytes32(0)) state.status = JobStatus.Open;
        else if (JobId.unwrap(jobId) != 0 && JobId.unwrap(jobId) <= _params.jobCount) state.status = JobStatus.Proved;
    }

    function _requireLiveAssignee(JobId jobId, JobState memory state, JobTerms memory terms) private view {
        if (state.status != JobStatus.Claimed) revert WrongStatus(jobId, state.status);
        if (msg.sender != state.assignee) revert NotAssignee(jobId, msg.sender, state.assignee);
        uint40 deadline = terms.deadlineFrom(state.claimedAt);
        if (block.timestamp > deadline) revert ClaimExpired(jobId, deadline);
    }

    /// @dev A final job keeps its state slot (status, attempt, last assignee) and drops its terms hash: nothing can
    ///      act on it any more, and clearing the slot refunds part of the gas.
    function _close(JobId jobId, JobState memory state, JobStatus status) private {
        state.status = status;
        _jobState[jobId] = state;
        delete _termsHash[jobId];
    }

    /// @dev `_proveOne` for each job of a batch of one circuit (`nOutputs` outputs in each job's `publicSignals.length
    ///      / jobIds.length` signals, the lengths checked by the caller). Returns the sum of the locked prices and of
    ///      the bonds. One memory copy of the terms serves every job, and the loop keeps few values live: it is the
    ///      part of a batch's gas that grows with its size.
    function _proveBatch(
        JobId[] calldata jobIds,
        JobTerms[] calldata terms,
        uint256[] calldata publicSignals,
        bytes32 verifierCodeHash,
        uint256 nOutputs
    ) private returns (uint256 fees, uint256 bonds) {
        uint256 n = jobIds.length;
        uint256 nPublic = publicSignals.length / n;
        JobTerms memory t = terms[0].load();
        CircuitId circuitId = t.circuitId;
        // Unchecked: i < n, the offsets lie within the arrays' calldata, and n sums of uint96 fit in uint256.
        unchecked {
            for (uint256 i; i < n; ++i) {
                JobId jobId;
                JobTerms calldata termsI;
                uint256[] calldata signals;
                // Within bounds (i < n = terms.length, and the caller checked n * nPublic signals): read without the
                // checks.
                assembly ("memory-safe") {
                    jobId := calldataload(add(jobIds.offset, shl(5, i)))
                    termsI := add(terms.offset, mul(i, 320))
                    signals.offset := add(publicSignals.offset, shl(5, mul(i, nPublic)))
                    signals.length := nPublic
                }
                if (i > 0) termsI.loadInto(t);
                // A job of another circuit would be verified against the wrong key.
                if (CircuitId.unwrap(t.circuitId) != CircuitId.unwrap(circuitId)) {
                    revert BatchMixesCircuits(jobId, circuitId, t.circuitId);
                }
                fees += _proveOne(jobId, t, verifierCodeHash, nOutputs, signals);
                bonds += t.bond;
            }
        }
    }

    /// @dev Checks one submission without its proof (live claim by the caller, public-input binding; the caller
    ///      verifies the proof), marks the job Proved and credits the requester what the price leaves of the
    ///      escrow. Returns the price the claim locked; the caller credits it to the prover and releases the bond.
    ///      `verifierCodeHash` is the code now at the circuit's verifier: terms that match prove it unchanged.
    /// @dev A batch pays this once a job, so the checks run as one pass over raw words (`_claimHeldBy`,
    ///      `PublicSignals.valid`) that only says yes or no; a no is explained by `_refuseProof`, which runs the
    ///      same rules one by one and reverts with the first broken.
    function _proveOne(
        JobId jobId,
        JobTerms memory terms,
        bytes32 verifierCodeHash,
        uint256 nOutputs,
        uint256[] calldata publicSignals
    ) private returns (uint96 price) {
        (bool held, uint256 raw, uint256 termsSlot, uint256 stateSlot) = _claimHeldBy(jobId, terms, verifierCodeHash);
        uint40 claimedAt = JobStateLibrary.rawClaimedAt(raw);
        if (
            !held ||
            block.timestamp > terms.deadlineFrom(claimedAt) ||
            !PublicSignals.valid(nOutputs, terms.inputsCommitment, publicSignals)
        ) _refuseProof(jobId, terms, verifierCodeHash, nOutputs, publicSignals);

        // Proved is recorded by clearing both slots (see `_stateOf`): their refunds pay for most of the proof's
        // bookkeeping, and the event below keeps the prover, attempt and price.
        assembly ("memory-safe") {
            sstore(termsSlot, 0)
            sstore(stateSlot, 0)
        }
        price = terms.priceAt(claimedAt);
        // A fixed-price job (and one claimed at the ramp's top) leaves nothing to refund, and writes nothing more.
        uint96 refund;
        // `priceAt` never passes `maxFee`.
        unchecked {
            refund = terms.maxFee - price;
        }
        if (refund > 0) _withdrawable[terms.requester] += refund;
        _emitJobProved(jobId, raw, price, publicSignals, nOutputs);
    }

    /// @dev `emit JobProved(jobId, assignee, attempt, price, publicSignals[:nOutputs])`, written out: the ABI encoder's
    ///      copy of a calldata slice costs a batch about a hundred gas a job. The event test decodes it with the ABI.
    function _emitJobProved(
        JobId jobId,
        uint256 raw,
        uint96 price,
        uint256[] calldata publicSignals,
        uint256 nOutputs
    ) private {
        bytes32 topic = JobProved.selector;
        // Widened to whole words in Solidity, which cleans them: assembly would take a narrow type's word as it is.
        uint256 attempt = JobStateLibrary.rawAttempt(raw);
        uint256 assignee = uint256(uint160(JobStateLibrary.rawAssignee(raw)));
        uint256 paid = price;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, attempt)
            mstore(add(m, 0x20), paid)
            mstore(add(m, 0x40), 0x60) // where `outputs` starts, after the three head words
            mstore(add(m, 0x60), nOutputs)
            calldatacopy(add(m, 0x80), publicSignals.offset, shl(5, nOutputs))
            log3(m, add(0x80, shl(5, nOutputs)), topic, jobId, assignee)
        }
    }

    /// @dev Whether `terms` are the job's (with the verifier's code unchanged) and the job is Claimed by the caller;
    ///      with the raw state word, and the two slots so that the proof can clear them without hashing again.
    function _claimHeldBy(
        JobId jobId,
        JobTerms memory terms,
        bytes32 verifierCodeHash
    ) private view returns (bool held, uint256 raw, uint256 termsSlot, uint256 stateSlot) {
        bytes32 stored;
        assembly ("memory-safe") {
            mstore(0, jobId)
            mstore(32, _termsHash.slot)
            termsSlot := keccak256(0, 64)
            mstore(32, _jobState.slot)
            stateSlot := keccak256(0, 64)
            stored := sload(termsSlot)
            raw := sload(stateSlot)
        }
        held =
            stored != bytes32(0) &&
            terms.hash(verifierCodeHash) == stored &&
            JobStateLibrary.rawStatus(raw) == JobStatus.Claimed &&
            JobStateLibrary.rawAssignee(raw) == msg.sender;
    }

    /// @dev Why `_proveOne` refused a submission: its rules in order, each with its error. Always reverts.
    function _refuseProof(
        JobId jobId,
        JobTerms memory terms,
        bytes32 verifierCodeHash,
        uint256 nOutputs,
        uint256[] calldata publicSignals
    ) private view {
        Circuit storage c = _circuits[terms.circuitId];
        JobState memory state = _activeJobWithIntactVerifier(jobId, terms, c, verifierCodeHash);
        _requireLiveAssignee(jobId, state, terms);
        PublicSignals.check(jobId, nOutputs, terms.inputsCommitment, publicSignals);
        // Not reached: every rule `_proveOne` applies is checked above.
        revert TermsMismatch(jobId);
    }

    /// @dev Releases the bonds of the caller's proved jobs and credits their fees as earnings (in the same slot, so
    ///      one write); earnings that would not fit in uint96 go to `_withdrawable` instead, never reverting a proof.
    function _settleProofs(uint96 bonds, uint256 fees) private {
        ProverAccount storage acct = _accounts[msg.sender];
        acct.locked -= bonds;
        uint256 earned = acct.earned + fees;
        if (earned <= type(uint96).max) acct.earned = uint96(earned);
        else _withdrawable[msg.sender] += fees;
    }

    /// @dev Releases `bond` from the prover's locked stake and takes `split.slashed` of it, crediting the shares
    ///      (the treasury's to the treasury of the claim's slash terms).
    function _slash(
        address prover,
        uint96 bond,
        SlashSplit memory split,
        address keeper,
        address requester,
        address treasury_
    ) private {
        ProverAccount storage acct = _accounts[prover];
        acct.locked -= bond;
        acct.staked -= split.slashed;
        if (split.keeperShare > 0) _withdrawable[keeper] += split.keeperShare;
        if (split.treasuryShare > 0) _withdrawable[treasury_] += split.treasuryShare;
        if (split.requesterShare > 0) _withdrawable[requester] += split.requesterShare;
    }

    /// @dev Open again for the next prover, the reward share of the slash added to both ends of the ramp, and the ramp
    ///      paused for as long as the claim held the job: its start moves later by the time from the claim to now
    ///      (each clamped to the ramp's start), so that the job is offered now at the price the failed claim locked
    ///      plus the reward share, and rises from there at the ramp's own rate. The escrow (`maxFee`) holds every
    ///      reward share. The pause is what keeps a lapse from paying: were the ramp to run on, a prover could claim
    ///      early and cheap, let its claim lapse, reassign it from a second address and claim it back in the same
    ///      block at the price the ramp had reached meanwhile (sim/: the self-reassigner).
    function _reopen(
        JobId jobId,
        JobTerms memory terms,
        JobState memory state,
        uint96 rewardShare
    ) private returns (JobTerms memory next) {
        // The caller's memory terms themselves (no copy). now ≥ claimedAt, so `to ≥ from`; the new start is at most
        // max(now, rampStart): it fits its 40 bits.
        uint256 rampStart = terms.rampStart;
        uint256 from = state.claimedAt > rampStart ? state.claimedAt : rampStart;
        uint256 to = block.timestamp > rampStart ? block.timestamp : rampStart;
        next = terms;
        next.minFee += rewardShare;
        next.maxFee += rewardShare;
        next.rampStart = uint40(rampStart + (to - from));
        _termsHash[jobId] = next.hash(_circuits[terms.circuitId].verifierCodeHash);
        _jobState[jobId] = state.reopened();
    }

    /// @dev `amount` if the job's verifier still has its registered code; zero if it changed under the claim, which
    ///      is then released without slash: a proof cannot be accepted, and the prover is not at fault.
    function _slashable(JobTerms memory terms, uint96 amount) private view returns (uint96) {
        Circuit storage c = _circuits[terms.circuitId];
        return c.verifier.codehash == c.verifierCodeHash ? amount : 0;
    }

    /// @dev A verifier must be a contract whose code cannot be re-pointed: an EIP-7702 delegated account's code is a
    ///      designator (0xef0100 ‖ address) its owner can change at will, which would let whoever controls it change a
    ///      circuit's verifier under live claims.
    function _requireFixedCode(address verifier) private view {
        bytes memory code = verifier.code;
        if (code.length == 0) revert VerifierHasNoCode(verifier);
        if (code.length == 23 && code[0] == 0xef && code[1] == 0x01 && code[2] == 0x00) {
            revert VerifierIsDelegatedAccount(verifier);
        }
    }

    function _requireCodeIntact(CircuitId circuitId, address verifier, bytes32 registered) private view {
        bytes32 current = verifier.codehash;
        if (current != registered) revert VerifierCodeChanged(circuitId, verifier, registered, current);
    }

    function _isLastAttempt(JobState memory state) private pure returns (bool) {
        return state.attempt + 1 >= MAX_ATTEMPTS;
    }

    /// @dev The last claim a job can have failed: instead of reopening, the job closes as Expired and its escrow
    ///      (with the reward share, there being no next prover: see the split) is refunded to the requester.
    function _closeAtAttemptLimit(
        JobId jobId,
        JobTerms memory terms,
        JobState memory state,
        SlashSplit memory split
    ) private {
        _close(jobId, state, JobStatus.Expired);
        _withdrawable[terms.requester] += terms.maxFee;
        emit JobExpired(jobId, terms.requester, state.assignee, terms.maxFee, split);
    }

    /// @dev `a + b`, refused with a named error where it would not fit in uint96.
    function _sum96(string memory what, uint96 a, uint96 b) private pure returns (uint96) {
        uint256 sum = uint256(a) + b;
        if (sum > type(uint96).max) revert AmountTooLarge(what, sum, type(uint96).max);
        return uint96(sum);
    }

    function _marketParams() private view returns (MarketParams memory) {
        StoredMarketParams memory p = _params;
        return
            MarketParams({
                keeperShareBps: p.keeperShareBps,
                rewardShareBps: p.rewardShareBps,
                treasuryShareBps: p.treasuryShareBps,
                abandonSlashBps: p.abandonSlashBps,
                minProvingWindow: p.minProvingWindow,
                maxProvingWindow: p.maxProvingWindow,
                minBond: p.minBond,
                paused: p.paused
            });
    }

    /// @dev Stores a new set of slash terms (with the current treasury) and returns its id: claims made from now on
    ///      are slashed by it, claims made before keep theirs.
    function _newSlashTerms(
        uint16 keeperBps,
        uint16 rewardBps,
        uint16 treasuryBps,
        uint16 abandonBps
    ) private returns (uint16 id) {
        uint16 last = _params.slashTermsId;
        if (last == type(uint16).max) revert ParamAboveCap("slash terms updates", last, type(uint16).max);
        id = last + 1;
        _slashTerms[id] = SlashTerms({
            keeperShareBps: keeperBps,
            rewardShareBps: rewardBps,
            treasuryShareBps: treasuryBps,
            abandonSlashBps: abandonBps,
            treasury: _treasury
        });
    }

    function _setParams(MarketParams memory p, bool paused_) private {
        if (p.keeperShareBps > MAX_KEEPER_SHARE_BPS) {
            revert ParamAboveCap("keeperShareBps", p.keeperShareBps, MAX_KEEPER_SHARE_BPS);
        }
        if (p.treasuryShareBps > MAX_TREASURY_SHARE_BPS) {
            revert ParamAboveCap("treasuryShareBps", p.treasuryShareBps, MAX_TREASURY_SHARE_BPS);
        }
        uint256 recoverable = uint256(p.keeperShareBps) + p.rewardShareBps;
        if (recoverable > MAX_RECOVERABLE_SHARE_BPS) {
            revert ParamAboveCap("keeper + reward shares", recoverable, MAX_RECOVERABLE_SHARE_BPS);
        }
        uint256 shares = recoverable + p.treasuryShareBps;
        if (shares > SlashMath.BPS) revert ParamAboveCap("keeper + reward + treasury shares", shares, SlashMath.BPS);
        if (p.abandonSlashBps > MAX_ABANDON_SLASH_BPS) {
            revert ParamAboveCap("abandonSlashBps", p.abandonSlashBps, MAX_ABANDON_SLASH_BPS);
        }
        if (p.minProvingWindow < MIN_PROVING_WINDOW_FLOOR || p.minProvingWindow > p.maxProvingWindow) {
            revert InvalidProvingWindowBounds(p.minProvingWindow, p.maxProvingWindow);
        }
        if (p.maxProvingWindow >= _unbondingDelay) {
            revert ProvingWindowNotBelowUnbondingDelay(p.maxProvingWindow, _unbondingDelay);
        }
        if (p.minBond < MIN_BOND_FLOOR) revert ParamBelowFloor("minBond", p.minBond, MIN_BOND_FLOOR);
        if (p.minBond > MAX_MIN_BOND) revert ParamAboveCap("minBond", p.minBond, MAX_MIN_BOND);
        p.paused = paused_;
        uint16 id = _newSlashTerms(p.keeperShareBps, p.rewardShareBps, p.treasuryShareBps, p.abandonSlashBps);
        _params = StoredMarketParams({
            keeperShareBps: p.keeperShareBps,
            rewardShareBps: p.rewardShareBps,
            treasuryShareBps: p.treasuryShareBps,
            abandonSlashBps: p.abandonSlashBps,
            // Below the unbonding delay (checked above), at most MAX_UNBONDING_DELAY: 24 bits hold them.
            minProvingWindow: uint24(p.minProvingWindow),
            maxProvingWindow: uint24(p.maxProvingWindow),
            minBond: uint80(p.minBond),
            paused: paused_,
            slashTermsId: id,
            jobCount: _params.jobCount
        });
        emit ParamsUpdated(p);
    }

    /// @dev Pulls exactly `amount`; a token that delivers less (fee-on-transfer) or more would break the
    ///      accounting invariant, so it is refused.
    function _pullExact(address from, uint256 amount) private {
        uint256 before = _token.balanceOf(address(this));
        _token.safeTransferFrom(from, address(this), amount);
        uint256 afterwards = _token.balanceOf(address(this));
        // A balance that fell is reported as nothing received, never as an underflow panic.
        uint256 received = afterwards > before ? afterwards - before : 0;
        if (received != amount) revert TokenTransferMismatch(amount, received);
    }
}
