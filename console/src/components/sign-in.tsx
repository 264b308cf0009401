import { useState } from 'preact/hooks';
import { decodeToken } from '../auth.js';

/** Asks for a bearer token (the hub's operators issue them); the page keeps it for this tab only. */
export function SignIn(props: { reason?: string; onToken(token: string): void }) {
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  return (
    <form
      class="sign-in"
      onSubmit={(event) => {
        event.preventDefault();
        const token = text.trim().replace(/^Bearer\s+/i, '');
        if (!decodeToken(token)) return setProblem('That is not a JWT (three dot-separated parts).');
        props.onToken(token);
      }}
    >
      <h1>fl-scheduler console</h1>
      {props.reason && <p class="problem">{props.reason}</p>}
      <label for="token">Bearer token (JWT)</label>
      <textarea id="token" name="token" rows={4} value={text} onInput={(e) => setText(e.currentTarget.value)} />
      {problem && <p class="problem">{problem}</p>}
      <button type="submit">Sign in</button>
      <p class="hint">
        Or open the console with <code>#token=&lt;jwt&gt;</code> after its address.
      </p>
    </form>
  );
}
