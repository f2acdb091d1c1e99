// A choice of one role (account or workspace): in a table row, named by `label`; in a form, by the
// <label> whose htmlFor is `id`, with an empty "Choose…" first when `placeholder` is set.
export function RoleSelect({
  id,
  label,
  roles,
  value,
  onChange,
  placeholder,
}: {
  id?: string;
  label?: string;
  roles: { id: string; name: string }[];
  value: string;
  onChange: (roleId: string) => void;
  placeholder?: string;
}) {
  return (
    <select id={id} aria-label={label} value={value} onChange={(e) => onChange(e.target.value)}>
      {placeholder !== undefined && <option value="">{placeholder}</option>}
      {roles.map((r) => (
        <option key={r.id} value={r.id}>
          {r.name}
        </option>
      ))}
    </select>
  );
}
