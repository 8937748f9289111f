#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT, LabgenError, machineFailure } from '../errors.js';
import { PACKAGE_ROOT } from '../paths.js';
import { INIT_FLAGS } from '../wizard/flags.js';

/**
 * labgen's entry point and its one error boundary. Commands are imported when run, so
 * `labgen --help` loads nothing but commander.
 */

const { version } = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };

const EXAMPLES = `
Examples:
  labgen init mylab                    the wizard: asks for the lab, writes lab.yaml and the lab folder
  labgen init mylab --yes --pis 3      no questions: the seed lab, with 3 Pis
  labgen generate                      write or update the lab folder next to ./lab.yaml
  labgen generate --dry-run            what would change and what to do next, with a diff; write nothing
  labgen generate --check              exit 1 when the lab folder is out of date (for CI)
  labgen push                          set up every Pi over SSH: only what changed, host keys verified
  labgen push node03 --dry-run         what a push would change on node03
  labgen status                        what runs on the Pis against what was generated
  labgen image --base raspios.img.xz   images/<node>.img per Pi: boots into its lab identity, no root needed
  labgen adopt node03                  make a Pi flashed with a stock OS the lab's (its host key confirmed first)
  labgen up                            bring up the VMs (vagrant), wait for the nodes, apply k8s/; only what changed
  labgen up --merge-kubeconfig         the same, and the lab as a context of ~/.kube/config
  labgen export --out homelab.zip      the lab folder as a zip for another machine, without secrets
  labgen export --ansible              exports/ansible/: a kubespray-style inventory and its ssh_config
  labgen export --terraform            exports/terraform/: the VMs on OpenStack (main.tf, variables.tf)
  labgen check multicast               send multicast from one pod to another on another node: pass or fail
  labgen node add k8s-worker2          one worker more: lab.yaml, the lab folder, then up (it joins)
  labgen node remove k8s-worker2       drain, delete, kubeadm reset (a VM destroyed), then out of lab.yaml
  labgen reset                         kubeadm reset on every host (asks first); labgen up makes a new cluster

Exit codes: 0 ok, 1 failure, 2 bad input or usage, 3 conflict (hand-edited files, nothing written).`;

