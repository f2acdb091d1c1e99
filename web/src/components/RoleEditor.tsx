// Create or edit a custom workspace role: name, description, inherited built-in role, scopes by group.
import { useId, useState, type FormEvent } from 'react';
import { api, ApiError, type WorkspaceRole, type WorkspaceScope } from '../api';
import { useFormSubmit } from '../hooks';
import { Dialog, FormActions } from './Dialog';
import { Field, FormError } from './Field';
import { useStatus } from './Status';

/** Scopes grouped by feature_group, groups in catalogue order. */
export function groupScopes(scopes: WorkspaceScope[]): [string, WorkspaceScope[]][] {
  const groups = new Map<string, WorkspaceScope[]>();
  for (const s of scopes) groups.set(s.feature_group, [...(groups.get(s.feature_group) ?? []), s]);
  return [...groups.entries()];
}

interface Props {
  accountId: string;
  role: WorkspaceRole | null;
  builtIn: WorkspaceRole[];
  scopes: WorkspaceScope[];
  onClose: () => void;
  onSaved: () => void;
}

export function RoleEditorDialog({ accountId, role, builtIn, scopes, onClose, onSaved }: Props) {
  const status = useStatus();
  const descId = useId();
  const inheritId = useId();
  const [name, setName] = useState(role?.name ?? '');
  const [description, setDescription] = useState(role?.description ?? '');
  const [inherited, setInherited] = useState(role?.inherited_role_id ?? '');
  const [chosen, setChosen] = useState<Set<string>>(new Set(role?.scopes ?? []));
  const { errors, setErrors, busy, send } = useFormSubmit<'name'>();
  const byName = new Map(scopes.map((s) => [s.name, s]));

  const toggle = (scope: WorkspaceScope, on: boolean) => {
    const next = new Set(chosen);
    if (on) {
      // A higher scope brings the ones it includes, as the server will expand it anyway.
      next.add(scope.name);
      for (const inc of scope.includes_scopes) next.add(inc);
    } else {
      next.delete(scope.name);
      // Unticking a scope also unticks the higher scopes that would bring it back.
      for (const s of scopes) if (s.includes_scopes.includes(scope.name)) next.delete(s.name);
    }
    setChosen(next);
  };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!name.trim()) return setErrors({ name: 'Enter a name for the role.' });
    setErrors({});
    const body = {
      name: name.trim(),
      description: description.trim(),
      scopes: [...chosen].filter((s) => byName.has(s)),
      inherited_role_id: inherited || null,
    };
    await send(
      async () => {
        if (role) await api.updateWorkspaceRole(accountId, role.id, body);
        else await api.createWorkspaceRole(accountId, body);
        status.success(role ? `Workspace role ${body.name} saved.` : `Workspace role ${body.name} created.`);
        onSaved();
        onClose();
      },
      (err) => (err instanceof ApiError && err.code === 'WORKSPACE_ROLE_NAME_TAKEN' ? { name: err.message } : null),
    );
  };

  return (
    <Dialog title={role ? `Edit workspace role ${role.name}` : 'Create workspace role'} onClose={onClose} wide testId="role-editor">
      <form className="stack" onSubmit={submit} noValidate>
        <Field label="Name" value={name} onChange={setName} error={errors.name} autoComplete="off" />
        <div className="field">
          <label htmlFor={descId}>Description</label>
          <textarea id={descId} value={description} onChange={(e) => setDescription(e.target.value)} rows={2} />
        </div>
        <div className="field">
          <label htmlFor={inheritId}>Inherited role</label>
          <select id={inheritId} value={inherited} onChange={(e) => setInherited(e.target.value)}>
            <option value="">None</option>
            {builtIn.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
          <p className="field-hint">Holders also get every scope of the inherited built-in role.</p>
        </div>
        <div className="scope-picker">
          {groupScopes(scopes).map(([group, list]) => (
            <fieldset key={group} className="scope-group">
              <legend>{group}</legend>
              {list.map((s) => {
                const id = `${descId}-${s.name}`;
                return (
                  <div className="checkbox" key={s.name}>
                    <input id={id} type="checkbox" checked={chosen.has(s.name)} onChange={(e) => toggle(s, e.target.checked)} />
                    <label htmlFor={id}>{s.title}</label>
                    <code className="scope-name">{s.name}</code>
                  </div>
                );
              })}
            </fieldset>
          ))}
        </div>
        <FormError message={errors.form} />
        <FormActions onCancel={onClose} busy={busy} busyLabel="Saving…" label={role ? 'Save role' : 'Create role'} />
      </form>
    </Dialog>
  );
}
