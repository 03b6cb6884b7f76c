import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, timing } from './api.js';
import { Badge, CATEGORY, ErrorBox, Initial, Spinner, Status } from './common.jsx';

/** The template cards (search, filters) with the status of the providers made from each, and the provider list. */
export function Providers({ templates }) {
  const [providers, setProviders] = useState(null);
  const [error, setError] = useState(null);
  const [q, setQ] = useState('');
  const [category, setCategory] = useState('');
  const [difficulty, setDifficulty] = useState('');
  const [busy, setBusy] = useState({});
  const [notice, setNotice] = useState(null);
  const loadedAt = useRef(0);

  const load = () => {
    setError(null);
    loadedAt.current = performance.now();
    api('GET', '/v1/admin/providers').then((r) => setProviders(r.data)).catch((e) => setError(e.message));
  };
  useEffect(load, []);
  useLayoutEffect(() => {
    if (providers && loadedAt.current) {
      timing('providers-render', performance.now() - loadedAt.current);
      loadedAt.current = 0;
    }
  }, [providers]);

  const shown = useMemo(() => {
    const needle = q.trim().toLowerCase();
    return templates.filter((t) => (!category || t.category === category) && (!difficulty || t.difficulty === difficulty)
      && (!needle || t.name.toLowerCase().includes(needle) || t.description.toLowerCase().includes(needle)));
  }, [templates, q, category, difficulty]);

  const instances = (t) => (providers || []).filter((p) => p.template === t.id && (p.source === 'runtime' || p.enabled));

  const act = (id, what) => {
    setBusy({ ...busy, [id]: what });
    setNotice(null);
    const done = (msg, ok) => { setBusy((b) => ({ ...b, [id]: null })); setNotice({ msg, ok }); };
    if (what === 'delete') {
      if (!confirm('Delete provider ' + id + '? Calls in flight finish first.')) return done(null, true);
      api('DELETE', '/v1/admin/providers/' + encodeURIComponent(id))
        .then(() => { done('Deleted ' + id, true); load(); }).catch((e) => done(e.message, false));
    } else if (what === 'test') {
      api('POST', '/v1/admin/providers/' + encodeURIComponent(id) + '/test', {}).then((r) => done(id + ': ' + r.steps
        .map((s) => s.name + ' ' + (s.ok ? 'ok' : 'failed: ' + s.error)).join('; '), r.ok)).catch((e) => done(e.message, false));
    } else {
      api('POST', '/v1/admin/providers/' + encodeURIComponent(id) + '/refresh-models').then((r) => done(id + ': '
        + r.data.length + ' models (' + r.source + ')' + (r.error ? ': ' + r.error : ''), !r.error))
        .catch((e) => done(e.message, false));
    }
  };

  return (
    <section>
      <div class="toolbar">
        <input type="search" placeholder="Search providers" value={q} data-testid="search" aria-label="Search"
          onInput={(e) => setQ(e.currentTarget.value)} />
        <select value={category} onChange={(e) => setCategory(e.currentTarget.value)} data-testid="filter-category"
          aria-label="Category">
          <option value="">All categories</option>
          {Object.entries(CATEGORY).map(([k, v]) => <option value={k}>{v}</option>)}
        </select>
        <select value={difficulty} onChange={(e) => setDifficulty(e.currentTarget.value)} data-testid="filter-difficulty"
          aria-label="Difficulty">
          <option value="">Any difficulty</option>
          {['easy', 'medium', 'hard'].map((d) => <option value={d}>{d}</option>)}
        </select>
        <span class="muted" data-testid="count">{shown.length} of {templates.length}</span>
      </div>
      {error && <ErrorBox error={'Cannot load the providers: ' + error} retry={load} />}
      <div class="grid" data-testid="cards">
        {shown.map((t) => (
          <article class="card provider" data-testid="card" data-id={t.id} key={t.id}>
            <div class="head"><Initial name={t.name} /><div><h3>{t.name}</h3>
              <Badge kind={'cat ' + t.category}>{CATEGORY[t.category]}</Badge>
              <Badge kind={'diff ' + t.difficulty}>{t.difficulty}</Badge></div></div>
            <p class="muted">{t.description}</p>
            <ul class="instances">
              {providers == null && !error && <li class="muted">loading status…</li>}
              {providers && instances(t).length === 0 && <li class="muted">not set up</li>}
              {instances(t).map((p) => <li><code>{p.id}</code> <Status status={p.status} enabled={p.enabled} /></li>)}
            </ul>
            <div class="actions"><a class="button" href={'#/wizard?template=' + t.id} data-testid="setup">Set up</a>
              <a href={t.docs_url} target="_blank" rel="noopener noreferrer">Docs</a></div>
          </article>
        ))}
        {shown.length === 0 && <p class="muted" data-testid="no-match">No provider matches.</p>}
      </div>
      <h2>Configured providers</h2>
      {notice && notice.msg && <p class={notice.ok ? 'ok' : 'error'} role="status" data-testid="notice">{notice.msg}</p>}
      {providers == null && !error ? <Spinner label="Loading providers…" /> : (
        <table data-testid="provider-table">
          <thead><tr><th>Name</th><th>Source</th><th>Template</th><th>Base URL</th><th>Status</th><th /></tr></thead>
          <tbody>
            {(providers || []).filter((p) => p.enabled || p.source === 'runtime').map((p) => (
              <tr data-testid="provider-row" data-id={p.id}>
                <td><code>{p.id}</code></td>
                <td>{p.read_only ? 'configuration (read-only)' : 'runtime'}</td>
                <td>{p.template || p.kind}</td>
                <td class="url">{p.base_url}</td>
                <td><Status status={p.status} enabled={p.enabled} />{p.error && <div class="error">{p.error}</div>}</td>
                <td class="actions">
                  <button class="small" disabled={!!busy[p.id]} onClick={() => act(p.id, 'test')}>Test</button>
                  <button class="small" disabled={!!busy[p.id]} onClick={() => act(p.id, 'models')}>Refresh models</button>
                  {!p.read_only && <button class="small danger" disabled={!!busy[p.id]}
                    onClick={() => act(p.id, 'delete')}>Delete</button>}
                  {busy[p.id] && <span class="spinner" />}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
