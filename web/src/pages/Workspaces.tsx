// The account's workspaces (those the caller can reach) and creating one.
import { useState, type FormEvent } from 'react';
import { api, ApiError, type Workspace } from '../api';
import { Dialog, FormActions } from '../components/Dialog';
import { Field, FormError } from '../components/Field';
import { GatewayDialog } from '../components/GatewayDialog';
import { AddButton, PageHeader } from '../components/PageHeader';
import { WhenLoaded } from '../components/PageState';
import { useStatus } from '../components/Status';
import { DataTable } from '../components/Table';
import { useAccount } from '../context';
import { formatDate, slugify } from '../format';
import { useFormSubmit, useLoad } from '../hooks';
import { Link } from '../router';

export function WorkspacesPage() {
  const { account, can } = useAccount();
  const workspaces = useLoad(
    () => api.workspaces(account.account_id).then((list) => list.sort((a, b) => a.name.localeCompare(b.name))),
    [account.account_id],
  );
  const [creating, setCreating] = useState(false);
  const [gatewayOf, setGatewayOf] = useState<Workspace | null>(null);
  const canCreate = can('create:workspace');

  return (
    <section aria-labelledby="ws-heading">
      <PageHeader id="ws-heading" title="Workspaces">
        {canCreate && <AddButton label="Create workspace" onClick={() => setCreating(true)} />}
      </PageHeader>
      <p className="page-intro">
        Open a workspace to see and change who can reach it: users and service accounts, each with a workspace role. Its Prefect server is where the
        workspace&apos;s Prefect requests go; Open in Prefect shows its Prefect UI with your role in it.
      </p>
      <WhenLoaded loaded={workspaces}>
        {(rows) => (
          <DataTable
            label="Workspaces"
            columns={['Name', 'Handle', 'Description', 'Created', { hidden: 'Sharing' }, { hidden: 'Prefect server' }, { hidden: 'Prefect UI' }]}
            rows={rows}
            empty={`No workspaces you can reach.${canCreate ? ' Select + to create one.' : ''}`}
            row={(w) => (
              <tr key={w.id} data-testid="workspace-row" data-name={w.name}>
                <th scope="row">{w.name}</th>
                <td className="mono">
                  {account.account_handle}/{w.handle}
                </td>
                <td>{w.description}</td>
                <td>{formatDate(w.created)}</td>
                <td>
                  <Link to={`/workspaces/${w.id}`} aria-label={`Sharing for ${w.name}`}>
                    Sharing
                  </Link>
                </td>
                <td>
                  <button type="button" className="link-button" aria-label={`Prefect server for ${w.name}`} onClick={() => setGatewayOf(w)}>
                    Prefect server
                  </button>
                </td>
                <td>
                  {/* Served by Gatehouse itself (not this page's router): the workspace's own Prefect UI, behind your sign-in. */}
                  <a href={`/w/${account.account_handle}/${w.handle}/`} aria-label={`Open ${w.name} in Prefect`}>
                    Open in Prefect
                  </a>
                </td>
              </tr>
            )}
          />
        )}
      </WhenLoaded>
      {gatewayOf && <GatewayDialog accountId={account.account_id} workspace={gatewayOf} onClose={() => setGatewayOf(null)} />}
      {creating && <CreateWorkspaceDialog accountId={account.account_id} onClose={() => setCreating(false)} onCreated={() => void workspaces.reload()} />}
    </section>
  );
}

function CreateWorkspaceDialog({ accountId, onClose, onCreated }: { accountId: string; onClose: () => void; onCreated: (w: Workspace) => void }) {
  const status = useStatus();
  const [name, setName] = useState('');
  const [handle, setHandle] = useState('');
  const [handleEdited, setHandleEdited] = useState(false);
  const [description, setDescription] = useState('');
  const { errors, setErrors, busy, send } = useFormSubmit<'name' | 'handle'>();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const errs = {
      name: name.trim() ? null : 'Enter a name for the workspace.',
      handle: !handle.trim()
        ? 'Enter a handle for the workspace.'
        : /^[a-zA-Z0-9][a-zA-Z0-9_-]*$/.test(handle.trim())
          ? null
          : 'Use letters, digits, "-" and "_", starting with a letter or digit.',
    };
    setErrors(errs);
    if (errs.name || errs.handle) return;
    await send(
      async () => {
        const w = await api.createWorkspace(accountId, { name: name.trim(), handle: handle.trim(), description: description.trim() || null });
        status.success(`Workspace ${w.name} created. You are its Owner.`);
        onCreated(w);
        onClose();
      },
      (err) => {
        if (err instanceof ApiError && err.code === 'WORKSPACE_NAME_TAKEN') return { name: err.message };
        if (err instanceof ApiError && err.code === 'WORKSPACE_HANDLE_TAKEN') return { handle: err.message };
        return null;
      },
    );
  };

  return (
    <Dialog title="Create workspace" onClose={onClose}>
      <form className="stack" onSubmit={submit} noValidate>
        <Field
          label="Name"
          value={name}
          onChange={(v) => {
            setName(v);
            if (!handleEdited) setHandle(slugify(v));
          }}
          error={errors.name}
          autoComplete="off"
        />
        <Field
          label="Handle"
          value={handle}
          onChange={(v) => {
            setHandle(v);
            setHandleEdited(true);
          }}
          error={errors.handle}
          hint="Used in paths and in prefect cloud login --workspace account/handle."
          autoComplete="off"
        />
        <div className="field">
          <label htmlFor="ws-description">Description</label>
          <textarea id="ws-description" value={description} onChange={(e) => setDescription(e.target.value)} rows={3} />
        </div>
        <FormError message={errors.form} />
        <FormActions onCancel={onClose} busy={busy} busyLabel="Creating…" label="Create workspace" />
      </form>
    </Dialog>
  );
}
