// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IGroth16BatchVerifier} from "../interfaces/IGroth16BatchVerifier.sol";

/// @title Groth16BatchVerifier
/// @notice Checks N Groth16 proofs of one verification key with one pairing product of N + 3 pairings instead of
///         4N. Each proof i must satisfy e(A_i, B_i) = e(α, β) · e(L_i, γ) · e(C_i, δ), with
///         L_i = IC_0 + Σ_j s_ij · IC_j. With coefficients r_i, the product over i becomes
///
///           Π e(-r_i·A_i, B_i) · e((Σ r_i)·α, β) · e(Σ r_i·L_i, γ) · e(Σ r_i·C_i, δ) = 1,
///
///         where Σ r_i·L_i = (Σ r_i)·IC_0 + Σ_j (Σ_i r_i·s_ij)·IC_j takes nPublic + 1 scalar multiplications however
///         large N is. A false proof passes only if the r_i cancel its error, which happens with probability about
///         1/r when they are unpredictable to the prover: r_0 = 1 and r_i (i > 0) come from a hash of every proof
///         and signal in the batch (Fiat-Shamir), so changing any proof changes all coefficients.
/// @dev Generated subclasses (contracts/verifiers/generated/*Groth16BatchVerifier.sol, by circuits/tool/build.ts)
///      supply the verification key as constants. Proof encoding: abi.encode(uint256[2] a, uint256[2][2] b,
///      uint256[2] c) with b in the precompile's order (x.imaginary, x.real, y.imaginary, y.real), as snarkjs'
///      `exportSolidityCallData` writes it.
abstract contract Groth16BatchVerifier is IGroth16BatchVerifier {
    /// Order of the scalar field (public signals, coefficients).
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// Order of the base field (point coordinates).
    uint256 internal constant Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583;

    uint256 private constant PROOF_BYTES = 8 * 32;

    struct VerifyingKey {
        uint256[2] alpha;
        uint256[4] beta;
        uint256[4] gamma;
        uint256[4] delta;
        uint256[2][] ic;
    }

    function _verifyingKey() internal pure virtual returns (VerifyingKey memory);

    /// @inheritdoc IGroth16BatchVerifier
    function nPublic() external pure returns (uint256) {
        return _verifyingKey().ic.length - 1;
    }

    /// @inheritdoc IGroth16BatchVerifier
    function verify(bytes calldata proof, uint256[] calldata publicSignals) external view returns (bool) {
        bytes[] memory proofs = new bytes[](1);
        proofs[0] = proof;
        uint256[][] memory signals = new uint256[][](1);
        signals[0] = publicSignals;
        return _verifyBatch(proofs, signals);
    }

    /// @inheritdoc IGroth16BatchVerifier
    function verifyBatch(bytes[] calldata proofs, uint256[][] calldata publicSignals) external view returns (bool) {
        return _verifyBatch(proofs, publicSignals);
    }

    /// @dev Running sums over the proofs of a batch.
    struct Accumulator {
        bytes32 seed;
        uint256 sumR; // Σ r_i
        uint256[] coef; // Σ_i r_i·s_ij, per public signal j
        uint256[2] accC; // Σ r_i·C_i, from the point at infinity (0, 0)
        uint256[] pairingInput; // 6 words per pair: N proof pairs, then α/β, L/γ, C/δ
    }

    function _verifyBatch(bytes[] memory proofs, uint256[][] memory publicSignals) internal view returns (bool) {
        uint256 n = proofs.length;
        if (n == 0 || publicSignals.length != n) return false;
        VerifyingKey memory vk = _verifyingKey();
        uint256 nPub = vk.ic.length - 1;

        Accumulator memory acc;
        acc.seed = keccak256(abi.encode(proofs, publicSignals));
        acc.coef = new uint256[](nPub);
        acc.pairingInput = new uint256[](6 * (n + 3));
        for (uint256 i; i < n; ++i) {
            if (!_accumulate(acc, i, proofs[i], publicSignals[i])) return false;
        }

        (bool okAlpha, uint256[2] memory alphaR) = _mul(vk.alpha, acc.sumR);
        (bool okX, uint256[2] memory vkX) = _mul(vk.ic[0], acc.sumR);
        if (!okAlpha || !okX) return false;
        for (uint256 j; j < nPub; ++j) {
            (bool okM, uint256[2] memory term) = _mul(vk.ic[j + 1], acc.coef[j]);
            if (!okM) return false;
            (okM, vkX) = _add(vkX, term);
            if (!okM) return false;
        }
        _putPair(acc.pairingInput, n, alphaR, vk.beta);
        _putPair(acc.pairingInput, n + 1, vkX, vk.gamma);
        _putPair(acc.pairingInput, n + 2, acc.accC, vk.delta);
        return _pairing(acc.pairingInput);
    }

    /// @dev Adds proof i to the running sums and writes its pair (-r_i·A_i, B_i); false if it is malformed.
    function _accumulate(
        Accumulator memory acc,
        uint256 i,
        bytes memory proof,
        uint256[] memory signals
    ) private view returns (bool) {
        if (proof.length != PROOF_BYTES || signals.length != acc.coef.length) return false;
        uint256 r = i == 0 ? 1 : (uint256(keccak256(abi.encode(acc.seed, i))) % (R - 1)) + 1;
        acc.sumR = addmod(acc.sumR, r, R);
        for (uint256 j; j < signals.length; ++j) {
            if (signals[j] >= R) return false;
            acc.coef[j] = addmod(acc.coef[j], mulmod(r, signals[j], R), R);
        }
        (uint256[2] memory a, uint256[4] memory b, uint256[2] memory c) = _decode(proof);
        if (a[0] >= Q || a[1] >= Q) return false;
        // -A_i, so that the products of both sides meet at 1.
        uint256[2] memory rA = [a[0], a[1] == 0 ? 0 : Q - a[1]];
        bool ok = true;
        if (r != 1) {
            (ok, rA) = _mul(rA, r);
            if (!ok) return false;
            (ok, c) = _mul(c, r);
            if (!ok) return false;
        }
        (ok, acc.accC) = _add(acc.accC, c);
        if (!ok) return false;
        _putPair(acc.pairingInput, i, rA, b);
        return true;
    }

    function _decode(
        bytes memory proof
    ) private pure returns (uint256[2] memory a, uint256[4] memory b, uint256[2] memory c) {
        assembly ("memory-safe") {
            let p := add(proof, 32)
            mstore(a, mload(p))
            mstore(add(a, 32), mload(add(p, 32)))
            mstore(b, mload(add(p, 64)))
            mstore(add(b, 32), mload(add(p, 96)))
            mstore(add(b, 64), mload(add(p, 128)))
            mstore(add(b, 96), mload(add(p, 160)))
            mstore(c, mload(add(p, 192)))
            mstore(add(c, 32), mload(add(p, 224)))
        }
    }

    function _putPair(uint256[] memory input, uint256 k, uint256[2] memory g1, uint256[4] memory g2) private pure {
        uint256 o = 6 * k;
        input[o] = g1[0];
        input[o + 1] = g1[1];
        input[o + 2] = g2[0];
        input[o + 3] = g2[1];
        input[o + 4] = g2[2];
        input[o + 5] = g2[3];
    }

    /// @dev ecMul precompile (0x07); fails on a point not on the curve.
    function _mul(uint256[2] memory p, uint256 s) private view returns (bool ok, uint256[2] memory out) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, mload(p))
            mstore(add(m, 32), mload(add(p, 32)))
            mstore(add(m, 64), s)
            ok := staticcall(gas(), 0x07, m, 96, out, 64)
        }
    }

    /// @dev ecAdd precompile (0x06).
    function _add(uint256[2] memory p, uint256[2] memory q) private view returns (bool ok, uint256[2] memory out) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, mload(p))
            mstore(add(m, 32), mload(add(p, 32)))
            mstore(add(m, 64), mload(q))
            mstore(add(m, 96), mload(add(q, 32)))
            ok := staticcall(gas(), 0x06, m, 128, out, 64)
        }
    }

    /// @dev ecPairing precompile (0x08): true when the product of the pairings is 1.
    function _pairing(uint256[] memory input) private view returns (bool result) {
        assembly ("memory-safe") {
            let ok := staticcall(gas(), 0x08, add(input, 32), mul(mload(input), 32), 0x00, 0x20)
            result := and(ok, eq(mload(0x00), 1))
        }
    }
}
