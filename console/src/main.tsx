import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { render } from 'preact';
import { useState } from 'preact/hooks';
import { tokenFromFragment } from './auth.js';
import { App } from './components/app.js';
import { SignIn } from './components/sign-in.js';

const STORAGE_KEY = 'fl-console-token';

/**
 * The token, in this order: the URL fragment (then removed from the address
 * bar and the history), this tab's earlier sign-in, the development token
 * the hub puts in the page when it has no auth settings.
 */
function initialToken(): string | null {
  const fromFragment = tokenFromFragment(location.hash);
  if (fromFragment) {
    history.replaceState(null, '', location.pathname + location.search);
    sessionStorage.setItem(STORAGE_KEY, fromFragment);
    return fromFragment;
  }
  const stored = sessionStorage.getItem(STORAGE_KEY);
  if (stored) return stored;
  return document.querySelector<HTMLMetaElement>('meta[name="fl-dev-token"]')?.content || null;
}

function Root() {
  const [token, setToken] = useState(initialToken);
  const [reason, setReason] = useState<string | undefined>();
  if (!token) {
    return (
      <SignIn
        reason={reason}
        onToken={(t) => {
          sessionStorage.setItem(STORAGE_KEY, t);
          setToken(t);
        }}
      />
    );
  }
  return (
    <App
      key={token}
      token={token}
      onSignOut={(why) => {
        sessionStorage.removeItem(STORAGE_KEY);
        setReason(why ? `Signed out: ${why}.` : undefined);
        setToken(null);
      }}
    />
  );
}

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<Root />, root);
}
