import { setTimeout as sleep } from 'node:timers/promises';
import { recordAddresses } from '../base/addresses.js';
import { CommandError, type Failure, failureOf, type StepError, tail } from '../base/failure.js';
import { fingerprint, publicKeyBlob } from '../base/known-hosts.js';
import { pool } from '../base/pool.js';
import type { Progress } from '../base/progress.js';
import { ConnectError, connectSsh, connectWithLogin, HostKeyError, hostKeyOf, type Login, type SshRunner } from '../base/ssh.js';
import { newToken } from '../base/token.js';
import { type Asker, Cancelled } from './ask.js';
import { type OwnCredentials, loginName } from './credentials.js';
import { CHECK_KEY, HOST_KEY, installPayload, installScript, reportOf } from './install.js';
import type { AdoptLab, AdoptTarget } from './lab.js';

/**
 * `labgen adopt`: a Pi that runs a stock OS becomes one of the lab's, the way `labgen image`
 * would have made it. Per Pi: learn the host key it presents (nothing sent), have the user
 * confirm it (on a terminal, or --fingerprint; never blindly), log in as the user does (agent,
 * own keys, a typed password), install as root the lab user, its keys and labgen's host key
 * for the Pi, then prove it from a fresh connection as push will make it: the lab key, the
 * pinned host key, `sudo -n`. The Pi is then pinned (and its address remembered) like any other.
 * Nothing on the Pi changes before its key is confirmed.
 */

export interface AdoptTiming {
  /** SSH connect + handshake + login */
  connectTimeoutMs: number;
  /** how long sshd may take to serve the new key after its reload */
  reloadTimeoutMs: number;
}

export const DEFAULT_ADOPT_TIMING: AdoptTiming = { connectTimeoutMs: 10_000, reloadTimeoutMs: 30_000 };

export interface AdoptOptions {
  lab: AdoptLab;
  credentials: OwnCredentials;
  /** none: no terminal; every Pi at once, and a key is confirmed by --fingerprint only */
  ask?: Asker;
  concurrency: number;
  timing: AdoptTiming;
  progress: Progress;
}

export interface AdoptResult {
  node: string;
  address: string;
  ok: boolean;
  /** `alice: ~/.ssh/id_ed25519`, `pi: the lab key`: who logged in to install, with what */
  login?: string;
  /** replaced: the stock key gave way to the lab's; lab: the Pi presented the lab's already */
  hostKey?: 'replaced' | 'lab';
  notes: string[];
  failure?: Failure;
  cancelled?: boolean;
  ms: number;
}

/** A step that refused (a key not confirmed, a login that failed): a Failure without a command. */
class AdoptError extends Error implements StepError {
  constructor(
    readonly step: string,
    message: string,
  ) {
    super(message);
    this.name = 'AdoptError';
  }
}

/** What Pis of one run share: the password typed last (Pis flashed alike have the same), tried first. */
interface Session {
  password?: string;
}

class PiAdoption {
  private current = 'connect';
  private readonly open: SshRunner[] = [];
  /** the password this Pi took for the login: sudo gets it too */
  private password?: string;
  readonly result: AdoptResult;
  private readonly t0 = Date.now();
  private readonly who: string;
  private readonly loginUser: string;

  constructor(
    private readonly o: AdoptOptions,
    private readonly t: AdoptTarget,
    private readonly session: Session,
  ) {
    this.result = { node: t.node, address: t.address, ok: false, notes: [], ms: 0 };
    this.who = `${t.node} (${t.address})`;
    this.loginUser = o.lab.loginUser ?? t.user;
  }

  private step(text: string, current?: string) {
    if (current) this.current = current;
    this.o.progress.step(this.t.node, text);
  }

  private keep(r: SshRunner): SshRunner {
    this.open.push(r);
    return r;
  }

  async run(): Promise<AdoptResult> {
    try {
      await this.pipeline();
      this.result.ok = true;
    } catch (e) {
      this.result.cancelled = e instanceof Cancelled;
      this.result.failure = failureOf(e, this.t.node, this.current);
    } finally {
      for (const r of this.open) r.close();
      this.result.ms = Date.now() - this.t0;
    }
    return this.result;
  }

