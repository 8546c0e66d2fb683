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
///      supply the verification key as constants. Proof encoding: see {IGroth16BatchVerifier}; b is in the
///      precompile's order (x.imaginary, x.real, y.imaginary, y.real), as snarkjs' `exportSolidityCallData` writes it.
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
        return _verifyBatch(proof, publicSignals);
    }

    /// @inheritdoc IGroth16BatchVerifier
    function verifyBatch(bytes calldata proofs, uint256[] calldata publicSignals) external view returns (bool) {
        return _verifyBatch(proofs, publicSignals);
    }

    function _verifyBatch(bytes calldata proofs, uint256[] calldata signals) internal view returns (bool ok) {
        VerifyingKey memory vk = _verifyingKey();
        uint256 nPub = vk.ic.length - 1;
        uint256 n = proofs.length / PROOF_BYTES;
        if (n == 0 || proofs.length != n * PROOF_BYTES || signals.length != n * nPub) return false;

        // The seed hashes every proof and signal where they will be copied anyway; the arrays below then take the same
        // memory, so the copy costs no memory of its own.
        bytes32 seed;
        assembly ("memory-safe") {
            let m := mload(0x40)
            calldatacopy(m, proofs.offset, proofs.length)
            calldatacopy(add(m, proofs.length), signals.offset, shl(5, signals.length))
            seed := keccak256(m, add(proofs.length, shl(5, signals.length)))
        }
        uint256[] memory coef = new uint256[](nPub); // Σ_i r_i·s_ij, per public signal j
        uint256[] memory pairs = new uint256[](6 * (n + 3)); // N proof pairs, then α/β, L/γ, C/δ
        uint256 sumR; // Σ r_i
        uint256 accCx; // Σ r_i·C_i
        uint256 accCy;
        // The per-proof loop reads calldata in place (no copies) and calls the precompiles directly: it is the part
        // that grows with N. Scratch memory (0x00-0x3f, then past the free-memory pointer) holds precompile inputs
        // and outputs.
        assembly ("memory-safe") {
            ok := 1
            let scratch := mload(0x40)
            let coefs := add(coef, 32)
            let pair := add(pairs, 32)
            let sig := signals.offset
            let end := add(proofs.offset, proofs.length)
            for {
                let p := proofs.offset
                let i := 0
            } lt(p, end) {
                p := add(p, 256)
                i := add(i, 1)
                pair := add(pair, 192)
            } {
                let r := 1
                if i {
                    mstore(0, seed)
                    mstore(32, i)
                    r := add(mod(keccak256(0, 64), sub(R, 1)), 1)
                }
                sumR := addmod(sumR, r, R)
                for {
                    let cj := coefs
                    let sigEnd := add(sig, shl(5, nPub))
                } lt(sig, sigEnd) {
                    sig := add(sig, 32)
                    cj := add(cj, 32)
                } {
                    let sj := calldataload(sig)
                    ok := and(ok, lt(sj, R))
                    mstore(cj, addmod(mload(cj), mulmod(r, sj, R), R))
                }
                // Pair i: (-r·A, B), B as given.
                let ax := calldataload(p)
                let ay := calldataload(add(p, 32))
                ok := and(ok, and(lt(ax, Q), lt(ay, Q)))
                mstore(pair, ax)
                mstore(add(pair, 32), mod(sub(Q, ay), Q))
                calldatacopy(add(pair, 64), add(p, 64), 128)
                switch i
                case 0 {
                    // r = 1: -A and C as they are; Σ r·C starts at C.
                    accCx := calldataload(add(p, 192))
                    accCy := calldataload(add(p, 224))
                }
                default {
                    let b0 := mload(add(pair, 64))
                    let b1 := mload(add(pair, 96))
                    // -A·r over -A in place: (x, y, r) at pair, pair + 32 and pair + 64
                    mstore(add(pair, 64), r)
                    ok := and(ok, staticcall(gas(), 0x07, pair, 96, pair, 64))
                    mstore(add(pair, 64), b0)
                    mstore(add(pair, 96), b1)
                    // accC += r·C
                    mstore(scratch, calldataload(add(p, 192)))
                    mstore(add(scratch, 32), calldataload(add(p, 224)))
                    mstore(add(scratch, 64), r)
                    ok := and(ok, staticcall(gas(), 0x07, scratch, 96, add(scratch, 64), 64))
                    mstore(scratch, accCx)
                    mstore(add(scratch, 32), accCy)
                    ok := and(ok, staticcall(gas(), 0x06, scratch, 128, scratch, 64))
                    accCx := mload(scratch)
                    accCy := mload(add(scratch, 32))
                }
            }
        }
        if (!ok) return false;

        (bool okAlpha, uint256[2] memory alphaR) = _mul(vk.alpha, sumR);
        (bool okX, uint256[2] memory vkX) = _mul(vk.ic[0], sumR);
        if (!okAlpha || !okX) return false;
        for (uint256 j; j < nPub; ++j) {
            (bool okM, uint256[2] memory term) = _mul(vk.ic[j + 1], coef[j]);
            if (!okM) return false;
            (okM, vkX) = _add(vkX, term);
            if (!okM) return false;
        }
        _putPair(pairs, n, alphaR, vk.beta);
        _putPair(pairs, n + 1, vkX, vk.gamma);
        _putPair(pairs, n + 2, [accCx, accCy], vk.delta);
        return _pairing(pairs);
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
