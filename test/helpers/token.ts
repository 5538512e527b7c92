// The one API token the tests give the tap and the simulator: distinctive enough that finding
// it (or its middle) anywhere in output can only mean a leak.
export const TOKEN = 'tok-SECRET-7f3a9c1e5b-do-not-print';

/** Its distinctive middle: a token cut or re-encoded on its way out would still leak this. */
export const TOKEN_MIDDLE = 'SECRET-7f3a9c1e5b';
