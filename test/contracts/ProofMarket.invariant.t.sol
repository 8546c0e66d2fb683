// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ProofMarket} from "../../contracts/ProofMarket.sol";
import {JobRequest} from "../../contracts/interfaces/IProofMarket.sol";
import {IProofMarketEvents} from "../../contracts/interfaces/IProofMarketEvents.sol";
import {AcceptingVerifier, RejectingVerifier} from "../../contracts/mocks/HostileVerifiers.sol";
import {TestToken} from "../../contracts/mocks/TestToken.sol";
import {CircuitRegistration, ProofSystem} from "../../contracts/types/Circuit.sol";
import {CircuitId, JobId} from "../../contracts/types/JobId.sol";
import {JobState, JobStatus} from "../../contracts/types/JobState.sol";
import {JobTerms} from "../../contracts/types/JobTerms.sol";
import {MarketParams, SlashTerms} from "../../contracts/types/MarketParams.sol";
import {ProverAccount} from "../../contracts/types/ProverAccount.sol";

/// The cheatcodes this test uses (Hardhat's Solidity test runner serves them at the standard address).
interface Vm {
    function warp(uint256) external;
    function prank(address) external;
    function etch(address target, bytes calldata newRuntimeBytecode) external;
    function load(address target, bytes32 slot) external view returns (bytes32);
    function store(address target, bytes32 slot, bytes32 value) external;
    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory);

    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }
}

Vm constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

// `_jobState`'s declaration slot in ProofMarket (Ownable `_owner` 0, Ownable2Step `_pendingOwner` 1, `_params` 2,
// `_treasury` 3, `_slashTerms` 4, `_circuitCount` 5, `_circuits` 6, `_termsHash` 7, `_jobState` 8):
// `_jobState[id]` is at keccak256(abi.encode(id, 8)). `test_jobStateSlot` checks it against the market's view.
uint256 constant JOB_STATE_MAPPING_SLOT = 8;

function jobStateSlot(uint256 jobId) pure returns (bytes32) {
    return keccak256(abi.encode(jobId, JOB_STATE_MAPPING_SLOT));
}

/// `JobState` as stored: status (8 bits), attempt (16), claimedAt (40), assignee (160), slashTermsId (24).
function packJobState(JobState memory s) pure returns (bytes32) {
    return
        bytes32(
            uint256(uint8(s.status)) |
                (uint256(s.attempt) << 8) |
                (uint256(s.claimedAt) << 24) |
                (uint256(uint160(s.assignee)) << 64) |
                (uint256(s.slashTermsId) << 224)
        );
}

