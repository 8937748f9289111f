/**
 * The VM-side files of the plan (Vagrantfile, provision/*.sh, provision/files/etc/..., the
 * kubeadm configs, Calico's Installation), each handed to the real program that reads it, for
 * both example labs and variants of them (cni calico / cilium, a pinned patch version, the
 * libvirt provider). Where the real program cannot run here the test name says what stands in.
 *
 * Prerequisite commands go through test/support/prereq.ts: missing → skipped with one line, or
 * a failure under CI=true.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KUBERNETES_MINORS } from '../../generator/model/schema.js';
import { pauseImage, UPSTREAM } from '../../generator/plan/support/versions.js';
import { generatedLabCache, type LabOverrides, planLab } from '../support/generated.js';
import { checkKubeadmConfig } from '../support/kubeadm-api.js';
import { describeE2e, onPath } from '../support/prereq.js';
import { tomlTables } from '../support/containerd-config.js';

// ---------------------------------------------------------------------------------------------
// the labs: both examples, and variants of each
// ---------------------------------------------------------------------------------------------

const BASE_LABS = [
  { name: 'rpi-slurm', file: 'labs/rpi-slurm/lab.yaml' },
  { name: 'minimal', file: 'labs/minimal/lab.yaml' },
];
const CHANGES: { name: string; overrides: LabOverrides }[] = [
  { name: '', overrides: {} },
  { name: 'cni=calico', overrides: { cluster: { cni: 'calico' } } },
  { name: 'cni=cilium', overrides: { cluster: { cni: 'cilium' } } },
  { name: 'kubernetesVersion=1.37.1', overrides: { cluster: { kubernetesVersion: '1.37.1' } } },
];

const VARIANTS = [
  ...BASE_LABS.flatMap((b) =>
    CHANGES.map((c) => ({ name: c.name ? `${b.name} ${c.name}` : b.name, file: b.file, overrides: c.overrides })),
  ),
  { name: 'minimal provider=libvirt', file: 'labs/minimal/lab.yaml', overrides: { cluster: { provider: 'libvirt' } } },
  // hosts that exist already: no Vagrantfile, the same scripts with their lab folder under /var/lib/labgen/lab
  { name: 'existing', file: 'labs/existing/lab.yaml', overrides: {} },
  { name: 'existing cni=flannel', file: 'labs/existing/lab.yaml', overrides: { cluster: { cni: 'flannel' } } },
  { name: 'existing cni=cilium kubernetesVersion=1.37.1', file: 'labs/existing/lab.yaml', overrides: { cluster: { cni: 'cilium', kubernetesVersion: '1.37.1' } } },
].map((v) => ({ ...v, ...planLab(v.file, v.overrides) }));
type Variant = (typeof VARIANTS)[number];

const labs = generatedLabCache();
afterAll(() => labs.cleanupAll());
/** the variant, planned and written to its temp folder (once per test file) */
const written = (v: Variant) => labs.get(v.file, v.overrides);

const vmFiles = (v: Variant, re: RegExp) => v.files.filter((f) => f.kind === 'vm' && re.test(f.path));
const contentsOf = (v: Variant, path: string) => {
  const f = v.files.find((x) => x.path === path);
  if (!f) throw new Error(`${v.name}: the plan has no ${path}`);
  return f.contents;
};

