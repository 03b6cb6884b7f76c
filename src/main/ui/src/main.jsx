import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, auth } from './api.js';
import { Providers } from './Providers.jsx';
import { Wizard, emptyWizard } from './Wizard.jsx';
import { Live } from './Live.jsx';
import './style.css';

function route() {
  const h = location.hash.replace(/^#\/?/, '');
  const [page, query] = h.split('?');
  return { page: page || 'providers', params: new URLSearchParams(query || '') };
}

function KeyForm({ onKey, error }) {
  const [key, setKey] = useState('');
  return (
    <form class="card login" data-testid="key-form" onSubmit={(e) => { e.preventDefault(); onKey(key.trim()); }}>
      <h2>Admin key</h2>
      <p class="muted">The gateway asks for its admin key: PEKKO_LLM_MASTER_KEY, or PEKKO_LLM_API_KEY when no master
        key is set. It is kept in this tab only (sessionStorage) and sent to this gateway alone.</p>
      <input type="password" autocomplete="off" placeholder="admin key" value={key} data-testid="key-input"
        onInput={(e) => setKey(e.currentTarget.value)} />
      <button type="submit" disabled={!key.trim()}>Sign in</button>
      {error && <p class="error" role="alert">{error}</p>}
    </form>
  );
}

function App() {
  const [where, setWhere] = useState(route());
  const [templates, setTemplates] = useState(null);
  const [authState, setAuthState] = useState({ needed: false, error: null });
  const [loadError, setLoadError] = useState(null);
  // The wizard's state lives here, so it survives leaving the wizard and coming back.
  const [wizard, setWizard] = useState(emptyWizard());

  useEffect(() => {
    const on = () => setWhere(route());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);

  const loadTemplates = () => {
    setLoadError(null);
    api('GET', '/v1/admin/provider-templates').then((r) => {
      setTemplates(r.data);
      setAuthState({ needed: false, error: null });
    }).catch((e) => {
      if (e.status === 401 || e.status === 403) {
        auth.set('');
        setAuthState({ needed: true, error: auth.get() || e.status === 403 ? e.message : null });
      } else {
        setLoadError(e.message);
      }
    });
  };
  useEffect(loadTemplates, []);

  const signIn = (key) => { auth.set(key); loadTemplates(); };
  const signOut = () => { auth.set(''); setTemplates(null); setAuthState({ needed: true, error: null }); };

  const nav = (page, label) => (
    <a href={'#/' + page} class={where.page === page ? 'active' : ''} data-testid={'nav-' + page}>{label}</a>
  );
  let body;
  if (authState.needed) {
    body = <KeyForm onKey={signIn} error={authState.error} />;
  } else if (loadError) {
    body = <div class="card error" role="alert">Cannot load the provider templates: {loadError}
      <button onClick={loadTemplates}>Retry</button></div>;
  } else if (!templates) {
    body = <div class="loading" data-testid="loading">Loading…</div>;
  } else if (where.page === 'wizard') {
    body = <Wizard templates={templates} state={wizard} setState={setWizard} preselect={where.params.get('template')} />;
  } else if (where.page === 'live') {
    body = <Live />;
  } else {
    body = <Providers templates={templates} />;
  }
  return (
    <>
      <header>
        <strong>pekko-llm</strong> <span class="muted">admin</span>
        <nav>{nav('providers', 'Providers')}{nav('wizard', 'Add provider')}{nav('live', 'Live')}</nav>
        {auth.get() && <button class="link" onClick={signOut}>Sign out</button>}
      </header>
      <main>{body}</main>
    </>
  );
}

render(<App />, document.getElementById('app'));
