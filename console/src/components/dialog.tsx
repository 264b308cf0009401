import type { ComponentChild } from 'preact';
import { useState } from 'preact/hooks';

/** An input the dialog asks for, e.g. a hold's end or a limit; its value is text as typed. */
export interface DialogField {
  name: string;
  label: string;
  type: 'number' | 'datetime-local';
  value: string;
  hint?: string;
  min?: number;
}

export interface PendingAction {
  title: string;
  body: ComponentChild;
  confirm: string;
  /** 'plain' for a setting's change; destructive ones (the default) show their button in red */
  tone?: 'danger' | 'plain';
  fields?: DialogField[];
  /** a problem with the values in words (the dialog stays open), or null */
  check?(values: Record<string, string>): string | null;
  run(values: Record<string, string>): Promise<void>;
}

/** Asks before anything destructive, or for a setting's new value; the action runs only on "confirm". */
export function ConfirmDialog(props: { action: PendingAction; onClose(): void }) {
  const { action } = props;
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries((action.fields ?? []).map((f) => [f.name, f.value])),
  );
  const [problem, setProblem] = useState<string | null>(null);
  const confirm = () => {
    const found = action.check?.(values) ?? null;
    if (found) return setProblem(found);
    props.onClose();
    void action.run(values);
  };
  return (
    <div class="overlay">
      <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="confirm-title">
        <form
          noValidate
          onSubmit={(event) => {
            event.preventDefault();
            confirm();
          }}
        >
          <h2 id="confirm-title">{action.title}</h2>
          <p>{action.body}</p>
          {(action.fields ?? []).map((field) => (
            <label key={field.name} class="field">
              <span>{field.label}</span>
              <input
                name={field.name}
                type={field.type}
                min={field.min}
                step={field.type === 'number' ? 1 : undefined}
                value={values[field.name] ?? ''}
                onInput={(event) => {
                  const value = event.currentTarget.value;
                  setValues((old) => ({ ...old, [field.name]: value }));
                }}
              />
              {field.hint && <small class="hint">{field.hint}</small>}
            </label>
          ))}
          {problem && (
            <p class="problem" data-problem>
              {problem}
            </p>
          )}
          <div class="buttons">
            <button type="button" data-cancel onClick={() => props.onClose()}>
              Cancel
            </button>
            <button type="submit" class={action.tone === 'plain' ? 'primary' : 'danger'} data-confirm>
              {action.confirm}
            </button>
          </div>
        </form>
      </div>
    </div>
  );
}
