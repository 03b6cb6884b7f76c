import { useEffect, useState } from 'preact/hooks';
import { api } from './api.js';
import { ErrorBox, Spinner } from './common.jsx';

/** Polls {@code path} every {@code every} ms (0: once); {data, error, loading, reload}. */
function usePoll(path, every) {
  const [s, setS] = useState({ data: null, error: null, loading: true });
  const load = () => api('GET', path).then((data) => setS({ data, error: null, loading: false }))
    .catch((e) => setS((old) => ({ data: old.data, error: e, loading: false })));
  useEffect(() => {
    load();
    if (!every) return undefined;
    const t = setInterval(load, every);
    return () => clearInterval(t);
  }, [path]);
  return { ...s, reload: load };
}

function Section({ title, state, children, testid, empty }) {
  return (
    <section class="card live" data-testid={testid}>
      <h2>{title}</h2>
      {state.loading && !state.data && <Spinner label="Loading…" />}
      {state.error && <ErrorBox error={state.error.message} retry={state.reload} />}
      {state.data && (empty(state.data) ? <p class="muted">Nothing yet.</p> : children(state.data))}
    </section>
  );
}

const ago = (ms) => { const s = Math.max(0, Math.round((Date.now() - ms) / 1000)); return s < 60 ? s + ' s ago'
  : Math.round(s / 60) + ' min ago'; };
const price = (v) => (v == null ? '–' : '$' + Number(v).toFixed(2));

function resumeStatus(s) {
  if (s.status === 'interrupted') return s.interruption && s.interruption.recoverable ? 'resumable' : 'not resumable';
  if (s.attempt > 1) return 'resumed (attempt ' + s.attempt + ')';
  return '';
}