// ---------------------------------------------------------------------------------------------
// running programs
// ---------------------------------------------------------------------------------------------

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) {
  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, timeout: opts.timeoutMs ?? 50_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const shown = (r: RunResult) => `exit ${r.code}\n${r.stdout}${r.stderr}`;

/** lines that are not blank and not comments (`#`, and `;` where the format allows it) */
const contentLines = (text: string, comments = /^[#;]/) =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !comments.test(l));

// ---------------------------------------------------------------------------------------------
// shell scripts
// ---------------------------------------------------------------------------------------------

describe('provision/*.sh: executable, with a shebang', () => {
  for (const v of VARIANTS) {
    for (const f of vmFiles(v, /\.sh$/)) {
      it(`${v.name}: ${f.path} is written 0755 and starts with #!`, async () => {
        const g = await written(v);
        expect(f.mode).toBe(0o755);
        expect(statSync(g.path(f.path)).mode & 0o777).toBe(0o755);
        expect(f.contents.split('\n')[0]).toMatch(/^#!\/(usr\/)?bin\/(env (bash|sh)|bash|sh)$/);
      });
    }
  }
  it('every variant plans common.sh, control-plane.sh and worker.sh', () => {
    for (const v of VARIANTS)
      expect(vmFiles(v, /\.sh$/).map((f) => f.path)).toEqual(
        expect.arrayContaining(['provision/common.sh', 'provision/control-plane.sh', 'provision/worker.sh']),
      );
  });
});

describeE2e('provision/*.sh: real shellcheck', { commands: ['shellcheck'] }, () => {
  for (const v of VARIANTS) {
    for (const f of vmFiles(v, /\.sh$/)) {
      it.concurrent(`${v.name}: ${f.path} passes shellcheck -S warning -f gcc`, async ({ expect }) => {
        const g = await written(v);
        const r = await run('shellcheck', ['-S', 'warning', '-f', 'gcc', g.path(f.path)]);
        expect(r.stdout + r.stderr, shown(r)).toBe('');
        expect(r.code, shown(r)).toBe(0);
      });
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Vagrantfile: ruby -c, vagrant validate for VirtualBox (stand-in VBoxManage) and libvirt
// ---------------------------------------------------------------------------------------------

/** Variants whose Vagrantfile is byte-identical share one validation (vagrant is slow). */
const byVagrantfile = new Map<string, Variant[]>();
for (const v of VARIANTS.filter((x) => x.files.some((f) => f.path === 'Vagrantfile'))) {
  const text = contentsOf(v, 'Vagrantfile');
  byVagrantfile.set(text, [...(byVagrantfile.get(text) ?? []), v]);
}
const VAGRANTFILES = [...byVagrantfile.values()].map((vs) => ({
  rep: vs[0]!,
  label: `Vagrantfile of ${vs.map((v) => v.name).join(', ')}`,
}));

const VBOX_STAND_IN = `#!/bin/sh
# labgen test stand-in for VirtualBox's VBoxManage: VirtualBox cannot run on the test machine.
# vagrant validate only asks for the version; anything else fails loudly.
if [ "$1" = "--version" ]; then echo 7.0.14r161095; exit 0; fi
echo "VBoxManage stand-in (labgen test): not supported: $*" >&2
exit 1
`;

describeE2e('Vagrantfile: real ruby and vagrant', { commands: ['ruby', 'vagrant'] }, () => {
  let tmp = '';
  let standInBin = '';

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'labgen-vagrant-validate-'));
    standInBin = join(tmp, 'bin');
    await mkdir(standInBin);
    await writeFile(join(standInBin, 'VBoxManage'), VBOX_STAND_IN, { mode: 0o755 });
    await chmod(join(standInBin, 'VBoxManage'), 0o755);
  });
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  /**
   * vagrant with its own HOME, VAGRANT_HOME and .vagrant folder per call (so concurrent calls
   * share nothing and the lab folder stays clean), no checkpoint (network) lookup, and no
   * VAGRANT_* or LIBVIRT_* setting leaking in from the caller's environment.
   */
  async function vagrant(cwd: string, args: string[], extra: Record<string, string>): Promise<RunResult> {
    const home = await mkdtemp(join(tmp, 'home-'));
    const base = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('VAGRANT_') && !k.startsWith('LIBVIRT_')),
    );
    const env = {
      ...base,
      HOME: home,
      VAGRANT_HOME: join(home, '.vagrant.d'),
      VAGRANT_DOTFILE_PATH: join(home, 'dot-vagrant'),
      VAGRANT_CHECKPOINT_DISABLE: '1',
      ...extra,
    };
    return run('vagrant', args, { cwd, env, timeoutMs: 55_000 });
  }
  const virtualbox = () => ({ VAGRANT_DEFAULT_PROVIDER: 'virtualbox', PATH: `${standInBin}${delimiter}${process.env.PATH ?? ''}` });
  /**
   * vagrant-libvirt opens a libvirt connection while validating (its virtiofs synced-folder
   * check reads libvirt's version). No libvirtd runs here, so the connection is libvirt's own
   * in-process test driver: the same library and provider code, no daemon.
   */
  const LIBVIRT_TEST_URI = { LIBVIRT_DEFAULT_URI: 'test:///default' };
  const libvirt = () => ({ VAGRANT_DEFAULT_PROVIDER: 'libvirt', ...LIBVIRT_TEST_URI });

  /** a copy of the variant's lab folder with one edit to its Vagrantfile */
  async function brokenCopy(v: Variant, from: string, to: string): Promise<string> {
    const g = await written(v);
    const dir = await mkdtemp(join(tmp, 'broken-'));
    await cp(g.dir, dir, { recursive: true });
    const text = await readFile(join(dir, 'Vagrantfile'), 'utf8');
    const broken = text.replace(from, to);
    expect(broken, `the Vagrantfile no longer contains ${from}`).not.toBe(text);
    await writeFile(join(dir, 'Vagrantfile'), broken);
    return dir;
  }

  for (const { rep, label } of VAGRANTFILES) {
    it.concurrent(`ruby -c: ${label}`, async ({ expect }) => {
      const g = await written(rep);
      const r = await run('ruby', ['-c', g.path('Vagrantfile')]);
      expect(r.code, shown(r)).toBe(0);
      expect(r.stdout).toContain('Syntax OK');
    });

    it.concurrent(
      `vagrant validate, VirtualBox provider via a VBoxManage stand-in printing 7.0.14r161095 (VirtualBox cannot run here): ${label}`,
      async ({ expect }) => {
        const g = await written(rep);
        const r = await vagrant(g.dir, ['validate'], virtualbox());
        expect(r.code, shown(r)).toBe(0);
        expect(r.stdout).toContain('Vagrantfile validated successfully');
      },
    );

    if (rep.lab.cluster.provider === 'libvirt') {
      it.concurrent(
        `plain vagrant validate (no VAGRANT_DEFAULT_PROVIDER, no VBoxManage) takes libvirt from the Vagrantfile, passes it and FAILS a copy with lv.memroy (vagrant-libvirt; libvirt's in-process test:///default driver, no libvirtd here): ${label}`,
        async ({ expect }) => {
          const g = await written(rep);
          const broken = await brokenCopy(rep, 'lv.memory =', 'lv.memroy =');
          const [ok, bad] = await Promise.all([
            vagrant(g.dir, ['validate'], LIBVIRT_TEST_URI),
            vagrant(broken, ['validate'], LIBVIRT_TEST_URI),
          ]);
          expect(ok.code, shown(ok)).toBe(0);
          expect(ok.stdout).toContain('Vagrantfile validated successfully');
          expect(bad.code, shown(bad)).not.toBe(0);
          expect(bad.stdout + bad.stderr).toMatch(/Libvirt Provider:[\s\S]*shouldn't exist: memroy/);
        },
      );
    } else {
      it.concurrent(
        `VAGRANT_DEFAULT_PROVIDER=libvirt vagrant validate (vagrant-libvirt; libvirt's in-process test:///default driver, no libvirtd here): ${label}`,
        async ({ expect }) => {
          const g = await written(rep);
          const r = await vagrant(g.dir, ['validate'], libvirt());
          expect(r.code, shown(r)).toBe(0);
          expect(r.stdout).toContain('Vagrantfile validated successfully');
        },
      );
    }
  }

  // the libvirt side of this proof is in the provider=libvirt test above (one vagrant call less)
  it('a provider=libvirt variant is among them, so a broken libvirt block is shown to fail too', () => {
    expect(VAGRANTFILES.some((g) => g.rep.lab.cluster.provider === 'libvirt')).toBe(true);
  });
  const first = VARIANTS[0]!;
  it.concurrent(
    `the validation is real: vagrant validate with the VBoxManage stand-in FAILS a copy with vb.memroy (${first.name})`,
    async ({ expect }) => {
      const dir = await brokenCopy(first, 'vb.memory =', 'vb.memroy =');
      const r = await vagrant(dir, ['validate'], virtualbox());
      expect(r.code, shown(r)).not.toBe(0);
      expect(r.stdout + r.stderr).toMatch(/VirtualBox Provider:[\s\S]*shouldn't exist: memroy/);
    },
  );
});

// ---------------------------------------------------------------------------------------------
// containerd: config-v3.toml for containerd 2.x, config-v2.toml for 1.7 (labgen-containerd places
// the one of the VM's containerd as /etc/containerd/config.toml), each read by that containerd:
// Debian sid's 2.x and trixie's 1.7, as containerd-2 and containerd-1.7 (.ci/run installs them)
// ---------------------------------------------------------------------------------------------

const CONFIG_V3 = 'provision/files/etc/containerd/config-v3.toml';
const CONFIG_V2 = 'provision/files/etc/containerd/config-v2.toml';
const CRI = 'plugins."io.containerd.grpc.v1.cri"';
const IMAGES = "plugins.'io.containerd.cri.v1.images'";
const RUNTIME = "plugins.'io.containerd.cri.v1.runtime'";

/** the variants, and the minimal lab at every Kubernetes minor (config-v2.toml is planned only where a 1.7 fits) */
const CONTAINERD_LABS: Variant[] = [
  ...VARIANTS,
  ...KUBERNETES_MINORS.map((m) => {
    const overrides = { cluster: { kubernetesVersion: m } };
    return { name: `minimal kubernetesVersion=${m}`, file: 'labs/minimal/lab.yaml', overrides, ...planLab('labs/minimal/lab.yaml', overrides) };
  }),
];

describeE2e('containerd config-v3.toml and config-v2.toml: real containerd 2.x and 1.7', { commands: ['containerd-2', 'containerd-1.7'] }, () => {
  for (const v of CONTAINERD_LABS) {
    const pause = pauseImage(v.lab.cluster.kubernetesVersion);
    it.concurrent(
      `${v.name}: containerd-2 --config config-v3.toml config dump exits 0: version 3, sandbox ${pause}, runc with SystemdCgroup, certs.d`,
      async ({ expect }) => {
        const g = await written(v);
        expect(contentLines(contentsOf(v, CONFIG_V3))[0]).toBe('version = 3');
        const r = await run('containerd-2', ['--config', g.path(CONFIG_V3), 'config', 'dump']);
        expect(r.code, shown(r)).toBe(0);
        const t = tomlTables(r.stdout);
        expect(t.get('')?.get('version')).toBe('3');
        expect(t.get(`${IMAGES}.pinned_images`)?.get('sandbox')).toBe(`'${pause}'`);
        expect(t.get(`${IMAGES}.registry`)?.get('config_path')).toBe("'/etc/containerd/certs.d'");
        expect(t.get(`${RUNTIME}.containerd`)?.get('default_runtime_name')).toBe("'runc'");
        expect(t.get(`${RUNTIME}.containerd.runtimes.runc`)?.get('runtime_type')).toBe("'io.containerd.runc.v2'");
        expect(t.get(`${RUNTIME}.containerd.runtimes.runc.options`)?.get('SystemdCgroup')).toBe('true');
      },
    );
    if (!v.files.some((f) => f.path === CONFIG_V2)) continue;
    it.concurrent(
      `${v.name}: containerd-1.7 --config config-v2.toml config dump exits 0: version 2, sandbox_image ${pause}, runc with SystemdCgroup, certs.d`,
      async ({ expect }) => {
        const g = await written(v);
        expect(contentLines(contentsOf(v, CONFIG_V2))[0]).toBe('version = 2');
        const r = await run('containerd-1.7', ['--config', g.path(CONFIG_V2), 'config', 'dump']);
        expect(r.code, shown(r)).toBe(0);
        const t = tomlTables(r.stdout);
        expect(t.get('')?.get('version')).toBe('2');
        expect(t.get(CRI)?.get('sandbox_image')).toBe(JSON.stringify(pause));
        expect(t.get(`${CRI}.registry`)?.get('config_path')).toBe('"/etc/containerd/certs.d"');
        expect(t.get(`${CRI}.containerd`)?.get('default_runtime_name')).toBe('"runc"');
        expect(t.get(`${CRI}.containerd.runtimes.runc`)?.get('runtime_type')).toBe('"io.containerd.runc.v2"');
        expect(t.get(`${CRI}.containerd.runtimes.runc.options`)?.get('SystemdCgroup')).toBe('true');
      },
    );
  }

  it('some lab plans config-v2.toml (a Kubernetes a containerd 1.7 fits), so 1.7 reads one above', () => {
    expect(CONTAINERD_LABS.some((v) => v.files.some((f) => f.path === CONFIG_V2))).toBe(true);
  });

  it('the format matters: containerd 1.7 refuses config-v3.toml', async () => {
    const g = await written(VARIANTS[0]!);
    const r = await run('containerd-1.7', ['--config', g.path(CONFIG_V3), 'config', 'dump']);
    expect(r.code, shown(r)).not.toBe(0);
    expect(r.stderr).toMatch(/unsupported config version `3`/);
  });

  it('the check is real: a copy with an unclosed table header fails containerd-2 config dump', async () => {
    const g = await written(VARIANTS[0]!);
    const text = await readFile(g.path(CONFIG_V3), 'utf8');
    const header = `[${RUNTIME}.containerd]\n`;
    const broken = text.replace(header, header.replace(']\n', '\n'));
    expect(broken).not.toBe(text);
    const file = join(g.dir, 'broken-config.toml');
    await writeFile(file, broken);
    const r = await run('containerd-2', ['--config', file, 'config', 'dump']);
    expect(r.code, shown(r)).not.toBe(0);
    expect(r.stderr).toMatch(/failed to unmarshal TOML at row \d+ column \d+: toml: expected '\]' to close table name/);
  });
});

// ---------------------------------------------------------------------------------------------
// apt source of kubeadm/kubelet/kubectl
// ---------------------------------------------------------------------------------------------

const K8S_LIST = 'provision/files/etc/apt/sources.list.d/kubernetes.list';

describeE2e('apt sources.list.d/kubernetes.list: real apt', { commands: ['apt-get'] }, () => {
  /** apt with this file as its only sources list and its own lists folder: no network, no lock on this machine's apt */
  async function indextargets(dir: string, list: string): Promise<RunResult> {
    const lists = await mkdtemp(join(dir, 'apt-lists-'));
    return run('apt-get', [
      '-o', `Dir::Etc::SourceList=${list}`,
      '-o', 'Dir::Etc::SourceParts=/nonexistent',
      '-o', `Dir::State::Lists=${lists}`,
      'indextargets', '--no-release-info', '--format', '$(TARGET_OF) $(REPO_URI)',
    ]);
  }

  for (const v of VARIANTS) {
    const minor = v.lab.cluster.kubernetesVersion.split('.').slice(0, 2).join('.');
    it.concurrent(`${v.name}: apt-get indextargets reads it as one deb source, the pkgs.k8s.io v${minor} repository`, async ({ expect }) => {
      const g = await written(v);
      const r = await indextargets(g.dir, g.path(K8S_LIST));
      expect(r.code, shown(r)).toBe(0);
      expect(r.stderr, shown(r)).toBe('');
      expect([...new Set(r.stdout.trim().split('\n'))]).toEqual([`deb ${UPSTREAM.kubernetesApt(minor)}`]);
    });
  }
  it('the check is real: apt rejects a copy with an unclosed [options] bracket', async () => {
    const g = await written(VARIANTS[0]!);
    const text = await readFile(g.path(K8S_LIST), 'utf8');
    const broken = text.replace('.gpg]', '.gpg');
    expect(broken).not.toBe(text);
    const file = join(g.dir, 'broken-kubernetes.list');
    await writeFile(file, broken);
    const r = await indextargets(g.dir, file);
    expect(r.code, shown(r)).not.toBe(0);
    expect(r.stderr).toMatch(/Malformed entry/);
  });
});

// ---------------------------------------------------------------------------------------------
// sysctl.d
// ---------------------------------------------------------------------------------------------

const SYSCTL_CONF = 'provision/files/etc/sysctl.d/99-kubernetes.conf';
/** sysctl.d(5): `key = value`; a leading `-` means "ignore a failure"; `#` and `;` start comments */
const SYSCTL_LINE = /^(-?)([A-Za-z0-9_][A-Za-z0-9_.\/-]*)\s*=\s*(\S(?:.*\S)?)$/;
/** /proc/sys path of a sysctl key: dots are separators unless the key uses slashes (sysctl.d(5)) */
const procPath = (key: string) => join('/proc/sys', key.includes('/') ? key : key.replaceAll('.', '/'));

function sysctlEntries(text: string): { key: string; value: string }[] {
  return contentLines(text).map((line) => {
    const m = SYSCTL_LINE.exec(line);
    if (!m) throw new Error(`not a sysctl.d(5) "key = value" line: ${JSON.stringify(line)}`);
    return { key: m[2]!, value: m[3]! };
  });
}

/** net.bridge.* appears only with br_netfilter (built in or loaded); it is not loaded by the tests. */
const BRIDGE_NF = existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables');
const isBridgeKey = (key: string) => key.startsWith('net.bridge.') || key.startsWith('net/bridge/');
const BRIDGE_NOTE = BRIDGE_NF
  ? 'net.bridge.* too: br_netfilter is present in this kernel'
  : 'net.bridge.* syntax only: /proc/sys/net/bridge is absent here (br_netfilter not loaded; the tests do not load modules)';

describe('sysctl.d/99-kubernetes.conf: sysctl.d(5) format, keys against this kernel', () => {
  for (const v of VARIANTS) {
    it(`${v.name}: every non-comment line is key = value and every key exists under /proc/sys (${BRIDGE_NOTE})`, () => {
      const entries = sysctlEntries(contentsOf(v, SYSCTL_CONF));
      expect(entries.map((e) => e.key)).toEqual(
        expect.arrayContaining(['net.bridge.bridge-nf-call-iptables', 'net.bridge.bridge-nf-call-ip6tables', 'net.ipv4.ip_forward']),
      );
      for (const { key } of entries) {
        if (isBridgeKey(key) && !BRIDGE_NF) continue;
        expect(existsSync(procPath(key)), `${key}: no ${procPath(key)} on this kernel`).toBe(true);
      }
    });
  }
});

describeE2e('sysctl.d/99-kubernetes.conf: real sysctl -p in a throwaway network namespace', { root: true, commands: ['unshare', 'sysctl'] }, () => {
  for (const v of VARIANTS) {
    it.concurrent(
      `${v.name}: unshare --net sysctl -p applies every net.* key (per-netns values only) and reads each back; this machine's values are untouched`,
      async ({ expect }) => {
        const g = await written(v);
        const entries = sysctlEntries(contentsOf(v, SYSCTL_CONF));
        // only per-network-namespace keys are applied: anything else would change this machine
        const applied = entries.filter((e) => e.key.startsWith('net.') && (BRIDGE_NF || !isBridgeKey(e.key)));
        expect(applied.length).toBeGreaterThan(0);
        const file = join(g.dir, 'sysctl-netns.conf');
        await writeFile(file, applied.map((e) => `${e.key} = ${e.value}\n`).join(''));
        const hostBefore = applied.map((e) => readFileSync(procPath(e.key), 'utf8'));
        const r = await run('unshare', [
          '--net',
          '--',
          'sh',
          '-c',
          'sysctl -q -p "$1" || exit 1; shift; sysctl -n "$@"',
          'sh',
          file,
          ...applied.map((e) => e.key),
        ]);
        expect(r.code, shown(r)).toBe(0);
        expect(r.stderr, shown(r)).toBe('');
        expect(r.stdout.trim().split('\n')).toEqual(applied.map((e) => e.value));
        expect(applied.map((e) => readFileSync(procPath(e.key), 'utf8'))).toEqual(hostBefore);
      },
    );
  }
  it('the check is real: a misspelt key fails sysctl -p in the namespace', async () => {
    const g = await written(VARIANTS[0]!);
    const file = join(g.dir, 'sysctl-broken.conf');
    await writeFile(file, 'net.ipv4.ip_forwrd = 1\n');
    const r = await run('unshare', ['--net', '--', 'sysctl', '-p', file]);
    expect(r.code, shown(r)).not.toBe(0);
    expect(r.stderr).toContain('ip_forwrd');
  });
});

// ---------------------------------------------------------------------------------------------
// modules-load.d
// ---------------------------------------------------------------------------------------------

const MODULES_CONF = 'provision/files/etc/modules-load.d/k8s.conf';
const KERNEL_RELEASE = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
/** modinfo can only answer with kmod installed and this kernel's /lib/modules/<release> */
const MODINFO_WHY_NOT = !onPath('modinfo')
  ? 'modinfo (kmod) is not installed here'
  : !existsSync(join('/lib/modules', KERNEL_RELEASE))
    ? `/lib/modules/${KERNEL_RELEASE} is absent here`
    : '';

describe('modules-load.d/k8s.conf', () => {
  for (const v of VARIANTS) {
    const name = MODINFO_WHY_NOT
      ? `${v.name}: one module name per non-comment line (format only, per modules-load.d(5): ${MODINFO_WHY_NOT}, so no module can be looked up)`
      : `${v.name}: one module name per non-comment line, and real modinfo knows each on this machine`;
    it.concurrent(name, async ({ expect }) => {
      const modules = contentLines(contentsOf(v, MODULES_CONF));
      expect(modules).toEqual(expect.arrayContaining(['overlay', 'br_netfilter']));
      for (const m of modules) expect(m, 'a module name (letters, digits, _ and -)').toMatch(/^[A-Za-z0-9_-]+$/);
      if (MODINFO_WHY_NOT) return;
      for (const m of modules) {
        const r = await run('modinfo', ['-F', 'name', m]);
        expect(r.code, `${m}: ${shown(r)}`).toBe(0);
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// kubeadm configs
// ---------------------------------------------------------------------------------------------

describe('provision/kubeadm/*.yaml', () => {
  for (const v of VARIANTS) {
    for (const f of vmFiles(v, /^provision\/kubeadm\/.*\.yaml$/)) {
      it(`${v.name}: ${f.path} has no problems against the kubeadm v1beta4 API fields (kubeadm cannot be installed here, so test/support/kubeadm-api.ts checks it instead of kubeadm config validate)`, () => {
        expect(checkKubeadmConfig(f.contents)).toEqual([]);
      });
    }
    it(`${v.name}: the control plane's ClusterConfiguration carries the lab's subnets and Kubernetes version`, () => {
      const cp = v.lab.cluster.controlPlane.name;
      const docs = yaml.loadAll(contentsOf(v, `provision/kubeadm/${cp}.yaml`)) as Record<string, any>[];
      const cluster = docs.find((d) => d?.kind === 'ClusterConfiguration');
      expect(cluster?.networking).toEqual({ podSubnet: v.lab.cluster.podSubnet, serviceSubnet: v.lab.cluster.serviceSubnet });
      const version = v.lab.cluster.kubernetesVersion;
      expect(cluster?.kubernetesVersion).toBe(version.split('.').length === 3 ? `v${version}` : `stable-${version}`);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Calico Installation
// ---------------------------------------------------------------------------------------------

const CALICO = 'provision/calico-installation.yaml';

describe('provision/calico-installation.yaml (js-yaml)', () => {
  for (const v of VARIANTS) {
    if (v.lab.cluster.cni !== 'calico') {
      it(`${v.name}: cni ${v.lab.cluster.cni} plans no Calico Installation`, () => {
        expect(v.files.some((f) => f.path === CALICO)).toBe(false);
      });
      continue;
    }
    it(`${v.name}: parses as one operator.tigera.io/v1 Installation with the lab's podSubnet and LAN subnet`, () => {
      const docs = yaml.loadAll(contentsOf(v, CALICO)).filter((d) => d != null) as Record<string, any>[];
      expect(docs).toHaveLength(1);
      const inst = docs[0]!;
      expect(inst.apiVersion).toBe('operator.tigera.io/v1');
      expect(inst.kind).toBe('Installation');
      expect(inst.metadata?.name).toBe('default');
      expect(inst.spec?.calicoNetwork?.ipPools?.map((p: { cidr: string }) => p.cidr)).toEqual([v.lab.cluster.podSubnet]);
      expect(inst.spec?.calicoNetwork?.nodeAddressAutodetectionV4?.cidrs).toEqual([v.lab.network.subnet]);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// systemd-resolved drop-in
// ---------------------------------------------------------------------------------------------

const RESOLVED = 'provision/files/etc/systemd/resolved.conf.d/lab.conf';
/** the [Resolve] settings of resolved.conf(5) (systemd 255, Ubuntu 24.04) */
const RESOLVE_KEYS = new Set([
  'DNS',
  'FallbackDNS',
  'Domains',
  'LLMNR',
  'MulticastDNS',
  'DNSSEC',
  'DNSOverTLS',
  'Cache',
  'CacheFromLocalhost',
  'DNSStubListener',
  'DNSStubListenerExtra',
  'ReadEtcHosts',
  'ResolveUnicastSingleLabel',
  'StaleRetentionSec',
]);

/** systemd.syntax(7): `[Section]`, `Key=Value`, `#`/`;` comments; every setting inside a section */
function parseSystemdIni(text: string): Map<string, [string, string][]> {
  const sections = new Map<string, [string, string][]>();
  let current: [string, string][] | undefined;
  for (const line of contentLines(text)) {
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      current = sections.get(header[1]!) ?? [];
      sections.set(header[1]!, current);
      continue;
    }
    const kv = /^([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(.*)$/.exec(line);
    if (!kv) throw new Error(`not a Key=Value line: ${JSON.stringify(line)}`);
    if (kv[2]!.endsWith('\\')) throw new Error(`unexpected line continuation: ${JSON.stringify(line)}`);
    if (!current) throw new Error(`setting before any [Section]: ${JSON.stringify(line)}`);
    current.push([kv[1]!, kv[2]!]);
  }
  return sections;
}

describe('systemd-resolved drop-in resolved.conf.d/lab.conf (parsed as systemd INI)', () => {
  for (const v of VARIANTS) {
    it(`${v.name}: one [Resolve] section of known resolved.conf(5) settings: DNS lab-first, Domains the lab domain`, () => {
      const ini = parseSystemdIni(contentsOf(v, RESOLVED));
      expect([...ini.keys()]).toEqual(['Resolve']);
      const settings = ini.get('Resolve')!;
      for (const [k] of settings) expect(RESOLVE_KEYS.has(k), `${k} is not a [Resolve] setting`).toBe(true);
      const dns = settings.filter(([k]) => k === 'DNS').flatMap(([, val]) => val.split(/\s+/));
      for (const ip of dns) expect(isIP(ip), `DNS=${ip}`).not.toBe(0);
      expect(dns).toEqual([...v.lab.network.dns, ...v.lab.network.upstreamDns]);
      expect(settings.filter(([k]) => k === 'Domains').map(([, val]) => val)).toEqual([v.lab.domain]);
    });
  }
});