  private async pipeline(): Promise<void> {
    const { t, o } = this;
    this.step(`connecting to ${t.address}`, 'connect');
    const presented = await this.presentedKey();
    this.current = 'host key';
    const lab = publicKeyBlob(t.hostKey.public);
    let admin: SshRunner;
    if (presented.equals(lab)) {
      this.result.hostKey = 'lab';
      this.result.notes.push(`presents the lab's host key ${fingerprint(lab)} already: nothing to confirm; its users and keys are checked`);
      admin = (await this.labAdmin()) ?? (await this.userAdmin(presented));
    } else {
      this.refuseKnown(presented);
      await this.confirm(presented);
      admin = await this.userAdmin(presented);
    }
    this.step('installing the lab user, its keys and the host key', 'install');
    const out = await admin.run('install', `install the lab user ${t.user}, its keys and ${HOST_KEY} (temp + rename)`, installScript(t.user, newToken()), {
      stdin: installPayload({ user: t.user, hostKey: t.hostKey, authorizedKeys: o.lab.authorizedKeys }),
    });
    const did = reportOf(out);
    this.result.notes.push(did.length ? did.join(', ') : 'nothing to change: the lab user, its keys and the host key are in place');
    if (this.result.hostKey !== 'lab') this.result.hostKey = 'replaced';
    // labgen's own key for this Pi, pinned under its name and lab.yaml's address (generate pinned
    // them: nothing to add, unless a hand took them out), before the check connects as push will.
    // Never under a --address: a DHCP address or raspberrypi.local is the next stock Pi's tomorrow
    o.lab.knownHosts.pin([t.node, t.ip], lab);
    this.step('checking the lab key from a new connection', 'check');
    await this.check(presented);
    this.record();
  }

  /** The ed25519 key the Pi presents: the type labgen pins, and the one the hint's ssh-keygen line shows on the Pi. */
  private async presentedKey(): Promise<Buffer> {
    const { t, o } = this;
    try {
      return await hostKeyOf({ node: t.node, address: t.address, type: 'ssh-ed25519', timeoutMs: o.timing.connectTimeoutMs });
    } catch (e) {
      if (e instanceof ConnectError && /no matching host key/i.test(e.message))
        throw new AdoptError('connect', `${this.who} offers no ssh-ed25519 host key, the type the lab pins; make one on the Pi (\`sudo ssh-keygen -A\`), then adopt it again`);
      throw e;
    }
  }

  /** A key the lab knows that is not this Pi's to replace: revoked, or pinned for another host (a wrong --address), as connectSsh refuses them. */
  private refuseKnown(presented: Buffer): void {
    const { t, o } = this;
    const fp = fingerprint(presented);
    const v = o.lab.knownHosts.verify(t, presented);
    if (v.status === 'revoked') throw new AdoptError('host key', `${this.who} presents ${fp}, which .labgen/known_hosts marks @revoked; refused: nothing was changed on it`);
    if (v.status === 'changed' && v.pinnedFor)
      throw new AdoptError(
        'host key',
        `${this.who} presents ${fp}, the host key the lab pinned for ${v.pinnedFor.join(', ')}: that is another host, not ${t.node} (a wrong --address?); refused: nothing was changed on it`,
      );
  }

