import { createHash } from 'node:crypto';

/** Small pieces of text every layer makes the same way. */

/** The hex sha256 of a file's bytes (the manifest's record, the upload's check). */
export const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** A file mode as chmod and stat print it: `644`, `4755`; `width` pads it with zeros (`0644`). */
export const octal = (mode: number, width = 0) => (mode & 0o7777).toString(8).padStart(width, '0');
