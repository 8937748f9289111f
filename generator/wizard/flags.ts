/**
 * The flag of every `labgen init` question, in the order the wizard asks them. This is the CLI
 * face of the question table (./questions.ts, keyed by the same names): it has no imports so
 * that cli/main.ts can register the flags without loading the model for `labgen --help`.
 * A key is the camelCase commander makes of its flag (`--pi-ip` → piIp).
 */
export const INIT_FLAGS = {
  name: { flag: '--name <name>', help: 'lab name (an RFC 1123 name)' },
  domain: { flag: '--domain <domain>', help: 'DNS domain of the lab' },
  subnet: { flag: '--subnet <cidr>', help: 'LAN subnet of the laptop and the Pis' },
  gateway: { flag: '--gateway <ip>', help: 'LAN gateway (the laptop sharing its Wi-Fi)' },
  cpIp: { flag: '--cp-ip <ip>', help: 'IP of the control-plane VM' },
  cpCpus: { flag: '--cp-cpus <n>', help: 'CPUs of the control-plane VM' },
  cpMemory: { flag: '--cp-memory <mib>', help: 'memory of the control-plane VM, MiB' },
  workers: { flag: '--workers <n>', help: 'number of worker VMs (0: the control plane is the whole cluster)' },
  workerIp: { flag: '--worker-ip <ip>', help: 'IP of the first worker VM; the others follow it' },
  workerCpus: { flag: '--worker-cpus <n>', help: 'CPUs per worker VM' },
  workerMemory: { flag: '--worker-memory <mib>', help: 'memory per worker VM, MiB' },
  pis: { flag: '--pis <n>', help: 'number of Raspberry Pis' },
  piNames: { flag: '--pi-names <list>', help: 'Pi names, comma-separated' },
  piIp: { flag: '--pi-ip <ip>', help: 'IP of the first Pi; the others follow it' },
  os: { flag: '--os <os>', help: 'Raspberry Pi OS release: bullseye | bookworm | trixie' },
  storage: { flag: '--storage <pi>', help: 'the storage (NFS) Pi, or none' },
  aptcache: { flag: '--aptcache <pi>', help: 'the apt cache Pi, or none' },
  services: { flag: '--services <list>', help: 'services to enable, comma-separated, or none' },
  slurmController: { flag: '--slurm-controller <where>', help: 'k8s, a Pi name, or none (no Slurm)' },
  slurmNodes: { flag: '--slurm-nodes <list>', help: 'Slurm compute Pis, comma-separated' },
} as const satisfies Record<string, { flag: string; help: string }>;

export type QuestionKey = keyof typeof INIT_FLAGS;

/** `--pi-ip`, as messages name a flag. */
export function flagName(key: QuestionKey): string {
  return INIT_FLAGS[key].flag.split(' ')[0]!;
}
