/**
 * Reading Vagrant's --machine-readable output: the captures in test/up/fixtures/vagrant/ (real
 * Vagrant 2.3.4 + vagrant-libvirt 0.11.2 output, its README says how they were made), and the
 * lines of a provisioning run, written here as Vagrant's source writes them (a provisioner needs
 * a running VM, which no capture here can have): MachineReadable#machine in lib/vagrant/ui.rb
 * escapes `,` as `%!(VAGRANT_COMMA)` and newlines as `\n`; Prefixed#format_message puts
 * `==> NAME: ` (info) or `    NAME: ` (detail) before every line; action/builtin/provision.rb
 * says `Running provisioner: NAME (TYPE)...`; the shell provisioner prints its script's output
 * as detail lines and fails with :ssh_bad_exit_status_muted; bin/vagrant ends with `error-exit`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorExit, MachineRun, parseLine, parseLines, pluginsOf, statesOf, uiText, type VagrantEvent } from '../../drivers/up/machine-readable.js';
import { failureTail } from '../../drivers/up/vagrant.js';
import { REPO_ROOT } from '../support/generated.js';

const fixture = (name: string) => readFileSync(join(REPO_ROOT, 'test', 'up', 'fixtures', 'vagrant', name), 'utf8');

describe('machine-readable lines', () => {
  it('splits timestamp, target, type and data, unescaping commas and newlines in each field', () => {
    expect(parseLine('1796123385,vagrant-libvirt,plugin-version,0.11.2%!(VAGRANT_COMMA) system')).toEqual({
      timestamp: 1796123385,
      target: 'vagrant-libvirt',
      type: 'plugin-version',
      data: ['0.11.2, system'],
    });
    expect(parseLine('1796123398,,ui,info,a\\nb%!(VAGRANT_COMMA) c')!.data).toEqual(['info', 'a\nb, c']);
    expect(parseLine('1796123398,k8s,action,up,start')!.data).toEqual(['up', 'start']);
    expect(parseLine('1796123398,k8s,action,up,start\r')!.data).toEqual(['up', 'start']);
    for (const other of ['', 'Vagrant failed to initialize at a very early stage:', '/usr/lib/ruby/3.1.0/warning.rb:1: warning: x', 'abc,def,ghi'])
      expect(parseLine(other)).toBeUndefined();
  });

  it('vagrant status (captured): each machine state, and the summary unescaped', () => {
    const lines = parseLines(fixture('status-not-created.txt'));
    expect(statesOf(lines)).toEqual(new Map([['k8s', 'not_created'], ['kv-worker-0', 'not_created']]));
    const summary = lines.find((l) => l.type === 'ui')!;
    expect(uiText(summary).lines).toContain('VM, run `vagrant status NAME`.');
    expect(uiText(summary).lines).toContain('k8s                       not created (libvirt)');
  });

  it('vagrant plugin list (captured): the plugin names', () => {
    const lines = parseLines(fixture('plugin-list-libvirt.txt'));
    expect(pluginsOf(lines)).toEqual(['vagrant-libvirt']);
    expect(pluginsOf(parseLines(''))).toEqual([]);
  });

  it('a failed vagrant up (captured): the steps of its machine, no provisioner, the error-exit as the tail', () => {
    const events: VagrantEvent[] = [];
    const run = new MachineRun('k8s', (e) => events.push(e));
    for (const l of fixture('up-upload-error.txt').split('\n')) run.line(l);
    expect(events).toEqual([
      { kind: 'step', text: 'No version detected for bento/ubuntu-24.04, using timestamp to watch for modifications. Consider' },
      { kind: 'step', text: 'generating a local metadata for the box with a version to allow better handling.' },
      { kind: 'step', text: 'See https://www.vagrantup.com/docs/boxes/format#box-metadata for further details.' },
      { kind: 'step', text: 'Uploading base box image as volume into Libvirt storage...' },
    ]);
    expect(run.provisioner).toBeUndefined();
    expect(run.error).toEqual({
      kind: 'VagrantPlugins::ProviderLibvirt::Errors::ImageUploadError',
      message: 'Error while uploading image to storage pool: Call to virStorageVolUpload failed: this function is not supported by the connection driver: virStorageVolUpload',
    });
    expect(failureTail(run, '')).toBe(run.error!.message);
  });
});

/** A provisioning run of `vagrant up kv-worker-0` whose worker script fails, line by line as Vagrant writes it. */
const FAILED_PROVISION = [
  '1796200000,kv-worker-0,metadata,provider,libvirt',
  "1796200000,,ui,info,Bringing machine 'kv-worker-0' up with 'libvirt' provider...",
  '1796200000,kv-worker-0,action,up,start',
  '1796200001,kv-worker-0,ui,info,==> kv-worker-0: Creating image (snapshot of base box volume).',
  '1796200030,kv-worker-0,ui,info,==> kv-worker-0: Running provisioner: common (shell)...',
  '1796200030,kv-worker-0,ui,detail,    kv-worker-0: Running: /tmp/vagrant-shell20260101-4242-1x2y3z.sh',
  '1796200090,kv-worker-0,ui,detail,    kv-worker-0: common (kv-worker-0%!(VAGRANT_COMMA) 10.0.0.220): changed: swap\\n    kv-worker-0: /etc/hosts',
  '1796200091,kv-worker-0,ui,info,==> kv-worker-0: Running provisioner: worker (shell)...',
  '1796200091,kv-worker-0,ui,detail,    kv-worker-0: Running: /tmp/vagrant-shell20260101-4242-4u5v6w.sh',
  '1796200095,kv-worker-0,ui,detail,    kv-worker-0: [preflight] Running pre-flight checks',
  '1796200099,kv-worker-0,ui,detail,    kv-worker-0: error execution phase preflight: couldn\'t validate the identity of the API Server: Get "https://api.home.lab:6443/api/v1/namespaces/kube-public/configmaps/cluster-info?timeout=10s": dial tcp 10.0.0.210:6443: connect: connection refused',
  '1796200099,kv-worker-0,ui,detail,    kv-worker-0: To see the stack trace of this error execute with --v=5 or higher',
  '1796200099,,ui,error,The SSH command responded with a non-zero exit status. Vagrant\\nassumes that this means the command failed. The output for this command\\nshould be in the log above. Please read the output to determine what\\nwent wrong.',
  '1796200099,,error-exit,Vagrant::Errors::VagrantError,The SSH command responded with a non-zero exit status. Vagrant\\nassumes that this means the command failed. The output for this command\\nshould be in the log above. Please read the output to determine what\\nwent wrong.',
];