/// @notice Drives the market with random sequences of every user action, from a few actors, keeping the terms of
///         each job as a prover would (from what each call did), and the owner's actions (parameters, treasury)
///         and a verifier whose code changes under the circuit. Beside the terms it keeps what each prover's stake
///         and each treasury's balance should be, from the slash terms each claim was made under.
contract MarketHandler {
    uint256 internal constant BPS = 10_000;
    /// A Groth16 proof's bytes as the market takes them (the accepting verifier reads none of them).
    uint256 internal constant PROOF_BYTES = 256;

    ProofMarket public immutable market;
    TestToken public immutable token;
    CircuitId public immutable circuitId;
    address public immutable owner;
    address public immutable verifier;
    address[4] public actors = [address(0xA11CE), address(0xB0B), address(0xCA401), address(0xD00D)];
    address[2] public treasuries;
    bytes internal _registeredCode;
    bytes internal _rejectingCode;

    JobTerms[] internal _terms;
    uint256[] public jobIds;
    uint256 public calls;
    /// Refusals that were a Solidity panic (arithmetic, array bounds, ...) instead of a named error: must stay 0.
    uint256 public panics;

    /// What each actor's `staked` must be: stakes in, unstakes out, and the slashes of its own claims, each computed
    /// with the terms of that claim (nothing when the verifier's code had changed under it).
    mapping(address => uint256) public expectedStaked;
    /// What each treasury's withdrawable must be: the treasury shares of the slashes of claims made under it.
    mapping(address => uint256) public expectedTreasuryOwed;

    /// Claims and submissions the market accepted while the verifier's code was not the registered code.
    uint256 public acceptedOnChangedCode;

    /// How often the paths issue #12 added were taken (for a reader of the counts; not asserted).
    uint256 public releasedWithoutSlash;
    uint256 public closedAtAttemptLimit;
    uint256 public reprices;

    /// Price discovery (issue #14). The price each job's last claim locked, as the market reported it (its
    /// `JobClaimed` event), and the breaches of the price rules the handler saw: a claim whose locked price is not
    /// the ramp's price at the claim's second by the handler's own formula (`priceOf`, apart from the market's
    /// `JobTerms.priceAt`), is below an earlier claim's price or outside [minFee, maxFee], or whose `JobClaimed` is
    /// missing, repeated or carries another deadline or bond; a proof (alone or in a batch) that paid its prover
    /// other than the locked price or refunded its requester other than `maxFee` minus it. Must stay 0.
    mapping(uint256 => uint256) public lockedPrice;
    uint256 public priceBreaches;
    uint256 public proofsPaid;
    uint256 public refundsOnProof;
    /// Batches of more than one proof the market accepted (for a reader of the counts and the batch test).
    uint256 public batchesPaid;

    constructor(
        ProofMarket market_,
        TestToken token_,
        CircuitId circuitId_,
        address owner_,
        address[2] memory treasuries_
    ) {
        market = market_;
        token = token_;
        circuitId = circuitId_;
        owner = owner_;
        treasuries = treasuries_;
        verifier = market_.circuit(circuitId_).verifier;
        _registeredCode = verifier.code;
        _rejectingCode = address(new RejectingVerifier()).code;
        for (uint256 i; i < actors.length; ++i) {
            token.mint(actors[i], 1e36);
            vm.prank(actors[i]);
            token.approve(address(market_), type(uint256).max);
        }
    }

    function jobCount() external view returns (uint256) {
        return _terms.length;
    }

    function termsOf(uint256 i) external view returns (JobTerms memory) {
        return _terms[i];
    }

    function _actor(uint256 seed) private view returns (address) {
        return actors[seed % actors.length];
    }

    /// What an action needs of a job. The handler looks for such a job from the fuzzed seed on and, finding none,
    /// takes the job at the seed, so that both the paths that succeed and the refusals are driven.
    enum Want {
        Claimable, // Open, before expiry
        Live, // Claimed, deadline not passed
        Held, // Claimed
        Active // Open or Claimed
    }

    function _job(uint256 seed, Want want) private view returns (bool, uint256) {
        uint256 n = _terms.length;
        if (n == 0) return (false, 0);
        for (uint256 k; k < n; ++k) {
            uint256 i = ((seed % n) + k) % n;
            if (_is(i, want)) return (true, i);
        }
        return (true, seed % n);
    }

    function _is(uint256 i, Want want) private view returns (bool) {
        JobState memory s = market.jobState(JobId.wrap(jobIds[i]));
        bool claimed = s.status == JobStatus.Claimed;
        if (want == Want.Claimable) return s.status == JobStatus.Open && block.timestamp < _terms[i].expiresAt;
        if (want == Want.Live) return claimed && block.timestamp <= _deadline(i, s.claimedAt);
        if (want == Want.Held) return claimed;
        return claimed || s.status == JobStatus.Open;
    }

    /// A claim's deadline: its proving window from the claim's second, never past expiry.
    function _deadline(uint256 i, uint256 claimedAt) private view returns (uint256) {
        uint256 end = claimedAt + _terms[i].provingWindow;
        return end < _terms[i].expiresAt ? end : _terms[i].expiresAt;
    }

    /// The ramp's price at `t`, computed here from the terms, apart from the market's `JobTerms.priceAt`.
    function priceOf(uint256 i, uint256 t) public view returns (uint256) {
        JobTerms memory x = _terms[i];
        if (t <= x.rampStart || x.minFee == x.maxFee) return x.minFee;
        if (t >= uint256(x.rampStart) + x.rampDuration) return x.maxFee;
        return x.minFee + ((uint256(x.maxFee) - x.minFee) * (t - x.rampStart)) / x.rampDuration;
    }

    /// The first actor from `seed` on with free stake for `bond` (else the one at `seed`).
    function _claimer(uint256 seed, uint96 bond) private view returns (address) {
        for (uint256 k; k < actors.length; ++k) {
            address a = _actor((seed % actors.length) + k);
            if (market.freeStake(a) >= bond) return a;
        }
        return _actor(seed);
    }

    /// An actor other than the assignee, to act as keeper.
    function _keeper(uint256 seed, address assignee) private view returns (address) {
        address a = _actor(seed);
        return a == assignee ? _actor((seed % actors.length) + 1) : a;
    }

    /// A claim as the handler reads it before slashing it: its state, the slash terms it was made under, and whether
    /// the verifier still has its registered code.
    function _claimOf(uint256 i) private view returns (JobId id, JobState memory s, SlashTerms memory st, bool intact) {
        id = JobId.wrap(jobIds[i]);
        s = market.jobState(id);
        st = market.slashTerms(s.slashTermsId);
        intact = _verifierIntact();
    }

    function _verifierIntact() private view returns (bool) {
        return verifier.codehash == market.circuit(circuitId).verifierCodeHash;
    }

    // ------------------------------------------------------------------ provers and requesters

    function stake(uint256 actorSeed, uint96 amount) external {
        calls++;
        amount = uint96(bound(amount, 1, 1e24));
        address a = _actor(actorSeed);
        vm.prank(a);
        market.stake(amount);
        expectedStaked[a] += amount;
    }

    function requestUnstake(uint256 actorSeed, uint96 amount) external {
        calls++;
        address a = _actor(actorSeed);
        uint96 free = market.freeStake(a);
        if (free == 0) return;
        amount = uint96(bound(amount, 1, free));
        vm.prank(a);
        market.requestUnstake(amount);
        expectedStaked[a] -= amount;
    }

    function completeUnstake(uint256 actorSeed) external {
        calls++;
        vm.prank(_actor(actorSeed));
        try market.completeUnstake() {} catch (bytes memory reason) {
            _countPanic(reason);
        }
    }

    /// `who` 0-3: an actor; 4, 5: a treasury.
    function withdraw(uint256 who) external {
        calls++;
        who %= 6;
        address a = who < 4 ? actors[who] : treasuries[who - 4];
        vm.prank(a);
        try market.withdraw(a) {
            if (who >= 4) expectedTreasuryOwed[a] = 0;
        } catch (bytes memory reason) {
            _countPanic(reason);
        }
    }

    /// A fixed-price job (minFee = maxFee).
    function post(uint256 actorSeed, uint96 fee, uint96 bond, uint32 window) external {
        postRamped(actorSeed, fee, type(uint256).max, 0, bond, window);
    }

    /// A job sold by reverse Dutch auction: `minSeed` picks the minimum below the maximum (type(uint256).max: equal
    /// to it, a fixed price), `rampSeed` the ramp's length (up to the expiry, zero included) and whether it starts
    /// now or later. One post in four asks for a maximum fee at the bound, so that escalations and earnings near 2^96 are
    /// driven too.
    function postRamped(
        uint256 actorSeed,
        uint96 fee,
        uint256 minSeed,
        uint256 rampSeed,
        uint96 bond,
        uint32 window
    ) public {
        calls++;
        MarketParams memory p = market.params();
        uint96 b = uint96(bound(bond, p.minBond, 1e22));
        uint256 feeCap = fee % 4 == 0 ? type(uint96).max - uint256(b) * (market.MAX_ATTEMPTS() - 1) : 1e22;
        uint96 maxFee = uint96(bound(fee, 1, feeCap));
        uint96 minFee = minSeed == type(uint256).max ? maxFee : uint96(bound(minSeed, 0, maxFee));
        JobRequest memory r = JobRequest({
            circuitId: circuitId,
            minFee: minFee,
            maxFee: maxFee,
            rampStart: 0,
            rampDuration: 0,
            bond: b,
            provingWindow: uint32(bound(window, p.minProvingWindow, p.maxProvingWindow)),
            expiresAt: 0,
            inputsCommitment: keccak256(abi.encodePacked(uint256(7))),
            inputsHash: bytes32(0),
            inputsURI: ""
        });
        r.expiresAt = uint40(block.timestamp + r.provingWindow + bound(window, 0, 3 days));
        // The ramp ends by the expiry (the market refuses one that does not: RampPastExpiry).
        uint256 start =
            rampSeed % 3 == 2 ? block.timestamp + ((rampSeed % 1 days) % (r.expiresAt - block.timestamp)) : 0;
        r.rampStart = uint40(start);
        r.rampDuration = uint32(bound(rampSeed >> 8, 0, r.expiresAt - (start == 0 ? block.timestamp : start)));
        address a = _actor(actorSeed);
        vm.prank(a);
        JobId id = market.postJob(r);
        _terms.push(
            JobTerms({
                requester: a,
                circuitId: circuitId,
                expiresAt: r.expiresAt,
                provingWindow: r.provingWindow,
                minFee: r.minFee,
                maxFee: r.maxFee,
                rampStart: r.rampStart == 0 ? uint40(block.timestamp) : r.rampStart,
                rampDuration: r.rampDuration,
                bond: r.bond,
                inputsCommitment: r.inputsCommitment
            })
        );
        jobIds.push(JobId.unwrap(id));
    }

    function claim(uint256 actorSeed, uint256 jobSeed) external {
        calls++;
        (bool any, uint256 i) = _job(jobSeed, Want.Claimable);
        if (!any) return;
        _claim(i, _claimer(actorSeed, _terms[i].bond));
    }

    /// `prover` claims job `i`; returns whether the market accepted the claim.
    function _claim(uint256 i, address prover) private returns (bool) {
        bool intact = _verifierIntact();
        // The price the market locked is read from its own report of the claim: the market keeps only the claim's
        // second, and computing the price from that here would compare the handler's formula with itself.
        vm.recordLogs();
        vm.prank(prover);
        try market.claim(JobId.wrap(jobIds[i]), _terms[i]) {
            if (!intact) acceptedOnChangedCode++;
            _checkClaimed(i, vm.getRecordedLogs());
            return true;
        } catch (bytes memory reason) {
            _countPanic(reason);
            return false;
        }
    }

    /// The claim just made (at this second) has exactly one `JobClaimed`, with the job's bond, the deadline of a
    /// claim made now and, as its price, the ramp's price now by the handler's formula: never below the job's
    /// previous claim's price (after a reassignment the offered price is the ramp now plus the rewards), within
    /// [minFee, maxFee]. That price is what the proof must pay (`_bookProof`).
    function _checkClaimed(uint256 i, Vm.Log[] memory logs) private {
        uint256 jobId = jobIds[i];
        JobTerms memory t = _terms[i];
        uint256 reports;
        uint256 price;
        for (uint256 k; k < logs.length; ++k) {
            Vm.Log memory l = logs[k];
            if (l.emitter != address(market) || l.topics.length != 3) continue;
            if (l.topics[0] != IProofMarketEvents.JobClaimed.selector) continue;
            reports++;
            (, uint40 deadline, uint96 bond, uint96 locked) = abi.decode(l.data, (uint16, uint40, uint96, uint96));
            if (uint256(l.topics[1]) != jobId || deadline != _deadline(i, block.timestamp) || bond != t.bond) {
                priceBreaches++;
            }
            price = locked;
        }
        if (reports != 1) priceBreaches++;
        if (price != priceOf(i, block.timestamp)) priceBreaches++;
        if (price < lockedPrice[jobId] || price < t.minFee || price > t.maxFee) priceBreaches++;
        lockedPrice[jobId] = price;
    }

    function submit(uint256 jobSeed) external {
        calls++;
        (bool any, uint256 i) = _job(jobSeed, Want.Live);
        if (!any) return;
        JobState memory s = market.jobState(JobId.wrap(jobIds[i]));
        uint256[] memory signals = new uint256[](1);
        signals[0] = 7;
        bool intact = _verifierIntact();
        uint256[4] memory before = _withdrawables();
        vm.prank(s.assignee);
        try market.submitProof(JobId.wrap(jobIds[i]), _terms[i], new bytes(PROOF_BYTES), signals) {
            if (!intact) acceptedOnChangedCode++;
            uint256[4] memory credited;
            _bookProof(i, s, credited);
            _checkCredited(before, credited);
        } catch (bytes memory reason) {
            _countPanic(reason);
        }
    }

    /// Up to `size` (1-3) live claims of one assignee proven in one `submitProofs`: the job found from `jobSeed` and
    /// the next live claims of its assignee, or, short of those, open jobs it claims now (as a worker gathers a
    /// batch; two live claims of one prover are otherwise too rare among random actions for batches to be driven).
    /// The circuit has no batch verifier, so the market verifies each proof on its own (the accepting verifier);
    /// what is checked is the batch's money: each job pays its own locked price and refunds its own requester, and
    /// the prover is credited the prices' sum.
    function submitBatch(uint256 jobSeed, uint8 size) external {
        calls++;
        (bool any, uint256 first) = _job(jobSeed, Want.Live);
        if (!any) return;
        uint256[] memory picked = _batchOf(first, bound(size, 1, 3));
        uint256 n = picked.length;
        JobId[] memory ids = new JobId[](n);
        JobTerms[] memory terms = new JobTerms[](n);
        JobState[] memory states = new JobState[](n);
        uint256[] memory signals = new uint256[](n);
        for (uint256 k; k < n; ++k) {
            ids[k] = JobId.wrap(jobIds[picked[k]]);
            terms[k] = _terms[picked[k]];
            states[k] = market.jobState(ids[k]);
            signals[k] = 7; // each job's one public input (see `postRamped`'s inputsCommitment)
        }
        bool intact = _verifierIntact();
        uint256[4] memory before = _withdrawables();
        vm.prank(states[0].assignee);
        try market.submitProofs(ids, terms, new bytes(n * PROOF_BYTES), signals) {
            if (!intact) acceptedOnChangedCode++;
            uint256[4] memory credited;
            for (uint256 k; k < n; ++k) _bookProof(picked[k], states[k], credited);
            _checkCredited(before, credited);
            if (n > 1) batchesPaid++;
        } catch (bytes memory reason) {
            _countPanic(reason);
        }
    }

    /// Job `first` and, if it is a live claim, after it up to `size - 1` other live claims of the same assignee,
    /// or open jobs the assignee claims now.
    function _batchOf(uint256 first, uint256 size) private returns (uint256[] memory picked) {
        picked = new uint256[](size);
        picked[0] = first;
        uint256 n = 1;
        address assignee = market.jobState(JobId.wrap(jobIds[first])).assignee;
        if (!_is(first, Want.Live)) size = 1; // a refusal driven: the job is not a live claim
        for (uint256 k = 1; k < _terms.length && n < size; ++k) {
            uint256 i = (first + k) % _terms.length;
            if (_is(i, Want.Live)) {
                if (market.jobState(JobId.wrap(jobIds[i])).assignee == assignee) picked[n++] = i;
            } else if (_is(i, Want.Claimable) && market.freeStake(assignee) >= _terms[i].bond && _claim(i, assignee)) {
                picked[n++] = i;
            }
        }
        assembly ("memory-safe") {
            mstore(picked, n)
        }
    }

    /// A proof of job `i` (claim `s`) was accepted: it must pay its prover the price its claim locked (the ramp's
    /// price at the claim's second, by the handler's formula, and the price the market reported at the claim) and
    /// refund the requester the rest of the escrow. Adds both to what each actor should have been `credited`.
    function _bookProof(uint256 i, JobState memory s, uint256[4] memory credited) private {
        uint256 price = priceOf(i, s.claimedAt);
        uint256 refund = _terms[i].maxFee - price;
        proofsPaid++;
        if (refund > 0) refundsOnProof++;
        if (price != lockedPrice[jobIds[i]]) priceBreaches++;
        credited[_actorIndex(s.assignee)] += price;
        credited[_actorIndex(_terms[i].requester)] += refund;
    }

    /// Every actor's withdrawable moved by exactly what the proofs booked credited it (provers and requesters are
    /// all actors; the same actor may be both, or requester of several jobs of a batch).
    function _checkCredited(uint256[4] memory before, uint256[4] memory credited) private {
        for (uint256 a; a < actors.length; ++a) {
            if (market.withdrawable(actors[a]) != before[a] + credited[a]) priceBreaches++;
        }
    }

    function _withdrawables() private view returns (uint256[4] memory w) {
        for (uint256 a; a < actors.length; ++a) w[a] = market.withdrawable(actors[a]);
    }

    function _actorIndex(address a) private view returns (uint256) {
        for (uint256 k; k < actors.length; ++k) if (actors[k] == a) return k;
        revert("not an actor");
    }

    /// `waitForDeadline`: the keeper first waits until the claim's deadline has passed.
    function reassign(uint256 actorSeed, uint256 jobSeed, bool waitForDeadline) external {
        calls++;
        (bool any, uint256 i) = _job(jobSeed, Want.Held);
        if (!any) return;
        (JobId id, JobState memory s, SlashTerms memory st, bool intact) = _claimOf(i);
        if (waitForDeadline && block.timestamp <= _deadline(i, s.claimedAt)) vm.warp(_deadline(i, s.claimedAt) + 1);
        vm.prank(_keeper(actorSeed, s.assignee));
        try market.reassign(id, _terms[i]) {
            _slashed(i, s, st, intact ? _terms[i].bond : 0, true);
        } catch (bytes memory reason) {
            _countPanic(reason);
        }
    }

    function abandon(uint256 jobSeed) external {
        calls++;
        (bool any, uint256 i) = _job(jobSeed, Want.Live);
        if (!any) return;
        (JobId id, JobState memory s, SlashTerms memory st, bool intact) = _claimOf(i);
        vm.prank(s.assignee);
        try market.abandon(id, _terms[i]) {
            _slashed(i, s, st, intact ? (uint256(_terms[i].bond) * st.abandonSlashBps) / BPS : 0, true);
        } catch (bytes memory reason) {
            _countPanic(reason);
        }
    }

    function cancel(uint256 jobSeed) external {
        calls++;
        (bool any, uint256 i) = _job(jobSeed, Want.Claimable);
        if (!any) return;
        vm.prank(_terms[i].requester);
        try market.cancel(JobId.wrap(jobIds[i]), _terms[i]) {} catch (bytes memory reason) {
            _countPanic(reason);
        }
    }

    /// `waitForExpiry`: the keeper first waits until the job has expired.
    function expire(uint256 actorSeed, uint256 jobSeed, bool waitForExpiry) external {
        calls++;
        (bool any, uint256 i) = _job(jobSeed, Want.Active);
        if (!any) return;
        (JobId id, JobState memory s, SlashTerms memory st, bool intact) = _claimOf(i);
        if (waitForExpiry && block.timestamp <= _terms[i].expiresAt) vm.warp(uint256(_terms[i].expiresAt) + 1);
        vm.prank(_keeper(actorSeed, s.assignee));
        try market.expire(id, _terms[i]) {
            if (s.status == JobStatus.Claimed) _slashed(i, s, st, intact ? _terms[i].bond : 0, false);
        } catch (bytes memory reason) {
            _countPanic(reason);
        }
    }

    /// Books a slash of `amount` of job `i`'s assignee (of `claim`, its state before the slash) under the claim's
    /// terms: the stake it takes and the treasury share to the claim's treasury; after a reassign or abandon
    /// (`reopens`), if the job reopened, the reward share added to both ends of its ramp and the ramp paused for the
    /// time the claim held the job; nothing if it closed at the attempt limit.
    function _slashed(uint256 i, JobState memory claim, SlashTerms memory st, uint256 amount, bool reopens) private {
        address prover = claim.assignee;
        // A slash larger than the stake booked is recorded as an impossible stake rather than reverted here: a revert
        // would undo the market's call too and hide the difference from the invariant.
        uint256 booked = expectedStaked[prover];
        expectedStaked[prover] = booked >= amount ? booked - amount : type(uint256).max;
        expectedTreasuryOwed[st.treasury] += (amount * st.treasuryShareBps) / BPS;
        if (amount == 0) releasedWithoutSlash++;
        if (!reopens) return;
        if (market.jobState(JobId.wrap(jobIds[i])).status == JobStatus.Open) {
            uint96 reward = uint96((amount * st.rewardShareBps) / BPS);
            uint256 start = _terms[i].rampStart;
            uint256 from = claim.claimedAt > start ? claim.claimedAt : start;
            uint256 to = block.timestamp > start ? block.timestamp : start;
            _terms[i].minFee += reward;
            _terms[i].maxFee += reward;
            _terms[i].rampStart = uint40(start + to - from);
        } else {
            closedAtAttemptLimit++;
        }
    }

    // ------------------------------------------------------------------ the owner, the verifier, time

    /// New slash shares and abandon fraction, each within its cap, and a minBond at or above the floor.
    function setParams(
        uint16 keeper,
        uint16 reward,
        uint16 treasuryShare,
        uint16 abandonFraction,
        uint96 minBond
    ) external {
        calls++;
        MarketParams memory p = market.params();
        p.keeperShareBps = uint16(bound(keeper, 0, market.MAX_KEEPER_SHARE_BPS()));
        p.treasuryShareBps = uint16(bound(treasuryShare, 0, market.MAX_TREASURY_SHARE_BPS()));
        uint256 rewardCap = BPS - p.keeperShareBps - p.treasuryShareBps;
        uint256 recoverableCap = market.MAX_RECOVERABLE_SHARE_BPS() - p.keeperShareBps;
        p.rewardShareBps = uint16(bound(reward, 0, rewardCap < recoverableCap ? rewardCap : recoverableCap));
        p.abandonSlashBps = uint16(bound(abandonFraction, 0, market.MAX_ABANDON_SLASH_BPS()));
        p.minBond = uint96(bound(minBond, market.MIN_BOND_FLOOR(), 1e18));
        vm.prank(owner);
        market.setParams(p);
        reprices++;
    }

    function setTreasury(bool second) external {
        calls++;
        vm.prank(owner);
        market.setTreasury(treasuries[second ? 1 : 0]);
        reprices++;
    }

    /// The verifier's code replaced by a rejecting verifier's (as an EIP-7702 delegation re-pointed would), or put back.
    function setVerifierCode(bool broken) external {
        calls++;
        vm.etch(verifier, broken ? _rejectingCode : _registeredCode);
    }

    /// A claim's attempt number moved to one of the last two (as if the job had been reopened ~1,000 times), so that
    /// its failure reopens it for the last claim or closes it at the attempt limit.
    function jumpToLastAttempts(uint256 jobSeed, bool last) external {
        calls++;
        (bool any, uint256 i) = _job(jobSeed, Want.Held);
        if (!any) return;
        JobState memory s = market.jobState(JobId.wrap(jobIds[i]));
        if (s.status != JobStatus.Claimed) return;
        bytes32 slot = jobStateSlot(jobIds[i]);
        if (vm.load(address(market), slot) != packJobState(s)) return; // test_jobStateSlot fails in that case
        s.attempt = market.MAX_ATTEMPTS() - (last ? 1 : 2);
        vm.store(address(market), slot, packJobState(s));
    }

    function warp(uint32 secondsAhead) external {
        calls++;
        vm.warp(block.timestamp + bound(secondsAhead, 1, 2 days));
    }

    /// Every refusal the handler swallows is looked at: a `Panic(uint256)` is counted, any named error is expected.
    function _countPanic(bytes memory reason) private {
        if (reason.length >= 4 && bytes4(reason) == bytes4(0x4e487b71)) panics++;
    }

    function bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        return lo + (x % (hi - lo + 1));
    }
}

