// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ProofMarket} from "../../contracts/ProofMarket.sol";
import {JobRequest} from "../../contracts/interfaces/IProofMarket.sol";
import {AcceptingVerifier} from "../../contracts/mocks/HostileVerifiers.sol";
import {TestToken} from "../../contracts/mocks/TestToken.sol";
import {CircuitRegistration, ProofSystem} from "../../contracts/types/Circuit.sol";
import {CircuitId, JobId} from "../../contracts/types/JobId.sol";
import {JobState, JobStatus} from "../../contracts/types/JobState.sol";
import {JobTerms} from "../../contracts/types/JobTerms.sol";
import {MarketParams} from "../../contracts/types/MarketParams.sol";
import {ProverAccount} from "../../contracts/types/ProverAccount.sol";

/// The cheatcodes this test uses (Hardhat's Solidity test runner serves them at the standard address).
interface Vm {
    function warp(uint256) external;
    function prank(address) external;
}

Vm constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

/// @notice Drives the market with random sequences of every user action, from a few actors, keeping the terms of
///         each job as a prover would (from what each call did).
contract MarketHandler {
    ProofMarket public immutable market;
    TestToken public immutable token;
    CircuitId public immutable circuitId;
    address[4] public actors = [address(0xA11CE), address(0xB0B), address(0xCA401), address(0xD00D)];
    address public immutable treasury;

    JobTerms[] internal _terms;
    uint256[] public jobIds;
    uint256 public calls;

    constructor(ProofMarket market_, TestToken token_, CircuitId circuitId_, address treasury_) {
        market = market_;
        token = token_;
        circuitId = circuitId_;
        treasury = treasury_;
        for (uint256 i; i < actors.length; ++i) {
            token.mint(actors[i], 1e30);
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

    function _job(uint256 seed) private view returns (bool, uint256) {
        if (_terms.length == 0) return (false, 0);
        return (true, seed % _terms.length);
    }

    function stake(uint256 actorSeed, uint96 amount) external {
        calls++;
        amount = uint96(bound(amount, 1, 1e24));
        vm.prank(_actor(actorSeed));
        market.stake(amount);
    }

    function requestUnstake(uint256 actorSeed, uint96 amount) external {
        calls++;
        address a = _actor(actorSeed);
        uint96 free = market.freeStake(a);
        if (free == 0) return;
        vm.prank(a);
        market.requestUnstake(uint96(bound(amount, 1, free)));
    }

    function completeUnstake(uint256 actorSeed) external {
        calls++;
        vm.prank(_actor(actorSeed));
        try market.completeUnstake() {} catch {}
    }

    function withdraw(uint256 actorSeed, bool toTreasury) external {
        calls++;
        address a = toTreasury ? treasury : _actor(actorSeed);
        vm.prank(a);
        try market.withdraw(a) {} catch {}
    }

    function post(uint256 actorSeed, uint96 fee, uint96 bond, uint32 window) external {
        calls++;
        MarketParams memory p = market.params();
        JobRequest memory r = JobRequest({
            circuitId: circuitId,
            fee: uint96(bound(fee, 1, 1e22)),
            bond: uint96(bound(bond, p.minBond, 1e22)),
            provingWindow: uint32(bound(window, p.minProvingWindow, p.maxProvingWindow)),
            expiresAt: 0,
            inputsCommitment: keccak256(abi.encodePacked(uint256(7))),
            inputsHash: bytes32(0),
            inputsURI: ""
        });
        r.expiresAt = uint40(block.timestamp + r.provingWindow + bound(window, 0, 3 days));
        address a = _actor(actorSeed);
        vm.prank(a);
        JobId id = market.postJob(r);
        _terms.push(
            JobTerms({
                requester: a,
                circuitId: circuitId,
                expiresAt: r.expiresAt,
                provingWindow: r.provingWindow,
                fee: r.fee,
                bond: r.bond,
                inputsCommitment: r.inputsCommitment
            })
        );
        jobIds.push(JobId.unwrap(id));
    }

    function claim(uint256 actorSeed, uint256 jobSeed) external {
        calls++;
        (bool any, uint256 i) = _job(jobSeed);
        if (!any) return;
        vm.prank(_actor(actorSeed));
        try market.claim(JobId.wrap(jobIds[i]), _terms[i]) {} catch {}
    }

    function submit(uint256 jobSeed) external {
        calls++;
        (bool any, uint256 i) = _job(jobSeed);
        if (!any) return;
        JobState memory s = market.jobState(JobId.wrap(jobIds[i]));
        uint256[] memory signals = new uint256[](1);
        signals[0] = 7;
        vm.prank(s.assignee);
        try market.submitProof(JobId.wrap(jobIds[i]), _terms[i], new bytes(256), signals) {} catch {}
    }

    function reassign(uint256 actorSeed, uint256 jobSeed) external {
        calls++;
        (bool any, uint256 i) = _job(jobSeed);
        if (!any) return;
        MarketParams memory p = market.params();
        vm.prank(_actor(actorSeed));
        try market.reassign(JobId.wrap(jobIds[i]), _terms[i]) {
            _terms[i].fee += uint96((uint256(_terms[i].bond) * p.rewardShareBps) / 10_000);
        } catch {}
    }

    function abandon(uint256 jobSeed) external {
        calls++;
        (bool any, uint256 i) = _job(jobSeed);
        if (!any) return;
        MarketParams memory p = market.params();
        JobState memory s = market.jobState(JobId.wrap(jobIds[i]));
        vm.prank(s.assignee);
        try market.abandon(JobId.wrap(jobIds[i]), _terms[i]) {
            uint256 slashed = (uint256(_terms[i].bond) * p.abandonSlashBps) / 10_000;
            _terms[i].fee += uint96((slashed * p.rewardShareBps) / 10_000);
        } catch {}
    }

    function cancel(uint256 jobSeed) external {
        calls++;
        (bool any, uint256 i) = _job(jobSeed);
        if (!any) return;
        vm.prank(_terms[i].requester);
        try market.cancel(JobId.wrap(jobIds[i]), _terms[i]) {} catch {}
    }

    function expire(uint256 actorSeed, uint256 jobSeed) external {
        calls++;
        (bool any, uint256 i) = _job(jobSeed);
        if (!any) return;
        vm.prank(_actor(actorSeed));
        try market.expire(JobId.wrap(jobIds[i]), _terms[i]) {} catch {}
    }

    function warp(uint32 secondsAhead) external {
        calls++;
        vm.warp(block.timestamp + bound(secondsAhead, 1, 2 days));
    }

    function bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        return lo + (x % (hi - lo + 1));
    }
}

/// @notice DESIGN.md rule 8: the market's token balance equals Σ escrowed fees + Σ stakes (bonded and unbonding)
///         + Σ withdrawable balances (the treasury's included), under random sequences of every action.
contract ProofMarketInvariantTest {
    ProofMarket internal market;
    TestToken internal token;
    MarketHandler internal handler;
    address internal constant TREASURY = address(0x7EA5);

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
        handler = new MarketHandler(market, token, circuitId, TREASURY);
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function invariant_tokensHeldEqualEscrowPlusStakesPlusWithdrawable() public view {
        uint256 escrow;
        uint256 bonds;
        for (uint256 i; i < handler.jobCount(); ++i) {
            JobState memory s = market.jobState(JobId.wrap(handler.jobIds(i)));
            JobTerms memory t = handler.termsOf(i);
            if (s.status == JobStatus.Open || s.status == JobStatus.Claimed) escrow += t.fee;
            if (s.status == JobStatus.Claimed) bonds += t.bond;
        }
        uint256 stakes;
        uint256 locked;
        uint256 owed = market.withdrawable(TREASURY);
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
        vm.warp(market.jobState(id).deadline + 1);
        handler.reassign(2, 0);
        require(market.jobState(id).status == JobStatus.Open, "reassign failed");
        require(token.balanceOf(address(market)) == before, "reassign moved tokens");
        invariant_tokensHeldEqualEscrowPlusStakesPlusWithdrawable();
    }
}
