import { randomBytes } from 'node:crypto';

/** A run's token, in the names of the temp files it leaves on a host (`.x.labgen-new-<token>`): unique per run, so a cleanup removes its own only. */
export const newToken = () => randomBytes(6).toString('hex');
