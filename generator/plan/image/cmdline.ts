/**
 * The image's cmdline.txt: the kernel command line, one line on the boot partition that the
 * Raspberry Pi firmware hands to the kernel. labgen edits its first line only, word by word, and
 * keeps everything else of the file as it was (line ending, anything after the first line).
 */

/**
 * Memory cgroups: the Pi firmware puts `cgroup_disable=memory` in front of the command line and a
 * later `cgroup_enable=memory` turns them back on (raspberrypi/linux#6980); the kubelet and
 * slurmd's cgroup plugin need them.
 */
export const CGROUP_MEMORY = 'cgroup_enable=memory';

/**
 * The words that make systemd run `script` instead of the default target and reboot when it
 * succeeded, exactly as Raspberry Pi Imager writes them ("systemd" customisation format):
 * systemd-run-generator turns them into kernel-command-line.service (output on the console).
 * The script takes these same words off cmdline.txt at its end (firstrun.ts).
 */
export function firstrunWords(script: string): string[] {
  return [`systemd.run=${script}`, 'systemd.run_success_action=reboot', 'systemd.unit=kernel-command-line.target'];
}

/**
 * cloud-init's NoCloud datasource and instance-id on the command line, as Raspberry Pi Imager
 * writes them for cloud-init images: cloud-init then knows its cached instance on every boot
 * without reading the seed on the boot partition again. The same id is in meta-data.
 */
export const noCloudWord = (instanceId: string) => `ds=nocloud;i=${instanceId}`;

/**
 * Another first-boot mechanism's words (a base image customised before, or labgen's own from an
 * earlier run): dropped, so the result names labgen's once and nothing else runs first.
 */
const isFirstBootWord = (w: string) =>
  /^systemd\.run(_success_action|_failure_action)?=/.test(w) || w === 'systemd.unit=kernel-command-line.target' || /^ds=/.test(w);

/**
 * `current` (cmdline.txt as it is) with `add` on its first line, each word once: first-boot words
 * dropped wherever they are (an earlier customisation's, or labgen's own) and `add`'s appended in
 * order, except a word already there that is no first-boot word (it stays where it is).
 * Idempotent; `current` comes back byte for byte when nothing changes.
 */
export function editCmdline(current: string, add: readonly string[]): string {
  const m = /^([^\r\n]*)(\r?\n)?([\s\S]*)$/.exec(current)!;
  const [, line = '', eol = '', rest = ''] = m;
  const words = line.split(/[ \t]+/).filter(Boolean);
  const kept = words.filter((w) => !isFirstBootWord(w));
  const next = [...kept, ...add.filter((w) => !kept.includes(w))];
  if (next.length === words.length && next.every((w, i) => w === words[i])) return current;
  return `${next.join(' ')}${eol}${rest}`;
}
