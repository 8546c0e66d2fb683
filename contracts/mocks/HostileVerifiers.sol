// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice A "verifier" that tries to change state while verifying (and so reenter the market): under the
///         market's staticcall any state change reverts, which the market reads as an invalid proof.
contract StateChangingVerifier {
    uint256 public calls;
    address public market;
    bytes public payload;

    function arm(address market_, bytes calldata payload_) external {
        market = market_;
        payload = payload_;
    }

    fallback(bytes calldata) external returns (bytes memory) {
        calls += 1; // a state change: fails under staticcall
        if (market != address(0)) {
            (bool ok, ) = market.call(payload);
            ok;
        }
        return abi.encode(true);
    }
}

/// @notice Accepts every proof. Used only where verification is beside the point (the accounting invariant
///         fuzz): it shows that a circuit's verifier is the requester's choice, and that the market's money rules
///         hold whatever the verifier says.
contract AcceptingVerifier {
    fallback(bytes calldata) external returns (bytes memory) {
        return abi.encode(true);
    }
}

/// @notice Rejects every proof. A circuit registered with it makes anyone who claims one of its jobs miss the
///         deadline: honest workers must never claim it (their verifier bytecode check refuses the circuit).
contract RejectingVerifier {
    fallback(bytes calldata) external returns (bytes memory) {
        return abi.encode(false);
    }
}

/// @notice A rug pull: forwards every call to a real verifier until its owner flips the switch (after an honest
///         prover's claim), then rejects everything. Its code never changes, so the market's code-hash check
///         cannot see it; only a worker that compares the bytecode with the project's generated verifier can.
contract RugPullVerifier {
    address public immutable owner;
    /// Not named `target`: ethers' contract objects have a `target` (their address) of their own.
    address public immutable realVerifier;
    bool public pulled;

    constructor(address realVerifier_) {
        owner = msg.sender;
        realVerifier = realVerifier_;
    }

    function pull() external {
        require(msg.sender == owner, "not owner");
        pulled = true;
    }

    fallback(bytes calldata data) external returns (bytes memory) {
        if (pulled) return abi.encode(false);
        (bool ok, bytes memory result) = realVerifier.staticcall(data);
        require(ok, "real verifier reverted");
        return result;
    }
}

/// @notice A batch verifier that says yes to any batch (and any single proof) of `nPublic` signals: registered
///         beside the real single verifier, it would get garbage proofs paid through `submitProofs`.
contract LyingBatchVerifier {
    uint256 public immutable nPublic;

    constructor(uint256 nPublic_) {
        nPublic = nPublic_;
    }

    function verifyBatch(bytes calldata, uint256[] calldata) external pure returns (bool) {
        return true;
    }

    function verify(bytes calldata, uint256[] calldata) external pure returns (bool) {
        return true;
    }
}
