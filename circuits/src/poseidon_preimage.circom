pragma circom 2.1.6;

include "circomlib/circuits/poseidon.circom";

// Knowledge of a secret Poseidon preimage, bound to a public context.
//
// The requester publishes `hash` and a `context` (say, the address that may use the proof). The prover shows it
// knows `preimage` with Poseidon(preimage) == hash. `context` is squared into a constraint so that the proof is
// tied to it: the same preimage proof cannot be replayed under another context.
//
// Public signals (circom order, outputs first): [hash, context].
template PoseidonPreimage() {
    signal input preimage[2];
    signal input hash;
    signal input context;

    component hasher = Poseidon(2);
    hasher.inputs <== preimage;
    hasher.out === hash;

    signal contextSquared <== context * context;
}

component main {public [hash, context]} = PoseidonPreimage();
