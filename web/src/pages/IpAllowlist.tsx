// The account's IP allowlist (Owners and Admins): its entries, whether it is enforced, and whether
// the person's own address is on it. Gatehouse refuses a change that would lock them out; the page
// shows its reason where the change was asked for.
import { useState } from 'react';
import { api, type IpAllowlistEntry } from '../api';
import { ActionButton, EnableButton } from '../components/ActionButton';
import { Field, FormError } from '../components/Field';
import { PageForm } from '../components/PageForm';
import { LoadedPage } from '../components/PageState';
import { CodeCell, DataTable } from '../components/Table';
import { useAccountPage } from '../hooks';

async function load(accountId: string) {
  const [list, settings, access] = await Promise.all([api.ipAllowlist(accountId), api.accountSettings(accountId), api.ipAllowlistMyAccess(accountId)]);
  return { entries: list.entries, enforced: settings.enforce_ip_allowlist, access };
}

export function IpAllowlistPage() {
  const { a, can, allowed, loaded, busy, problem, setProblem, change } = useAccountPage('read:ip_allowlist', load);
  const editable = can('update:ip_allowlist');
  const [network, setNetwork] = useState('');
  const [description, setDescription] = useState('');

  const entries = loaded.data?.entries ?? [];
  const save = (next: IpAllowlistEntry[]) => api.saveIpAllowlist(a, { entries: next.map(({ ip_network, enabled, description }) => ({ ip_network, enabled, description })) });

  const add = async () => {
    const given = network.trim();
    if (!given) return setProblem('Enter an IP address or a CIDR network, such as 203.0.113.7 or 10.0.0.0/8.');
    const ok = await change(() => save([...entries, { ip_network: given, enabled: true, description: description.trim() || null, last_seen: null }]), `Added ${given} to the IP allowlist.`);
    if (ok) {
      setNetwork('');
      setDescription('');
    }
  };

  return (
    <LoadedPage id="ip-allowlist-title" title="IP allowlist" denied={!allowed && 'Only account Owners and Admins see and change the IP allowlist.'} loaded={loaded}>
      {(data) => (
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
                <CodeCell>{entry.ip_network}</CodeCell>
                <td>{entry.description ?? ''}</td>
                <td>{entry.enabled ? 'Yes' : 'No'}</td>
                {editable && (
                  <td>
                    <EnableButton
                      name={entry.ip_network}
                      enabled={entry.enabled}
                      busy={busy}
                      change={change}
                      toggle={() => save(entries.map((e) => (e.ip_network === entry.ip_network ? { ...e, enabled: !e.enabled } : e)))}
                    />{' '}
                    <ActionButton
                      danger
                      label={`Remove ${entry.ip_network}`}
                      disabled={busy}
                      onClick={() => void change(() => save(entries.filter((e) => e.ip_network !== entry.ip_network)), `Removed ${entry.ip_network} from the IP allowlist.`)}
                    >
                      Remove
                    </ActionButton>
                  </td>
                )}
              </tr>
            )}
          />
          {editable && (
            <PageForm id="ip-allowlist-add" title="Add an address or network" onSubmit={add} busy={busy} submitLabel="Add">
              <Field label="Address or network" value={network} onChange={setNetwork} placeholder="203.0.113.0/24" hint="IPv4 or IPv6, a single address or CIDR." />
              <Field label="Description" value={description} onChange={setDescription} placeholder="Office VPN" />
            </PageForm>
          )}
        </>
      )}
    </LoadedPage>
  );
}
