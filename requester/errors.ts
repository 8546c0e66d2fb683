/** A request the requester's client refuses, with what to do about it (the CLI prints it and exits 2). */
export class RequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RequestError";
  }
}
