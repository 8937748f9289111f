import { describe, expect, it } from 'vitest';
import { problems } from './support.js';
import { gatewayAliases, serviceAddresses } from '../../generator/model/hosts.js';
import { labJsonSchema } from '../../generator/model/json-schema.js';
import { validateLab } from '../../generator/model/load.js';
import { POOL_SERVICE, SERVICE_KEYS, type ServiceKey, serviceSpec, uiHost, WEB_UIS, type WebUiSpec, withNeeds } from '../../generator/model/services.js';
import { complete, toLab } from '../../generator/wizard/questions.js';

/** The service table (generator/model/services.ts) holds together, and what it drives agrees with it. */

type Json = { properties?: Record<string, Json>; anyOf?: Json[]; [k: string]: unknown };
const seedLab = () => validateLab(toLab(complete({})));

describe('the service table', () => {
  it('is the schema: services.<key> and its keys, in the same order', () => {
    const services = (labJsonSchema() as Json).properties!.services!.properties!;
    expect(Object.keys(services)).toEqual(SERVICE_KEYS);
    for (const key of SERVICE_KEYS) {
      const on = services[key]!.anyOf![1]!;
      expect(Object.keys(on.properties!), key).toEqual(['enabled', ...Object.keys(serviceSpec(key).keys)]);
    }
  });

  it('every host name is used once, and each service IP of the seed lab is named by it', () => {
    const hosts = SERVICE_KEYS.flatMap((k) => Object.values(serviceSpec(k).keys).flatMap((f) => (f.kind === 'ip' ? [f.host] : [])));
    const uiHosts = WEB_UIS.filter((u: WebUiSpec) => !u.ip).map(uiHost);
    expect(new Set([...hosts, ...uiHosts]).size).toBe(hosts.length + uiHosts.length);
    const lab = seedLab();
    const named = serviceAddresses(lab).filter((a) => a.path.startsWith('services.'));
    expect(named.map((a) => a.name)).toEqual(hosts.filter((h) => h !== 'kibana')); // logging is opt-in: off in the seed lab
  });

  it('a web UI is a service key of an optional IP, or names its host; without its IP it is reached at the gateway', () => {
    for (const ui of WEB_UIS as readonly WebUiSpec[]) {
      const key = ui.ip ? serviceSpec(ui.service).keys[ui.ip] : undefined;
      if (ui.ip) expect(key, `${ui.service}.${ui.ip}`).toMatchObject({ kind: 'ip', required: false });
      else expect(ui.host, ui.service).toBeTruthy();
    }
    const lab = seedLab();
    expect(gatewayAliases(lab).map((a) => a.name)).toEqual(['headlamp']);
    const noUiIps = validateLab({ ...toLab(complete({})), services: { ...toLab(complete({})).services, registry: { ip: '10.0.0.10' }, monitoring: {} } });
    expect(gatewayAliases(noUiIps).map((a) => [a.name, a.ip])).toEqual(WEB_UIS.map((u) => [uiHost(u), noUiIps.services.gateway!.ip]));
  });

  it('the seed addresses are in the seed pool', () => {
    const lab = seedLab();
    expect(lab.services[POOL_SERVICE]?.addresses).toEqual(['10.0.0.10-10.0.0.49']);
    expect(serviceAddresses(lab).length).toBeGreaterThan(0); // validateLab passed: every one is in the pool and used once
  });

  it('what a service needs is what the rules ask for, with the same reason', () => {
    const lab = toLab(complete({}));
    for (const key of SERVICE_KEYS)
      for (const [needed, why] of Object.entries(serviceSpec(key).needs ?? {})) {
        expect(SERVICE_KEYS, `${key} needs ${needed}`).toContain(needed);
        const without = { ...lab, services: { ...lab.services, [needed]: { enabled: false } } };
        expect(problems(without)).toContain(`services.${key}: needs services.${needed}, ${why}`);
      }
    expect(withNeeds(['registry'])).toEqual(['certManager', 'registry'] satisfies ServiceKey[]);
  });
});