  /** The user's yes to the key: --fingerprint, else a question on the terminal; without either, refused. */
  private async confirm(presented: Buffer): Promise<void> {
    const { t, o } = this;
    const fp = fingerprint(presented);
    const nothing = 'refused: nothing was changed on it';
    if (t.fingerprint !== undefined) {
      if (t.fingerprint !== fp) throw new AdoptError('host key', `${this.who} presents the host key ssh-ed25519 ${fp}, not the --fingerprint ${t.fingerprint}; ${nothing}`);
      this.result.notes.push(`host key ssh-ed25519 ${fp} confirmed by --fingerprint`);
      return;
    }
    if (!o.ask) {
      const again = `labgen adopt ${t.node}${t.address !== t.ip ? ` --address ${t.address}` : ''} --fingerprint ${fp}`;
      throw new AdoptError(
        'host key',
        `${this.who} presents the host key ssh-ed25519 ${fp}, which the lab did not make, and there is no terminal to confirm it on; ${nothing}. ` +
          `On the Pi, \`${CHECK_KEY}\` prints its key: if it is ${fp}, run \`${again}\``,
      );
    }
    if (!(await o.ask.confirmKey(t.node, t.address, fp))) throw new AdoptError('host key', `${this.who} presents the host key ssh-ed25519 ${fp}: not confirmed; ${nothing}`);
    this.result.notes.push(`host key ssh-ed25519 ${fp} confirmed on the terminal`);
  }

  /** A connection as push makes it: the lab user, the lab key, the host key checked against the pins (none recorded). */
  private async labConnect(): Promise<SshRunner> {
    const { t, o } = this;
    const remote = await connectSsh({
      node: t.node,
      address: t.address,
      user: t.user,
      privateKey: o.lab.labKey.private,
      knownHosts: o.lab.knownHosts,
      trustNew: false,
      record: false,
      timeoutMs: o.timing.connectTimeoutMs,
    });
    return this.keep(remote);
  }

  /** The lab key already logs in with passwordless sudo (a Pi adopted or imaged before): no need for the user's credentials. */
  private async labAdmin(): Promise<SshRunner | undefined> {
    const { t } = this;
    this.step(`logging in as ${t.user} with the lab key`, 'login');
    let remote: SshRunner;
    try {
      remote = await this.labConnect();
    } catch (e) {
      if (e instanceof ConnectError && e.loginRefused) return undefined;
      throw e;
    }
    if ((await remote.exec('true')).code !== 0) return undefined;
    this.result.login = `${t.user}: the lab key`;
    return remote;
  }

  /** Logged in with the user's own credentials (the host must present `hostKey`), and root through sudo. */
  private async userAdmin(hostKey: Buffer): Promise<SshRunner> {
    const remote = await this.userLogin(hostKey);
    await this.becomeRoot(remote);
    return remote;
  }

  private login(logins: Login[], hostKey: Buffer) {
    const { t, o } = this;
    return connectWithLogin({ node: t.node, address: t.address, user: this.loginUser, logins, hostKey, timeoutMs: o.timing.connectTimeoutMs });
  }

  private async userLogin(hostKey: Buffer): Promise<SshRunner> {
    const { t, o } = this;
    const user = this.loginUser;
    const { logins, skipped } = o.credentials;
    const tried = logins.map(loginName);
    if (logins.length) {
      this.step(`logging in as ${user} (${tried.join(', ')})`, 'login');
      try {
        const { remote, login } = await this.login(logins, hostKey);
        this.result.login = `${user}: ${loginName(login)}`;
        return this.keep(remote);
      } catch (e) {
        if (!(e instanceof ConnectError && e.loginRefused)) throw e;
      }
    }
    this.current = 'login';
    const offered = tried.length ? `${tried.join(', ')} ${tried.length > 1 ? 'were' : 'was'} refused` : 'no ssh-agent and no ~/.ssh/id_* key to log in with';
    const why = skipped.length ? ` (${skipped.join('; ')})` : '';
    if (!o.ask)
      throw new AdoptError(
        'login',
        `${user} cannot log in to ${this.who}: ${offered}${why}, and there is no terminal to type a password on; nothing was changed on it. ` +
          `Add your key to ssh-agent (ssh-add), give the user that has it (--user), or run labgen adopt on a terminal`,
      );
    // the password typed for the Pi before first (Pis flashed alike share it), then asked for
    const first = this.session.password;
    for (let attempt = first === undefined ? 1 : 0; attempt <= 3; attempt++) {
      const password = attempt === 0 ? first! : await o.ask.password(`password of ${user}@${t.node} (${t.address})`);
      try {
        const { remote } = await this.login([{ kind: 'password', password }], hostKey);
        this.password = this.session.password = password;
        this.result.login = `${user}: password`;
        return this.keep(remote);
      } catch (e) {
        if (!(e instanceof ConnectError && e.loginRefused)) throw e;
      }
    }
    throw new AdoptError('login', `${user} cannot log in to ${this.who}: the password was refused 3 times; nothing was changed on it`);
  }

