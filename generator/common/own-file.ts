/**
 * A file of labgen's own (keep, the secrets, known_hosts, init's lab.yaml), relative to the lab
 * folder, written in the writer's transaction with the lab folder; no contents: removed. The
 * secrets store makes them and the writer writes them, neither knowing the other.
 */
export interface OwnFile {
  path: string;
  contents?: string | Uint8Array;
  /** default 0644 */
  mode?: number;
  /** the mode of the folders made for it (0700 for the secrets) */
  dirMode?: number;
}
