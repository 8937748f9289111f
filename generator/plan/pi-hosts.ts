import { hostsBlock } from './hosts-file.js';
import { MODE } from './file-spec.js';
import type { PiPlanner } from './pi-part.js';

/** /etc/hosts on a Pi: the usual loopback lines for its own name, then the lab's block. */
export const piHosts: PiPlanner = ({ lab, node }) => ({
  files: [
    {
      path: '/etc/hosts',
      mode: MODE.file,
      contents: [
        '127.0.0.1\tlocalhost',
        '::1\t\tlocalhost ip6-localhost ip6-loopback',
        'ff02::1\t\tip6-allnodes',
        'ff02::2\t\tip6-allrouters',
        '',
        `127.0.1.1\t${node.name}.${lab.domain} ${node.name}`,
        '',
        hostsBlock(lab),
      ].join('\n'),
    },
  ],
});