  /** Root through `sudo -n`, else `sudo -S` with the login's password (or one typed for sudo). */
  private async becomeRoot(remote: SshRunner): Promise<void> {
    if (this.loginUser === 'root') return;
    this.current = 'sudo';
    const plain = await remote.exec('true');
    if (plain.code === 0) return;
    const password = this.password ?? (this.o.ask ? await this.o.ask.password(`sudo password of ${this.loginUser} on ${this.t.node}`) : undefined);
    if (password === undefined)
      throw new AdoptError(
        'sudo',
        `${this.loginUser} on ${this.who} cannot become root without a password (\`sudo -n true\` exited ${plain.code}: ${tail(plain.stderr, 2)}) and there is no terminal to type it on; nothing was changed on it`,
      );
    remote.useSudoPassword(password);
    const r = await remote.exec('true');
    if (r.code !== 0) throw new CommandError(this.t.node, 'sudo', `sudo -S true (as ${this.loginUser})`, r.code, tail(r.stderr || r.stdout));
  }

  /**
   * A fresh connection as push makes it: the lab user, the lab key, the host key pinned, and
   * root through `sudo -n`. Right after the reload sshd may still answer with the key it had,
   * or not at all while it re-executes itself: that is waited out, up to reloadTimeoutMs.
   */
  private async check(old: Buffer): Promise<void> {
    const { o } = this;
    const deadline = Date.now() + o.timing.reloadTimeoutMs;
    for (;;) {
      try {
        const remote = await this.labConnect();
        await remote.run('check', 'sudo -n true (as the lab user)', 'true');
        return;
      } catch (e) {
        const stale = e instanceof HostKeyError && e.presented === fingerprint(old);
        const down = e instanceof ConnectError && !e.loginRefused;
        if (!(stale || down)) throw e;
        if (Date.now() > deadline) {
          if (stale) throw new AdoptError('check', `sshd on ${this.who} still presents its old key ${fingerprint(old)} ${o.timing.reloadTimeoutMs / 1000} s after its reload`);
          throw e;
        }
        await sleep(200);
      }
    }
  }

  /** The address it was reached at is where the next push looks first (then lab.yaml's). */
  private record(): void {
    const { t, o } = this;
    recordAddresses(o.lab.labDir, { [t.node]: t.address });
    if (this.result.hostKey === 'replaced')
      this.result.notes.push(`your own ~/.ssh/known_hosts may still hold its old key (ssh would say it changed): \`ssh-keygen -R ${t.address}\``);
    if (t.address !== t.ip) this.result.notes.push(`found at ${t.address}: \`labgen push ${t.node}\` looks for it there first and moves it to ${t.ip}`);
  }
}

const cancelledResult = (t: AdoptTarget): AdoptResult => ({
  node: t.node,
  address: t.address,
  ok: false,
  cancelled: true,
  notes: [],
  failure: { host: t.node, step: 'connect', message: 'not started: cancelled before (Ctrl+C)' },
  ms: 0,
});

/** Adopt every target: on a terminal one after another (each may ask), else all at once. One Pi failing never stops the others. */
export async function adoptAll(o: AdoptOptions): Promise<AdoptResult[]> {
  const session: Session = {};
  const one = async (t: AdoptTarget) => {
    o.progress.start(t.node, 'adopting');
    const r = await new PiAdoption(o, t, session).run();
    o.progress.done(t.node, r.ok ? 'adopted' : 'failed', r.failure ? `${r.failure.step}: ${r.failure.message}` : undefined);
    return r;
  };
  if (!o.ask) return pool(o.lab.targets, o.concurrency, one);
  const results: AdoptResult[] = [];
  for (const t of o.lab.targets) results.push(results.some((r) => r.cancelled) ? cancelledResult(t) : await one(t));
  return results;
}
