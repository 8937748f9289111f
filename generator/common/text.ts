import { createHash } from 'node:crypto';

/** Small pieces of text every layer makes the same way. */

/** The hex sha256 of a file's bytes (the manifest's record, the upload's check). */
export const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** A file mode as chmod and stat print it: `644`, `4755`. */
export const octal = (mode: number) => (mode & 0o7777).toString(8);
