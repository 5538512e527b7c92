// The one API token the tests give the tap and the simulator: distinctive enough that finding
// it, or any 8-character piece of it, anywhere in output can only mean a leak. No piece of it
// may occur in ordinary output (a breakdown name such as `by-total-do-not-track` once did).
export const TOKEN = 'tok-SECRET-7f3a9c1e5b-qz8wv2xk4j';

/** Its distinctive middle: a token cut or re-encoded on its way out would still leak this. */
export const TOKEN_MIDDLE = 'SECRET-7f3a9c1e5b';
