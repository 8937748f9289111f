import { stripVTControlCharacters } from 'node:util';
import { render } from '@inquirer/testing';
import { describe, expect, it } from 'vitest';
import { promptFor } from '../../generator/wizard/ask.js';
import { type Answers, complete, QUESTIONS } from '../../generator/wizard/questions.js';

/**
 * One prompt at a time, rendered by @inquirer/testing: what the user sees when an answer is
 * refused, and the answer the prompt gives back. (test/wizard/terminal.test.ts drives the whole
 * wizard in a real terminal.)
 */

function settledBefore(key: keyof Answers, over: Partial<Answers> = {}): Partial<Answers> {
  const keys = QUESTIONS.map((q) => q.key);
  const a = complete(over);
  return Object.fromEntries(keys.slice(0, keys.indexOf(key)).map((k) => [k, a[k]]));
}

/** Lets the prompt handle what was typed (validation runs asynchronously). */
const settle = () => new Promise((r) => setTimeout(r, 20));

describe('prompts, checked live', () => {
  it('the first Pi IP: the gateway is refused with the reason, the field keeps it for editing; a free IP is the answer', async () => {
    const p = promptFor('piIp', settledBefore('piIp'));
    if (p.kind !== 'input') throw new Error(`piIp is an ${p.kind} prompt`);
    const { answer, events, getScreen } = await render(p.prompt, p.config);
    expect(getScreen()).toContain('First Pi IP (the others follow it) (10.0.0.2)');
    events.type('10.0.0.1');
    events.keypress('enter');
    await settle();
    expect(getScreen()).toContain('> pis.nodes[0].ip: 10.0.0.1 is already used by network.gateway');
    for (let i = 0; i < '10.0.0.1'.length; i++) events.keypress('backspace');
    events.type('10.0.0.60');
    events.keypress('enter');
    expect(p.answer(await answer)).toBe('10.0.0.60');
  });

  it('Enter takes the default shown', async () => {
    const p = promptFor('subnet', {});
    if (p.kind !== 'input') throw new Error(`subnet is an ${p.kind} prompt`);
    const { answer, events } = await render(p.prompt, p.config);
    events.keypress('enter');
    expect(p.answer(await answer)).toBe('10.0.0.0/24');
  });

  it('a number prompt refuses what the model refuses', async () => {
    const p = promptFor('cpMemory', settledBefore('cpMemory'));
    if (p.kind !== 'number') throw new Error(`cpMemory is a ${p.kind} prompt`);
    const { answer, events, getScreen } = await render(p.prompt, p.config);
    events.type('512');
    events.keypress('enter');
    await settle();
    expect(getScreen()).toMatch(/cluster\.controlPlane\.memory: Too small: expected number to be >=1024/);
    for (let i = 0; i < 3; i++) events.keypress('backspace');
    events.type('8192');
    events.keypress('enter');
    expect(p.answer(await answer)).toBe(8192);
  });

  it('the services checkbox refuses the registry without cert-manager, with the reason', async () => {
    const p = promptFor('services', settledBefore('services'));
    if (p.kind !== 'checkbox') throw new Error(`services is a ${p.kind} prompt`);
    const { answer, events, getScreen } = await render(p.prompt, p.config);
    expect(getScreen()).toContain('metallb — MetalLB: LoadBalancer IPs 10.0.0.10-10.0.0.49');
    for (let i = 0; i < 3; i++) events.keypress('down');
    events.keypress('space'); // certManager off
    events.keypress('enter');
    await settle();
    expect(getScreen()).toContain('services.registry: needs services.certManager');
    events.keypress('space'); // on again
    events.keypress('enter');
    expect(p.answer(await answer)).toEqual(['metallb', 'coredns', 'gateway', 'certManager', 'headlamp', 'registry', 'monitoring', 'tftp', 'sftp']);
  });

  it('a select shows a choice the model refuses as disabled, with the reason, and defaults to one it accepts', async () => {
    const p = promptFor('slurmController', settledBefore('slurmController', { services: ['metallb', 'coredns'] }));
    if (p.kind !== 'select') throw new Error(`slurmController is a ${p.kind} prompt`);
    const k8s = p.config.choices.find((c) => typeof c === 'object' && 'value' in c && c.value === 'k8s');
    expect(k8s).toMatchObject({ disabled: '(k8s needs services.registry)' });
    const { answer, events, getFullOutput } = await render(p.prompt, p.config);
    const screen = stripVTControlCharacters(getFullOutput()).replace(/\s+/g, ' ');
    expect(screen).toContain('k8s (in the cluster, on 10.0.0.28) (k8s needs services.registry) ');
    events.keypress('enter');
    expect(p.answer(await answer)).toBe('node02');
  });
});