describe('a provisioning run (lines as Vagrant writes them)', () => {
  it('follows the provisioners of its machine, keeps the running one\'s output, ignores the environment\'s lines', () => {
    const events: VagrantEvent[] = [];
    const run = new MachineRun('kv-worker-0', (e) => events.push(e));
    for (const l of FAILED_PROVISION) run.line(l);
    expect(events.filter((e) => e.kind !== 'output')).toEqual([
      { kind: 'step', text: 'Creating image (snapshot of base box volume).' },
      { kind: 'provisioner', name: 'common' },
      { kind: 'provisioner', name: 'worker' },
    ]);
    expect(events.filter((e) => e.kind === 'output').map((e) => (e as { text: string }).text)).toContain('common (kv-worker-0, 10.0.0.220): changed: swap');
    expect(run.provisioner).toBe('worker');
    // the worker script's lines only (not Vagrant's "Running: <temp copy>" line)
    expect(run.output).toEqual([
      '[preflight] Running pre-flight checks',
      expect.stringMatching(/^error execution phase preflight: couldn't validate the identity of the API Server: Get "https:\/\/api\.home\.lab:6443/),
      'To see the stack trace of this error execute with --v=5 or higher',
    ]);
    expect(errorExit(run.lines)!.kind).toBe('Vagrant::Errors::VagrantError');
  });

  it('the tail of a failed script is its own last lines, not Vagrant\'s "see the log above"', () => {
    const run = new MachineRun('kv-worker-0');
    for (const l of FAILED_PROVISION) run.line(l);
    const t = failureTail(run, 'ignored stderr');
    expect(t.split('\n')).toHaveLength(3);
    expect(t).toContain('connection refused');
    expect(t).not.toContain('non-zero exit status');
  });

  it('another machine\'s lines (a parallel run) are not this one\'s', () => {
    const run = new MachineRun('kv-master-0');
    for (const l of FAILED_PROVISION) run.line(l);
    expect(run.provisioner).toBeUndefined();
    expect(run.output).toEqual([]);
  });

  it('vagrant crashed (a Ruby exception on stderr): the tail is its message, not the backtrace under it', () => {
    const run = new MachineRun('k8s');
    const frames = Array.from({ length: 30 }, (_, i) => `\tfrom /usr/share/rubygems-integration/all/gems/vagrant-2.3.4/lib/vagrant/action/warden.rb:${40 + i}:in \`call'`);
    const message = "/usr/share/rubygems-integration/all/gems/fog-libvirt-0.9.0/lib/fog/libvirt/requests/compute/vm_action.rb:7:in `create': Call to virDomainCreateWithFlags failed: internal error: Process exited prior to exec (Libvirt::Error)";
    const t = failureTail(run, [message, ...frames, ''].join('\n'));
    expect(t).toBe(message);
  });

  it('with no machine-readable error and no output, stderr is the tail', () => {
    const run = new MachineRun('k8s');
    run.line('Vagrant failed to initialize at a very early stage:');
    expect(failureTail(run, 'There was an error loading a Vagrantfile.\nsyntax error')).toBe('There was an error loading a Vagrantfile.\nsyntax error');
  });
});
