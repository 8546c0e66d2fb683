/**
 * A build failure the user can fix (a missing file, a circuit that does not compile, a ptau too small): the build
 * CLI prints its message as one line and exits 2, with no stack trace.
 */
export class BuildError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BuildError";
  }
}
