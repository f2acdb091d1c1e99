// The seed's page: service accounts with their role, key expiration and workspaces; create, rotate, remove.
import { useState } from 'react';
import { api, type KeyPolicy, type ServiceAccount, type Workspace } from '../api';
import { ConfirmDialog } from '../components/Dialog';
import { Menu } from '../components/Menu';
import { AddButton, PageHeader } from '../components/PageHeader';
import { WhenLoaded } from '../components/PageState';
import { CreateServiceAccountDialog, RotateKeyDialog } from '../components/ServiceAccountDialogs';
import { TrustRulesDialog } from '../components/TrustRules';
import { DataTable } from '../components/Table';
import { useAccount } from '../context';
import { formatDate, formatExpiration } from '../format';
import { ExpiresSoon } from '../components/ExpiresSoon';
import { lastUseText } from '../last-use';
import { LeakBadge } from '../leak-badge';
import { useConfirm, useLoad } from '../hooks';

interface Data {
  serviceAccounts: ServiceAccount[];
  workspaces: Workspace[];
  /** bot id → the workspaces shared with it (among those the caller can see). */
  reach: Map<string, Workspace[]>;
  /** The account's key policy, whose limits the create and rotate dialogs show; null if it could not be read. */
  keyPolicy: KeyPolicy | null;
}

async function load(accountId: string): Promise<Data> {
  const [serviceAccounts, workspaces, keyPolicy] = await Promise.all([
    api.serviceAccounts(accountId),
    api.workspaces(accountId).catch(() => [] as Workspace[]),
    api.keyPolicy(accountId).catch(() => null),
  ]);
  const reach = new Map<string, Workspace[]>();
  // A workspace whose sharing the caller may not see is left out rather than failing the page.
  await Promise.all(
    workspaces.map(async (w) => {
      const grants = await api.botAccess(accountId, w.id).catch(() => []);
      for (const g of grants) reach.set(g.bot_id, [...(reach.get(g.bot_id) ?? []), w]);
    }),
  );
  for (const list of reach.values()) list.sort((a, b) => a.name.localeCompare(b.name));
  serviceAccounts.sort((a, b) => a.name.localeCompare(b.name));
  return { serviceAccounts, workspaces, reach, keyPolicy };
}

type Open = { kind: 'create' } | { kind: 'rotate'; sa: ServiceAccount } | { kind: 'trust'; sa: ServiceAccount } | null;

export function ServiceAccountsPage() {
  const { account, can } = useAccount();
  const loaded = useLoad(() => load(account.account_id), [account.account_id]);
  const { data, reload } = loaded;
  const [open, setOpen] = useState<Open>(null);
  const removal = useConfirm<ServiceAccount>(reload);

  const canCreate = can('create:bot');
  const canRotate = can('update:bot');
  const canRemove = can('delete:bot');
  const showMenu = canRotate || canRemove;
  const accountInfo = { id: account.account_id, handle: account.account_handle, workspaces: data?.workspaces ?? [], keyPolicy: data?.keyPolicy ?? null };

  const remove = (sa: ServiceAccount) =>
    removal.run(() => api.removeServiceAccount(account.account_id, sa.id), `Service account ${sa.name} removed. Its API keys no longer work.`);

  const reachOf = (sa: ServiceAccount) => data?.reach.get(sa.id) ?? [];

  return (
    <section aria-labelledby="sa-heading">
      <PageHeader id="sa-heading" title="Service Accounts">
        {canCreate && <AddButton label="Create service account" onClick={() => setOpen({ kind: 'create' })} testId="create-service-account" />}
      </PageHeader>
      <p className="page-intro">
        Service accounts have API keys that are not tied to a person, for workers, CI jobs and agents. They are always Members of the account; share a
        workspace with one to give it a workspace role there.
      </p>
      <WhenLoaded loaded={loaded}>
        {({ serviceAccounts }) => (
          <DataTable
            label="Service accounts"
            testId="service-accounts-table"
            columns={[showMenu && { hidden: 'Actions', className: 'menu-col' }, 'Name', 'Account role', 'Key expiration', 'Last used', 'Created', 'Workspaces', 'Workload identity']}
            rows={serviceAccounts}
            empty={`No service accounts yet.${canCreate ? ' Select + to create one.' : ''}`}
            row={(sa) => (
              <tr key={sa.id} data-testid="service-account-row" data-name={sa.name}>
                {showMenu && (
                  <td className="menu-col">
                    <Menu
                      label={`Actions for ${sa.name}`}
                      items={[
                        ...(canRotate ? [{ label: 'Rotate API Key', onSelect: () => setOpen({ kind: 'rotate', sa }) }] : []),
                        ...(canRemove ? [{ label: 'Remove', danger: true, onSelect: () => removal.open(sa) }] : []),
                      ]}
                    />
                  </td>
                )}
                <th scope="row">
                  {sa.name}
                  {sa.api_key && <LeakBadge apiKey={sa.api_key} />}
                </th>
                <td>{sa.account_role_name}</td>
                <td>
                  {sa.api_key ? formatExpiration(sa.api_key.expiration) : 'No key'}
                  {sa.api_key && <ExpiresSoon expiration={sa.api_key.expiration} />}
                </td>
                <td className="small" data-testid="last-used">{sa.api_key ? lastUseText(sa.api_key) : ''}</td>
                <td>{formatDate(sa.created)}</td>
                <td>{reachOf(sa).length ? reachOf(sa).map((w) => w.name).join(', ') : <span className="muted">None</span>}</td>
                <td>
                  <button type="button" aria-label={`Trust rules of ${sa.name}`} onClick={() => setOpen({ kind: 'trust', sa })}>
                    Trust rules
                  </button>
                </td>
              </tr>
            )}
          />
        )}
      </WhenLoaded>

      {open?.kind === 'create' && <CreateServiceAccountDialog account={accountInfo} onClose={() => setOpen(null)} onCreated={() => void reload()} />}
      {open?.kind === 'rotate' && (
        <RotateKeyDialog account={accountInfo} serviceAccount={open.sa} onClose={() => setOpen(null)} onRotated={() => void reload()} />
      )}
      {open?.kind === 'trust' && <TrustRulesDialog accountId={account.account_id} serviceAccount={open.sa} canEdit={canRotate} onClose={() => setOpen(null)} />}
      {removal.target && (
        <ConfirmDialog
          {...removal.dialog}
          title={`Remove service account ${removal.target.name}?`}
          confirmLabel="Remove"
          onConfirm={() => remove(removal.target!)}
          testId="remove-service-account-dialog"
        >
          <p>Its API keys stop working at once. This cannot be undone.</p>
          {reachOf(removal.target).length > 0 ? (
            <p>
              These workspaces will lose this service account: <strong>{reachOf(removal.target).map((w) => w.name).join(', ')}</strong>.
            </p>
          ) : (
            <p>No workspace is shared with it.</p>
          )}
        </ConfirmDialog>
      )}
    </section>
  );
}