export function Live() {
  const streams = usePoll('/v1/admin/streams', 1000);
  const sessions = usePoll('/v1/sessions?limit=20', 3000);
  const cache = usePoll('/v1/cache', 3000);
  const models = usePoll('/v1/models', 0);
  const keys = usePoll('/v1/keys?limit=100', 0);
  const spend = usePoll('/v1/spend?group_by=day', 0);
  const [filter, setFilter] = useState('');
  return (
    <div class="live-grid">
      <Section title="Streams" state={streams} testid="streams" empty={(d) => d.data.length === 0}>
        {(d) => <table><thead><tr><th>Recovery id</th><th>Model</th><th>Status</th><th>Resume</th><th>Text</th>
          <th>Updated</th></tr></thead><tbody>
          {d.data.map((s) => <tr data-testid="stream-row" data-id={s.recovery_id} data-status={s.status}>
            <td><code>{s.recovery_id}</code></td>
            <td>{(s.model || '').startsWith(s.provider + '/') ? s.model : s.provider + '/' + s.model}</td>
            <td><span class={'status ' + (s.status === 'interrupted' ? 'bad' : s.status === 'streaming' ? 'warn' : 'good')}
              data-testid="stream-status">{s.status}</span>
              {s.interruption && <div class="muted small">{s.interruption.cause}</div>}</td>
            <td data-testid="stream-resume">{resumeStatus(s)}</td>
            <td class="text">{(s.text || '').slice(-80)}</td><td>{ago(s.updated_at_ms)}</td></tr>)}
        </tbody></table>}
      </Section>
      <Section title="Sessions" state={sessions} testid="sessions" empty={(d) => d.data.length === 0}>
        {(d) => <table><thead><tr><th>Id</th><th>Name</th><th>Model</th><th>Created</th></tr></thead><tbody>
          {d.data.map((s) => <tr><td><code>{s.id}</code></td><td>{s.name}</td><td>{s.model}</td>
            <td>{s.created_at}</td></tr>)}</tbody></table>}
      </Section>
      <Section title="Cache" state={cache} testid="cache" empty={() => false}>
        {(c) => <dl class="stats">
          <dt>Mode</dt><dd>{c.mode}</dd><dt>Entries</dt><dd>{c.entries} / {c.max_entries}</dd>
          <dt>Hit rate</dt><dd data-testid="hit-rate">{Math.round((c.hit_rate || 0) * 100)}%</dd>
          <dt>Hits · misses · coalesced</dt><dd>{c.hits} · {c.misses} · {c.coalesced}</dd>
          <dt>Evictions · expirations</dt><dd>{c.evictions} · {c.expirations}</dd></dl>}
      </Section>
      <Section title="Keys and spend" state={keys.error && keys.error.status === 403 ? { ...keys, error: {
        message: 'Virtual keys are off: set PEKKO_LLM_MASTER_KEY to manage keys and see spend.' } } : keys}
        testid="keys" empty={() => false}>
        {(k) => <>
          <table><thead><tr><th>Key</th><th>Prefix</th><th>Team</th><th>Budget</th><th>Models</th><th>State</th></tr>
          </thead><tbody>
            {k.data.map((x) => <tr data-testid="key-row"><td>{x.name || x.id}</td><td><code>{x.key_prefix}</code></td>
              <td>{x.team || '–'}</td><td>{x.max_budget != null ? '$' + x.max_budget
                + (x.budget_duration ? ' / ' + x.budget_duration : '') : '–'}</td>
              <td>{(x.models || []).join(', ') || 'all'}</td><td>{x.revoked ? 'revoked' : 'active'}</td></tr>)}
            {k.data.length === 0 && <tr><td colspan="6" class="muted">No virtual keys.</td></tr>}
          </tbody></table>
          <SpendChart spend={spend} />
        </>}
      </Section>
      <Section title="Model catalog" state={models} testid="catalog" empty={(d) => d.data.length === 0}>
        {(d) => {
          const f = filter.trim().toLowerCase();
          const rows = d.data.filter((m) => !f || m.id.toLowerCase().includes(f)).slice(0, 200);
          return <>
            <input type="search" placeholder="Filter models" value={filter} onInput={(e) => setFilter(e.currentTarget.value)}
              aria-label="Filter models" data-testid="catalog-filter" />
            <table><thead><tr><th>Model</th><th>Context</th><th>Input $/1M</th><th>Output $/1M</th><th>Capabilities</th>
            </tr></thead><tbody>
              {rows.map((m) => <tr data-testid="catalog-row"><td><code>{m.id}</code></td>
                <td>{m.context_window ? m.context_window.toLocaleString() : '–'}</td>
                <td>{price(m.pricing && m.pricing.input)}</td><td>{price(m.pricing && m.pricing.output)}</td>
                <td>{(m.capabilities || []).join(', ')}</td></tr>)}
            </tbody></table>
            <p class="muted">{rows.length} of {d.data.length} shown</p>
          </>;
        }}
      </Section>
    </div>
  );
}

/** Spend per day as bars (SVG, no chart library). */
function SpendChart({ spend }) {
  if (spend.loading && !spend.data) return <Spinner label="Loading spend…" />;
  if (spend.error) return <ErrorBox error={spend.error.message} retry={spend.reload} />;
  const days = (spend.data && spend.data.data) || [];
  if (days.length === 0) return <p class="muted">No spend recorded yet.</p>;
  const max = Math.max(...days.map((d) => Number(d.spend)), 0.000001);
  const w = 24;
  return (
    <figure data-testid="spend-chart">
      <svg width={days.length * (w + 16) + 16} height="136" role="img" aria-label="Spend per day">
        {days.map((d, i) => { const h = Math.max(1, (Number(d.spend) / max) * 100);
          const x = 8 + i * (w + 16);
          return <g><rect x={x} y={110 - h} width={w} height={h} class="bar"><title>{d.date}: ${d.spend}</title></rect>
            <text x={x + w / 2} y="128" text-anchor="middle" class="axis">{d.date.slice(5)}</text></g>; })}
      </svg>
      <figcaption>Spend per day (UTC), total ${spend.data.total_spend}</figcaption>
    </figure>
  );
}
