// The account's IP allowlist (Owners and Admins): its entries, whether it is enforced, and whether
// the person's own address is on it. Gatehouse refuses a change that would lock them out; the page
// shows its reason where the change was asked for.
import { useState, type FormEvent } from 'react';
import { api, type IpAllowlistEntry } from '../api';
import { Field, FormError } from '../components/Field';
import { PageHeader } from '../components/PageHeader';
import { PageState } from '../components/PageState';
import { useStatus } from '../components/Status';
import { DataTable } from '../components/Table';
import { useAccount } from '../context';
import { useChange, useLoad } from '../hooks';

async function load(accountId: string) {
  const [list, settings, access] = await Promise.all([api.ipAllowlist(accountId), api.accountSettings(accountId), api.ipAllowlistMyAccess(accountId)]);
  return { entries: list.entries, enforced: settings.enforce_ip_allowlist, access };
}

export function IpAllowlistPage() {
  const { account, can } = useAccount();
  const status = useStatus();
  const a = account.account_id;
  const allowed = can('read:ip_allowlist');
  const { data, error, reload } = useLoad(async () => (allowed ? load(a) : null), [a, allowed]);
  const [network, setNetwork] = useState('');
  const [description, setDescription] = useState('');
  const { busy, problem, setProblem, change } = useChange(reload, (message) => status.success(message));
  const editable = can('update:ip_allowlist');

  if (!allowed) {
    return (
      <div>
        <PageHeader id="ip-allowlist-title" title="IP allowlist" />
        <p>Only account Owners and Admins see and change the IP allowlist.</p>
      </div>
    );
  }


  const entries = data?.entries ?? [];
  const save = (next: IpAllowlistEntry[]) => api.saveIpAllowlist(a, { entries: next.map(({ ip_network, enabled, description }) => ({ ip_network, enabled, description })) });

  const add = async (e: FormEvent) => {
    e.preventDefault();
    const given = network.trim();
    if (!given) return setProblem('Enter an IP address or a CIDR network, such as 203.0.113.7 or 10.0.0.0/8.');
    const ok = await change(() => save([...entries, { ip_network: given, enabled: true, description: description.trim() || null, last_seen: null }]), `Added ${given} to the IP allowlist.`);
    if (ok) {
      setNetwork('');
      setDescription('');
    }
  };

  return (
    <div>
      <PageHeader id="ip-allowlist-title" title="IP allowlist" />
      <PageState ready={data !== undefined} error={error} onRetry={() => void reload()}>
        {data && (
          <>
            <p>
              While the allowlist is enforced, API keys and sign-ins act in this account only from the addresses and networks below
              that are enabled: on Gatehouse's API, the gateway, forward-auth and websockets.
            </p>
            <section aria-labelledby="ip-allowlist-enforcement" className="ip-allowlist-enforcement">
              <h2 id="ip-allowlist-enforcement">Enforcement</h2>
              <p data-testid="ip-allowlist-state">
                Enforcement is <strong>{data.enforced ? 'enabled' : 'disabled'}</strong>.
              </p>
              <p data-testid="ip-allowlist-my-access">{data.access.detail}.</p>
              {editable && (
                <button
                  type="button"
                  disabled={busy}
                  onClick={() =>
                    void change(() => api.setEnforceIpAllowlist(a, !data.enforced), data.enforced ? 'The IP allowlist is no longer enforced.' : 'The IP allowlist is now enforced.')
                  }
                >
                  {data.enforced ? 'Stop enforcing' : 'Enforce the allowlist'}
                </button>
              )}
            </section>
            <FormError message={problem} />
            <DataTable
              label="IP allowlist entries"
              testId="ip-allowlist"
              columns={['Address or network', 'Description', 'Enabled', editable && { hidden: 'Actions' }]}
              rows={entries}
              empty="The allowlist is empty: while it is, it restricts nothing."
              row={(entry) => (
                <tr key={entry.ip_network} data-testid="ip-allowlist-row" data-network={entry.ip_network}>
                  <td>
                    <code>{entry.ip_network}</code>
                  </td>
                  <td>{entry.description ?? ''}</td>
                  <td>{entry.enabled ? 'Yes' : 'No'}</td>
                  {editable && (
                    <td>
                      <button
                        type="button"
                        disabled={busy}
                        aria-label={`${entry.enabled ? 'Disable' : 'Enable'} ${entry.ip_network}`}
                        onClick={() =>
                          void change(
                            () => save(entries.map((e) => (e.ip_network === entry.ip_network ? { ...e, enabled: !e.enabled } : e))),
                            `${entry.ip_network} ${entry.enabled ? 'disabled' : 'enabled'}.`,
                          )
                        }
                      >
                        {entry.enabled ? 'Disable' : 'Enable'}
                      </button>{' '}
                      <button
                        type="button"
                        className="danger-text"
                        disabled={busy}
                        aria-label={`Remove ${entry.ip_network}`}
                        onClick={() => void change(() => save(entries.filter((e) => e.ip_network !== entry.ip_network)), `Removed ${entry.ip_network} from the IP allowlist.`)}
                      >
                        Remove
                      </button>
                    </td>
                  )}
                </tr>
              )}
            />
            {editable && (
              <form onSubmit={(e) => void add(e)} aria-labelledby="ip-allowlist-add">
                <h2 id="ip-allowlist-add">Add an address or network</h2>
                <Field label="Address or network" value={network} onChange={setNetwork} placeholder="203.0.113.0/24" hint="IPv4 or IPv6, a single address or CIDR." />
                <Field label="Description" value={description} onChange={setDescription} placeholder="Office VPN" />
                <button type="submit" className="primary" disabled={busy}>
                  Add
                </button>
              </form>
            )}
          </>
        )}
      </PageState>
    </div>
  );
}
