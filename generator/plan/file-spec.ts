/** What the plan says one output file is. Paths are relative to the lab folder, with "/". */
export type FileKind = 'vm' | 'pi' | 'k8s' | 'slurm' | 'laptop' | 'doc';

export interface FileSpec {
  path: string;
  contents: string;
  mode: number;
  /** what must happen after it changes: re-provision VMs, push to a Pi, re-apply k8s/ ... */
  kind: FileKind;
  /** the node the file belongs to, where it belongs to one */
  host?: string;
  /** for a Pi's rootfs/ file: where it lands on the Pi, its owner there, what restarts when it changes */
  target?: { path: string; owner: string; restart: string[] };
}

export const MODE = { file: 0o644, script: 0o755, private: 0o600 } as const;
