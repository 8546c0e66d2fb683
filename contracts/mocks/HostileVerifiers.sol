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
