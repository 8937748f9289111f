import type { TestHost } from './test-hosts.js';

/**
 * A disk image file in a test host (its own root: nothing of this machine's disks), for the tests
 * of labgen-prepare-disk: `sh` runs a command there and fails on a non-zero exit, `newImage`
 * makes a blank image of that size, `sha` reads its checksum (an image left alone keeps it).
 */
export function diskImage(host: () => TestHost, img: string) {
  const sh = async (cmd: string) => {
    const r = await host().exec(cmd);
    if (r.code !== 0) throw new Error(`${cmd}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  return {
    sh,
    newImage: (mib: number) => sh(`rm -f ${img}; truncate -s ${mib}M ${img}`),
    sha: () => sh(`sha256sum ${img}`),
  };
}