function program(): Command {
  const cli = new Command('labgen')
    .description('Generate and run a Kubernetes + Slurm home lab of a laptop and Raspberry Pis from one lab.yaml')
    .version(version)
    .exitOverride()
    .addHelpText('after', EXAMPLES);

  cli
    .command('generate')
    .description('(re)write the lab folder from lab.yaml; never overwrites a file edited by hand')
    .option('--lab <file>', 'the lab file; its folder is the lab folder', 'lab.yaml')
    .option('--dry-run', 'print what would change and a unified diff; write nothing')
    .option('--check', 'exit 1 when the lab folder is out of date; write nothing')
    .option('--force', 'overwrite files edited by hand')
    .option('--new-secrets', "make the lab's secrets anew when they are missing (a new identity: every Pi and VM must be set up again)")
    .addHelpText('after', '\nExample:\n  labgen generate --dry-run')
    .action(async (opts) => {
      const { generate } = await import('./generate.js');
      process.exitCode = await generate(opts);
    });

  // ---- init (issue #5): the wizard; every question is also a flag (../wizard/flags.ts, no imports: --help stays light)
  const init = cli
    .command('init')
    .argument('[dir]', 'the lab folder to create', '.')
    .description('ask for the lab (or take flags), write lab.yaml and generate the lab folder')
    .option('--yes', 'take the defaults (the seed lab) for every question not given as a flag')
    .option('--force', 'overwrite an existing lab.yaml');
  for (const { flag, help } of Object.values(INIT_FLAGS)) init.option(flag, help);
  init.addHelpText(
    'after',
    '\nOn a terminal it asks what the flags leave out; without one, give every flag or --yes.' +
      '\nDefaults are the seed lab (labs/rpi-slurm/lab.yaml); default addresses follow --subnet.' +
      '\nExit codes: 0 ok, 2 a bad or missing answer, 3 lab.yaml exists (use --force), 130 cancelled (Ctrl+C): nothing written.' +
      '\n\nExamples:\n  labgen init mylab\n  labgen init mylab --yes --pis 3 --subnet 192.168.50.0/24 --os trixie',
  );
  init.action(async (dir, opts) => {
    const { initCommand } = await import('./init.js');
    process.exitCode = await initCommand(dir, opts);
  });

  // ---- export (issue #5)
  cli
    .command('export')
    .description('zip the lab folder to carry to another machine (secrets only when asked); or files for Ansible or Terraform')
    .option('--lab <file>', 'the lab file; its folder is the lab folder', 'lab.yaml')
    .option('--out <path>', 'the zip to write (default: <lab name>.zip beside the lab folder); with --ansible/--terraform, the folder (default: exports/<tool>/)')
    .option('--with-secrets', 'include .labgen/secrets/ (keys, tokens, passwords)')
    .option('--ansible', 'instead: a kubespray-style inventory.yaml and its ssh_config (host keys pinned)')
    .option('--terraform', "instead: an OpenStack Terraform configuration of the lab's VMs (main.tf, variables.tf; no credentials)")
    .addHelpText('after', '\nExamples:\n  labgen export --out ~/homelab.zip\n  labgen export --ansible\n  labgen export --terraform --out ~/homelab-openstack')
    .action(async (opts) => {
      const { exportCommand } = await import('./export.js');
      process.exitCode = await exportCommand(opts);
    });

  // ---- push and status (issue #6)
  cli
    .command('push')
    .argument('[nodes...]', 'the Pis to set up (default: all)')
    .description('set up running Pis over SSH: parallel, only what changed, atomically, host keys verified')
    .option('--lab <file>', 'the lab file; its folder is the lab folder', 'lab.yaml')
    .option('--dry-run', 'list per Pi what would change; connect read-only')
    .option('--concurrency <n>', 'Pis at once', '16')
    .option('--trust-new', "record the host key of a Pi seen for the first time (like ssh's accept-new)")
    .addHelpText('after', '\nExamples:\n  labgen push\n  labgen push node03 --dry-run')
    .action(async (nodes, opts) => {
      const { pushCommand } = await import('./push.js');
      process.exitCode = await pushCommand(nodes, opts);
    });

  // ---- image (issue #12)
  cli
    .command('image')
    .argument('[nodes...]', 'the Pis to make images of (default: all)')
    .description("per Pi, a Raspberry Pi OS image that boots straight into that Pi's lab identity (no root needed)")
    .requiredOption('--base <image>', 'a Raspberry Pi OS image (.img, or .img.xz as downloaded)')
    .option('--lab <file>', 'the lab file; its folder is the lab folder', 'lab.yaml')
    .option('--out <dir>', 'where the images go, <node>.img (default: images/ in the lab folder)')
    .option('--device <dev>', 'then write the image (one Pi) to this card and read it back')
    .option('--force', 'with --device: also a disk that is not removable, or a regular file')
    .option('--yes', 'with --device: do not ask before writing (needed without a terminal)')
    .addHelpText(
      'after',
      '\nThe base is never changed. Images hold the Pi\'s secrets (its host key): 0600, and images/ is git-ignored.' +
        '\n--device never writes the disk holding /, a mounted disk or a partition, --force or not.' +
        '\nExit codes: 0 ok, 1 failure (or the lab folder is behind lab.yaml: run labgen generate), 2 bad input (base, node, device refused): nothing left behind.' +
        '\n\nExamples:\n  labgen image --base 2025-05-13-raspios-bookworm-arm64-lite.img.xz\n  labgen image node03 --base raspios.img --device /dev/sdb',
    )
    .action(async (nodes, opts) => {
      const { imageCommand } = await import('./image.js');
      process.exitCode = await imageCommand(nodes, opts);
    });

  cli
    .command('status')
    .description('per Pi: reachable, host key, files in sync or drifted, services; exit 1 if anything is off')
    .option('--lab <file>', 'the lab file; its folder is the lab folder', 'lab.yaml')
    .addHelpText('after', '\nExample:\n  labgen status')
    .action(async (opts) => {
      const { statusCommand } = await import('./status.js');
      process.exitCode = await statusCommand(opts);
    });

  // ---- adopt (issue #12): a Pi flashed with a stock OS, reached with the user's own credentials
  cli
    .command('adopt')
    .argument('<nodes...>', 'the Pis to adopt (lab.yaml names)')
    .description("make Pis running a stock OS the lab's: confirm each host key, then install the lab user, keys and host key")
    .option('--lab <file>', 'the lab file; its folder is the lab folder', 'lab.yaml')
    .option('--user <name>', 'log in as this user, with your ssh-agent, ~/.ssh keys or password (default: lab.pis.user)')
    .option('--fingerprint <SHA256:…>', "the Pi's host key as `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` prints it on the Pi; NODE=SHA256:… with several Pis (repeatable)", (v: string, all: string[] | undefined) => [...(all ?? []), v])
    .option('--address <ip>', "where the Pi is now (a DHCP address, raspberrypi.local); one Pi only (default: its lab.yaml ip)")
    .addHelpText(
      'after',
      '\nOn a terminal it shows each host key and asks; without one, --fingerprint confirms it. Nothing on a Pi' +
        '\nchanges before its key is confirmed. Exit codes: 0 every Pi adopted, 1 one failed, 2 bad input, 130 cancelled.' +
        '\n\nExamples:\n  labgen adopt node01 node02\n  labgen adopt node03 --address 192.168.1.57 --user pi --fingerprint SHA256:…',
    )
    .action(async (nodes, opts) => {
      const { adoptCommand } = await import('./adopt.js');
      process.exitCode = await adoptCommand(nodes, opts);
    });

  // ---- up (issue #13)
  cli
    .command('up')
    .description('bring up the VMs with vagrant (only what changed since the last up), or provision existing hosts over SSH; wait for the nodes, apply k8s/, print the endpoints')
    .option('--lab <file>', 'the lab file; its folder is the lab folder', 'lab.yaml')
    .option('--merge-kubeconfig', "add the lab to your kubeconfig as a context named after it ($KUBECONFIG's file, else ~/.kube/config)")
    .option(
      '--fingerprint <SHA256:…>',
      "cluster.provider existing: a host's key as `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` prints it on the host, confirming it at first contact; NODE=SHA256:… with several hosts, lab-bastion=SHA256:… for the bastion (repeatable)",
      (v: string, all: string[] | undefined) => [...(all ?? []), v],
    )
    .addHelpText(
      'after',
      '\nNeeds vagrant, the provider of cluster.provider (VirtualBox, or the vagrant-libvirt plugin) and kubectl;' +
        '\nwith cluster.provider existing, kubectl only: the hosts are reached over SSH (cluster.ssh), their keys checked.' +
        '\nExit codes: 0 ok, 1 a VM or the cluster failed (the others are left as they are; run it again to resume),' +
        '\n2 bad input or a missing prerequisite (nothing started).' +
        '\n\nExamples:\n  labgen up\n  labgen up --lab mylab/lab.yaml --merge-kubeconfig',
    )
    .action(async (opts) => {
      const { upCommand } = await import('./up.js');
      process.exitCode = await upCommand(opts);
    });

  // ---- day 2 (issue #14): a worker more or less, the cluster taken down; VMs and existing hosts alike
  const fingerprints = (v: string, all: string[] | undefined) => [...(all ?? []), v];
  const node = cli
    .command('node')
    .description('add a worker to the lab and the cluster, or take one out of both (VMs or existing hosts)')
    .addHelpText('after', '\nExamples:\n  labgen node add k8s-worker2\n  labgen node remove k8s-worker2 --yes');
  node
    .command('add')
    .argument('<name>', 'the new worker: with VMs the next number (k8s-worker2 after k8s-worker1); with existing hosts any free name')
    .description('add a worker to lab.yaml (its comments kept), regenerate the lab folder, then labgen up: it joins the cluster')
    .option('--lab <file>', 'the lab file; its folder is the lab folder', 'lab.yaml')
    .option('--ip <address>', "cluster.provider existing: the host's address")
    .option('--disk <device>', 'cluster.provider existing: its data disk, prepared and mounted for containerd and kubelet (cluster.workers.hosts[].disk)')
    .option('--no-up', 'only lab.yaml and the lab folder; labgen up later brings it in')
    .option('--fingerprint <SHA256:…>', "cluster.provider existing: the new host's key, confirming it at first contact (as labgen up takes it)", fingerprints)
    .option('--merge-kubeconfig', 'as labgen up --merge-kubeconfig')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 up failed (lab.yaml has the worker: labgen up again resumes), 2 bad input (nothing changed),' +
        '\n3 a file of the lab folder was edited by hand (nothing changed).' +
        '\n\nExamples:\n  labgen node add k8s-worker2\n  labgen node add gpu1 --ip 10.0.0.21 --fingerprint SHA256:…',
    )
    .action(async (name, opts) => {
      const { nodeAdd } = await import('./node.js');
      process.exitCode = await nodeAdd(name, opts);
    });
  node
    .command('remove')
    .argument('<name>', 'the worker to take out: with VMs the last one')
    .description('drain and delete the node, kubeadm reset on it (a VM is destroyed), then take it out of lab.yaml and the lab folder')
    .option('--lab <file>', 'the lab file; its folder is the lab folder', 'lab.yaml')
    .option('--yes', 'do not ask first (needed without a terminal)')
    .option('--force', 'go past a step that fails on the host (it is down, or gone for good)')
    .addHelpText(
      'after',
      '\nOn a terminal it asks first. Exit codes: 0 ok, 1 a step failed (lab.yaml still lists the worker), 2 bad input' +
        '\n(nothing done), 3 a file of the lab folder was edited by hand (nothing done).' +
        '\n\nExamples:\n  labgen node remove k8s-worker1\n  labgen node remove gpu1 --yes --force',
    )
    .action(async (name, opts) => {
      const { nodeRemove } = await import('./node.js');
      process.exitCode = await nodeRemove(name, opts);
    });
  cli
    .command('reset')
    .description('take the cluster down: kubeadm reset on every host (workers first), the hosts kept; labgen up then makes a new cluster')
    .option('--lab <file>', 'the lab file; its folder is the lab folder', 'lab.yaml')
    .option('--yes', 'do not ask first (needed without a terminal)')
    .addHelpText('after', '\nOn a terminal it asks first. Exit codes: 0 ok, 1 a host failed (the others were reset), 2 bad input.\n\nExample:\n  labgen reset --yes')
    .action(async (opts) => {
      const { resetCommand } = await import('./node.js');
      process.exitCode = await resetCommand(opts);
    });

  // ---- check (issue #14): checks of the running cluster
  cli
    .command('check')
    .argument('<check>', 'what to check: multicast')
    .description('check the running cluster: multicast sends datagrams from one pod to another on another node (k8s/checks/multicast/)')
    .option('--lab <file>', 'the lab file; its folder is the lab folder', 'lab.yaml')
    .addHelpText(
      'after',
      '\nNeeds kubectl and the admin kubeconfig `labgen up` saved. Exit codes: 0 pass, 1 fail, 2 bad input (an unknown check, no cluster yet).' +
        '\n\nExample:\n  labgen check multicast',
    )
    .action(async (check, opts) => {
      const { checkCommand } = await import('./check.js');
      process.exitCode = await checkCommand(check, opts);
    });

  return cli;
}

function fail(e: unknown): number {
  if (e instanceof CommanderError) {
    // help and --version "fail" with exit code 0; everything else commander rejects is usage
    return e.exitCode === 0 ? EXIT.ok : EXIT.badInput;
  }
  // a full disk or a read-only folder is the machine's refusal, not labgen's bug: no stack
  const known = e instanceof LabgenError ? e : machineFailure(e);
  if (known) {
    process.stderr.write(`labgen: ${known.message}\n${known.hint ? `hint: ${known.hint}\n` : ''}`);
    return known.code;
  }
  process.stderr.write(`labgen: unexpected error (a bug; please report it):\n${(e as Error)?.stack ?? String(e)}\n`);
  return EXIT.failure;
}

// `labgen --help | head`: the reader left; nothing more to say, and no stack about it
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(process.exitCode ?? 0);
});

program()
  .parseAsync(process.argv)
  .catch((e: unknown) => {
    process.exitCode = fail(e);
  });
