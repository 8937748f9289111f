import { hostsBlock } from '../support/hosts-file.js';
import { MODE } from '../file-spec.js';
import type { PiPlanner } from './part.js';

/**
 * /etc/hosts on a Pi: the usual loopback lines for its own name, then the lab's block.
 *
 * The block lists every host, so N Pis make N copies of it: 10,000 Pis, 3.6 GB of text. The
 * contents are therefore made when read (`head + block`: V8 joins two strings without copying
 * them, and the flat copy the writer makes to compare, hash or write the file is garbage right
 * after), so the plan holds one block, not one per Pi.
 */
export const piHosts: PiPlanner = ({ lab, node }) => {
  const head = [
    '127.0.0.1\tlocalhost',
    '::1\t\tlocalhost ip6-localhost ip6-loopback',
    'ff02::1\t\tip6-allnodes',
    'ff02::2\t\tip6-allrouters',
    '',
    `127.0.1.1\t${node.name}.${lab.domain} ${node.name}`,
    '',
    '',
  ].join('\n');
  const block = hostsBlock(lab);
  return {
    // in the image too: the Pi knows its own name (127.0.1.1) and the lab's from its first boot
    firstBoot: true,
    files: [
      {
        path: '/etc/hosts',
        mode: MODE.file,
        get contents() {
          return head + block;
        },
      },
    ],
  };
};