/// @notice A market that locks the wrong price: its code stands in for the market's (`vm.etch`, its storage kept) and
///         runs the real market's code for everything, but makes each claim as if `LATE` seconds later than the
///         block's time (so a claim on a ramp locks a later, higher price and a later deadline). Only
///         `test_claimPriceCheckCatchesAMispricedClaim` uses it, to show that the handler's claim check can fire.
contract LateClaimMarket {
    uint256 internal constant LATE = 100;
    address internal immutable _market;

    /// `market_`: a market deployed with the same token and unbonding delay as the one this code stands in for.
    constructor(address market_) {
        _market = market_;
    }

    function claim(JobId, JobTerms calldata) external {
        vm.warp(block.timestamp + LATE);
        (bool ok, bytes memory reason) = _market.delegatecall(msg.data);
        vm.warp(block.timestamp - LATE);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(reason, 32), mload(reason))
            }
        }
    }

    fallback() external {
        address m = _market;
        assembly {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), m, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) {
                revert(0, returndatasize())
            }
            return(0, returndatasize())
        }
    }
}

/// @notice DESIGN.md rule 8: the market's token balance equals Σ escrowed maximum fees + Σ stakes (bonded and unbonding)
///         + Σ withdrawable balances (both treasuries' included), under random sequences of every action, the
///         owner's re-pricing and a verifier whose code changes among them; and a prover's stake moves only by its own
///         stakes, unstakes and the slashes of its own claims, each by the terms the claim was made under.
contract ProofMarketInvariantTest {
    ProofMarket internal market;
    TestToken internal token;
    MarketHandler internal handler;
    address internal constant TREASURY = address(0x7EA5);
    address internal constant TREASURY2 = address(0x7EA6);

    function setUp() public {
        token = new TestToken("Proof Token", "PRF");
        MarketParams memory p = MarketParams({
            keeperShareBps: 1_000,
            rewardShareBps: 3_000,
            treasuryShareBps: 1_000,
            abandonSlashBps: 2_500,
            minProvingWindow: 60,
            maxProvingWindow: 1 days,
            minBond: 1e18,
            paused: false
        });
        // The owner is this test; the handler acts as it (vm.prank) for setParams and setTreasury.
        market = new ProofMarket(token, address(this), TREASURY, 7 days, p);
        AcceptingVerifier verifier = new AcceptingVerifier();
        CircuitId circuitId = market.registerCircuit(
            CircuitRegistration({
                name: "accepting",
                verifier: address(verifier),
                system: ProofSystem.Groth16,
                nPublicOutputs: 0,
                nPublicInputs: 1,
                batchVerifier: address(0),
                manifestHash: bytes32(0),
                artifactsURI: ""
            })
        );
        handler = new MarketHandler(market, token, circuitId, address(this), [TREASURY, TREASURY2]);
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// Jobs closed at the attempt limit are Expired, so, like every final job, they hold no fee and no bond.
    function invariant_tokensHeldEqualEscrowPlusStakesPlusWithdrawable() public view {
        uint256 escrow;
        uint256 bonds;
        for (uint256 i; i < handler.jobCount(); ++i) {
            JobState memory s = market.jobState(JobId.wrap(handler.jobIds(i)));
            JobTerms memory t = handler.termsOf(i);
            if (s.status == JobStatus.Open || s.status == JobStatus.Claimed) escrow += t.maxFee;
            if (s.status == JobStatus.Claimed) bonds += t.bond;
        }
        uint256 stakes;
        uint256 locked;
        uint256 owed = market.withdrawable(TREASURY) + market.withdrawable(TREASURY2);
        for (uint256 i; i < 4; ++i) {
            address a = handler.actors(i);
            ProverAccount memory acct = market.account(a);
            require(acct.locked <= acct.staked, "locked stake exceeds stake");
            stakes += uint256(acct.staked) + acct.unbonding;
            locked += acct.locked;
            owed += market.withdrawable(a);
        }
        require(
            token.balanceOf(address(market)) == escrow + stakes + owed,
            "token balance != escrow + stakes + withdrawable"
        );
        require(locked == bonds, "locked stake != bonds of claimed jobs");
    }

    /// A stake is reduced only by unstaking and by slashes of the prover's own missed or abandoned claims, computed
    /// with the claim's slash terms (none when the verifier's code changed under it); each treasury is credited only
    /// the treasury shares of claims made while it was the treasury.
    function invariant_slashesFollowTheClaimsTerms() public view {
        for (uint256 i; i < 4; ++i) {
            address a = handler.actors(i);
            require(market.account(a).staked == handler.expectedStaked(a), "stake moved other than by its own slashes");
        }
        require(market.withdrawable(TREASURY) == handler.expectedTreasuryOwed(TREASURY), "treasury 1 credit");
        require(market.withdrawable(TREASURY2) == handler.expectedTreasuryOwed(TREASURY2), "treasury 2 credit");
    }

    /// Every refusal is a named error, never a panic (issue #12: no amount can overflow).
    function invariant_noPanics() public view {
        require(handler.panics() == 0, "a market call panicked instead of reverting with a named error");
    }

    /// While the verifier's code is not the registered code, no claim and no proof is accepted.
    function invariant_changedVerifierIsRefused() public view {
        require(handler.acceptedOnChangedCode() == 0, "claim or proof accepted on a changed verifier");
    }

    /// Issue #14: every claim locks the ramp's price at its second, never below an earlier claim's price of the same
    /// job; every proof pays exactly that price and refunds the requester the rest of its escrow.
    function invariant_claimsLockTheRampPrice() public view {
        require(handler.priceBreaches() == 0, "a claim or proof broke the price rules");
    }

    /// Every live claim holds slash terms that exist: one set the owner made, at or before the current one.
    function invariant_claimsHoldExistingSlashTerms() public view {
        uint24 current = market.slashTermsId();
        for (uint256 i; i < handler.jobCount(); ++i) {
            JobState memory s = market.jobState(JobId.wrap(handler.jobIds(i)));
            if (s.status != JobStatus.Claimed) continue;
            require(s.slashTermsId >= 1 && s.slashTermsId <= current, "claim without slash terms");
            require(market.slashTerms(s.slashTermsId).treasury != address(0), "slash terms never set");
        }
    }

    function _deadlineOf(JobId id, JobTerms memory t) private view returns (uint256) {
        uint256 end = uint256(market.jobState(id).claimedAt) + t.provingWindow;
        return end < t.expiresAt ? end : t.expiresAt;
    }

    /// The slot the handler writes to move a claim's attempt is the job's state word.
    function test_jobStateSlot() public {
        handler.stake(0, type(uint96).max);
        handler.post(1, 1, 1e18, 600);
        handler.claim(0, 0);
        JobState memory s = market.jobState(JobId.wrap(handler.jobIds(0)));
        require(s.status == JobStatus.Claimed, "claim failed");
        require(vm.load(address(market), jobStateSlot(handler.jobIds(0))) == packJobState(s), "job state slot moved");
        handler.jumpToLastAttempts(0, true);
        require(market.jobState(JobId.wrap(handler.jobIds(0))).attempt == market.MAX_ATTEMPTS() - 1, "attempt not set");
    }

    /// A fuzzed single path: every split of a slashed bond adds up to the bond, whatever the amounts.
    function testFuzz_reassignSplitConservesTheBond(uint96 bond, uint96 fee) public {
        bond = uint96(1e18 + (bond % 1e24));
        fee = uint96(1 + (fee % 1e24));
        handler.stake(0, type(uint96).max);
        handler.post(1, fee, bond, 600);
        uint256 before = token.balanceOf(address(market));
        handler.claim(0, 0);
        JobId id = JobId.wrap(handler.jobIds(0));
        require(market.jobState(id).status == JobStatus.Claimed, "claim failed");
        vm.warp(_deadlineOf(id, handler.termsOf(0)) + 1);
        handler.reassign(2, 0, false);
        require(market.jobState(id).status == JobStatus.Open, "reassign failed");
        require(token.balanceOf(address(market)) == before, "reassign moved tokens");
        invariant_tokensHeldEqualEscrowPlusStakesPlusWithdrawable();
        invariant_slashesFollowTheClaimsTerms();
    }

    /// A fuzzed single path: a claim re-priced by the owner after it was made is slashed by its own terms.
    function testFuzz_repricedClaimKeepsItsTerms(uint16 k, uint16 r, uint16 t, uint16 a, bool abandonIt) public {
        handler.stake(0, type(uint96).max);
        handler.post(1, 1e18, 1e18, 600);
        handler.claim(0, 0);
        JobId id = JobId.wrap(handler.jobIds(0));
        uint256 bond = handler.termsOf(0).bond;
        uint24 termsId = market.jobState(id).slashTermsId;
        handler.setParams(k, r, t, a, 1e18);
        handler.setTreasury(true);
        require(market.jobState(id).slashTermsId == termsId, "claim lost its terms");
        if (abandonIt) {
            handler.abandon(0);
        } else {
            vm.warp(_deadlineOf(id, handler.termsOf(0)) + 1);
            handler.reassign(2, 0, false);
        }
        require(market.jobState(id).status == JobStatus.Open, "slash failed");
        // The old treasury got the old share (10%) of the slash; the new one nothing.
        uint256 slashed = abandonIt ? bond / 4 : bond;
        require(market.withdrawable(TREASURY) == slashed / 10, "old treasury share");
        require(market.withdrawable(TREASURY2) == 0, "new treasury paid for an old claim");
        invariant_tokensHeldEqualEscrowPlusStakesPlusWithdrawable();
        invariant_slashesFollowTheClaimsTerms();
    }

    /// A fuzzed single path: the claim numbered MAX_ATTEMPTS - 1 fails (reassigned or abandoned) and the job closes as
    /// Expired, its fee refunded to the requester with the requester's share of the slash (the reward share included,
    /// there being no next prover).
    function testFuzz_lastClaimClosesTheJob(uint96 fee, uint96 bond, bool abandonIt, bool fromSecondToLast) public {
        handler.stake(0, type(uint96).max);
        handler.stake(1, type(uint96).max);
        // A window seed of 3 days gives a short proving window (237 s) and an expiry 3 days later, so both claims
        // can miss their deadlines before the job expires.
        handler.post(2, fee, bond, 3 days);
        handler.claim(0, 0);
        handler.jumpToLastAttempts(0, !fromSecondToLast);
        JobId id = JobId.wrap(handler.jobIds(0));
        if (fromSecondToLast) {
            handler.reassign(3, 0, true);
            require(market.jobState(id).status == JobStatus.Open, "second to last claim closed the job");
            handler.claim(1, 0);
        }
        JobState memory s = market.jobState(id);
        require(s.status == JobStatus.Claimed && s.attempt == market.MAX_ATTEMPTS() - 1, "not the last claim");
        JobTerms memory t = handler.termsOf(0);
        address requester = t.requester;
        uint256 owedBefore = market.withdrawable(requester);
        // The deployment's terms: keeper 10%, treasury 10%, abandon 25%; the rest of the slash to the requester.
        uint256 slashed = abandonIt ? t.bond / 4 : t.bond;
        uint256 requesterShare = slashed - (abandonIt ? 0 : slashed / 10) - slashed / 10;
        if (abandonIt) handler.abandon(0);
        else handler.reassign(3, 0, true);
        require(market.jobState(id).status == JobStatus.Expired, "the last failed claim did not close the job");
        require(market.withdrawable(requester) == owedBefore + t.maxFee + requesterShare, "escrow not refunded");
        invariant_tokensHeldEqualEscrowPlusStakesPlusWithdrawable();
        invariant_slashesFollowTheClaimsTerms();
    }

    /// A ramped job claimed half way up its ramp and proved: the handler's payment checks run (a proof paid, a refund
    /// credited) and find nothing wrong. Fails if a ramped job were never proven, or if its price or refund were off.
    function test_rampedJobIsPaidItsLockedPriceAndRefundsTheRest() public {
        handler.stake(0, type(uint96).max);
        // Posted by actor 1, a ramp starting now (rampSeed % 3 != 2) of 1,000 s (rampSeed >> 8), from 1e20 up.
        handler.postRamped(1, 1e21 + 1, 1e20, 1_000 << 8, 1e18, 600);
        JobTerms memory t = handler.termsOf(0);
        require(t.rampDuration == 1_000 && t.minFee == 1e20 && t.maxFee > t.minFee, "not the ramp meant");
        vm.warp(uint256(t.rampStart) + 500);
        handler.claim(0, 0);
        JobState memory s = market.jobState(JobId.wrap(handler.jobIds(0)));
        require(s.status == JobStatus.Claimed && s.assignee == handler.actors(0), "claim failed");
        uint256 price = handler.lockedPrice(handler.jobIds(0));
        require(price == t.minFee + (uint256(t.maxFee) - t.minFee) / 2, "not the middle of the ramp");
        vm.warp(block.timestamp + 60);
        handler.submit(0);
        require(market.jobState(JobId.wrap(handler.jobIds(0))).status == JobStatus.Proved, "proof failed");
        require(handler.proofsPaid() == 1 && handler.refundsOnProof() == 1, "the payment checks did not run");
        require(handler.priceBreaches() == 0, "price rules broken");
        require(market.withdrawable(handler.actors(0)) == price, "prover not paid the locked price");
        require(market.withdrawable(t.requester) == t.maxFee - price, "requester not refunded the rest");
        invariant_tokensHeldEqualEscrowPlusStakesPlusWithdrawable();
    }

    /// `submitBatch` proves two claims of one prover in one `submitProofs`: a job of actor 1 claimed a quarter up its
    /// ramp and one of actor 2, whose ramp starts later, claimed before its start (at its minimum). Each requester
    /// is refunded its own escrow's rest, the prover is paid both locked prices, and the handler's books agree.
    function test_batchPaysEachJobItsLockedPrice() public {
        handler.stake(0, type(uint96).max);
        // Actor 1: a ramp from 1e20 starting now, over 1,000 s.
        handler.postRamped(1, 1e21 + 1, 1e20, 1_000 << 8, 1e18, 600);
        // Actor 2: a ramp from 3e19 starting later (rampSeed 88,400: % 3 == 2, starting 88,400 % 1 day = 2,000 s
        // from now, lasting 88,400 >> 8 = 345 s), with a proving window of 237 s (window seed 3 days).
        handler.postRamped(2, 5e20 + 1, 3e19, 88_400, 1e18, 3 days);
        JobTerms memory a = handler.termsOf(0);
        JobTerms memory b = handler.termsOf(1);
        require(
            b.requester != a.requester && b.rampStart > block.timestamp && b.minFee < b.maxFee,
            "not the jobs meant"
        );
        vm.warp(uint256(a.rampStart) + 250);
        handler.claim(0, 0);
        handler.claim(0, 1);
        uint256 priceA = handler.lockedPrice(handler.jobIds(0));
        uint256 priceB = handler.lockedPrice(handler.jobIds(1));
        require(priceA == a.minFee + (uint256(a.maxFee) - a.minFee) / 4 && priceB == b.minFee, "not the prices meant");
        vm.warp(block.timestamp + 60);
        handler.submitBatch(0, 2);
        for (uint256 i; i < 2; ++i) {
            require(market.jobState(JobId.wrap(handler.jobIds(i))).status == JobStatus.Proved, "batch proof failed");
        }
        require(handler.batchesPaid() == 1 && handler.proofsPaid() == 2, "the batch's payment checks did not run");
        require(handler.priceBreaches() == 0 && handler.panics() == 0, "price rules broken");
        require(market.withdrawable(handler.actors(0)) == priceA + priceB, "prover not paid both locked prices");
        require(market.withdrawable(a.requester) == a.maxFee - priceA, "first requester not refunded its rest");
        require(market.withdrawable(b.requester) == b.maxFee - priceB, "second requester not refunded its rest");
        invariant_tokensHeldEqualEscrowPlusStakesPlusWithdrawable();
    }

    /// The claim check can fail: a market that locks the price (and deadline) of a later second than the claim's is
    /// caught at the claim, by the price it reports against the handler's formula (and by its deadline), and
    /// `invariant_claimsLockTheRampPrice` fails.
    function test_claimPriceCheckCatchesAMispricedClaim() public {
        handler.stake(0, type(uint96).max);
        handler.postRamped(1, 1e21 + 1, 1e20, 1_000 << 8, 1e18, 600);
        vm.warp(uint256(handler.termsOf(0).rampStart) + 500);
        bytes memory marketCode = address(market).code;
        ProofMarket same = new ProofMarket(token, address(this), TREASURY, 7 days, market.params());
        vm.etch(address(market), address(new LateClaimMarket(address(same))).code);
        handler.claim(0, 0);
        vm.etch(address(market), marketCode);
        require(market.jobState(JobId.wrap(handler.jobIds(0))).status == JobStatus.Claimed, "claim failed");
        require(handler.lockedPrice(handler.jobIds(0)) > handler.priceOf(0, block.timestamp), "not a later price");
        require(handler.priceBreaches() == 2, "a claim locking a later second's price and deadline went unnoticed");
        try this.invariant_claimsLockTheRampPrice() {
            revert("invariant_claimsLockTheRampPrice passed with a breach");
        } catch {}
    }

    /// The proof check can fail: with the price the handler recorded for the claim made wrong, the proof that
    /// follows (paid the claim's true price) is counted as a breach and `invariant_claimsLockTheRampPrice` fails.
    function test_priceCheckCatchesAWrongPrice() public {
        handler.stake(0, type(uint96).max);
        handler.postRamped(1, 1e21 + 1, 1e20, 1_000 << 8, 1e18, 600);
        vm.warp(uint256(handler.termsOf(0).rampStart) + 500);
        handler.claim(0, 0);
        uint256 jobId = handler.jobIds(0);
        uint256 price = handler.lockedPrice(jobId);
        require(price > 0, "claim failed");
        // `lockedPrice[jobId]` in the handler's storage, found as the mapping entry holding the price.
        bytes32 slot;
        for (uint256 p; p < 64 && slot == bytes32(0); ++p) {
            bytes32 candidate = keccak256(abi.encode(jobId, p));
            if (uint256(vm.load(address(handler), candidate)) == price) slot = candidate;
        }
        require(slot != bytes32(0), "lockedPrice slot not found");
        vm.store(address(handler), slot, bytes32(price + 1));
        handler.submit(0);
        require(handler.priceBreaches() == 1, "a wrong expected price went unnoticed");
        try this.invariant_claimsLockTheRampPrice() {
            revert("invariant_claimsLockTheRampPrice passed with a breach");
        } catch {}
    }
}
