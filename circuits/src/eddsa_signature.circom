pragma circom 2.1.6;

include "circomlib/circuits/eddsaposeidon.circom";

// An EdDSA (Baby Jubjub, Poseidon) signature over a message by a public key, without revealing the signature.
//
// Useful to prove that an off-chain authority signed `message` (a credential, an oracle value) while keeping the
// signature itself private, so it cannot be lifted and reused elsewhere.
//
// Public signals (circom order, outputs first): [publicKeyX, publicKeyY, message].
template EdDSASignature() {
    signal input publicKeyX;
    signal input publicKeyY;
    signal input message;
    signal input signatureS;
    signal input signatureR8x;
    signal input signatureR8y;

    component verifier = EdDSAPoseidonVerifier();
    verifier.enabled <== 1;
    verifier.Ax <== publicKeyX;
    verifier.Ay <== publicKeyY;
    verifier.S <== signatureS;
    verifier.R8x <== signatureR8x;
    verifier.R8y <== signatureR8y;
    verifier.M <== message;
}

component main {public [publicKeyX, publicKeyY, message]} = EdDSASignature();
