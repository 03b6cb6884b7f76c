import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, timing } from './api.js';
import { Badge, CATEGORY, ErrorBox, Initial, Spinner } from './common.jsx';
import { fieldError, filledConfig, nameError } from './validate.js';

export function emptyWizard() {
  return { step: 1, templateId: null, name: '', values: {}, touched: {}, models: null, selected: [], manual: '',
    test: null, save: null };
}

const STEPS = ['Choose a provider', 'Configure', 'Pick models', 'Test & save'];

/** The 4-step setup wizard; its state is the caller's, so it survives leaving and coming back. */
export function Wizard({ templates, state, setState, preselect }) {
  const set = (patch) => setState((s) => ({ ...s, ...patch }));
  const template = templates.find((t) => t.id === state.templateId) || null;
  const stepStart = useRef(0);

  useEffect(() => {
    if (preselect && preselect !== state.templateId && templates.some((t) => t.id === preselect)) {
      choose(templates.find((t) => t.id === preselect));
    }
  }, [preselect]);
  useLayoutEffect(() => {
    if (stepStart.current) {
      timing('wizard-step-' + state.step, performance.now() - stepStart.current);
      stepStart.current = 0;
    }
  }, [state.step]);

  const go = (step) => { stepStart.current = performance.now(); set({ step }); };
  function choose(t) {
    if (t.id === state.templateId) return go(2);
    const values = {};
    t.config_schema.forEach((f) => { values[f.name] = f.default ?? ''; });
    stepStart.current = performance.now();
    setState({ ...emptyWizard(), templateId: t.id, name: t.id, values, step: 2 });
  }

  const errors = useMemo(() => {
    if (!template) return {};
    const out = {};
    const ne = nameError(state.name);
    if (ne) out.__name = ne;
    template.config_schema.forEach((f) => { const e = fieldError(f, state.values[f.name]); if (e) out[f.name] = e; });
    return out;
  }, [template, state.name, state.values]);
  const valid = Object.keys(errors).length === 0;

  return (
    <section class="wizard">
      <ol class="steps" data-testid="steps">
        {STEPS.map((label, i) => <li class={state.step === i + 1 ? 'current' : state.step > i + 1 ? 'done' : ''}>
          <span>{i + 1}</span> {label}</li>)}
      </ol>
      <div class="card" data-testid={'step-' + state.step}>
        {state.step === 1 && <Choose templates={templates} current={state.templateId} onChoose={choose} />}
        {state.step === 2 && template && <Configure template={template} state={state} set={set} errors={errors} />}
        {state.step === 3 && template && <Models template={template} state={state} set={set} setState={setState} />}
        {state.step === 4 && template && <TestAndSave template={template} state={state} set={set} setState={setState} />}
      </div>
      <div class="nav-buttons">
        {state.step > 1 && <button class="secondary" onClick={() => go(state.step - 1)} data-testid="back">Back</button>}
        {state.step > 1 && state.step < 4 && <button onClick={() => go(state.step + 1)} data-testid="next"
          disabled={state.step === 2 ? !valid : state.step === 3 ? state.selected.length === 0 : false}>Next</button>}
        {state.step > 1 && <button class="link" onClick={() => { location.hash = '#/wizard'; setState(emptyWizard()); }}
          data-testid="start-over">Start over</button>}
      </div>
    </section>
  );
}

function Choose({ templates, current, onChoose }) {
  const [q, setQ] = useState('');
  const needle = q.trim().toLowerCase();
  const match = (t) => !needle || t.name.toLowerCase().includes(needle) || t.description.toLowerCase().includes(needle);
  const recommended = templates.filter((t) => t.recommended && match(t));
  const tile = (t) => (
    <button class={'tile' + (t.id === current ? ' selected' : '')} onClick={() => onChoose(t)} data-testid="choose"
      data-id={t.id}>
      <Initial name={t.name} /><span><strong>{t.name}</strong><br />
        <Badge kind={'cat ' + t.category}>{CATEGORY[t.category]}</Badge> <Badge kind={'diff ' + t.difficulty}>
          {t.difficulty}</Badge></span>
    </button>
  );
  return (
    <>
      <h2>Choose a provider</h2>
      <input type="search" placeholder="Search" value={q} onInput={(e) => setQ(e.currentTarget.value)}
        data-testid="wizard-search" aria-label="Search templates" />
      {recommended.length > 0 && <><h3>Recommended</h3><div class="tiles">{recommended.map(tile)}</div></>}
      {Object.keys(CATEGORY).map((c) => {
        const list = templates.filter((t) => t.category === c && match(t));
        return list.length > 0 && <><h3>{CATEGORY[c]}</h3><div class="tiles">{list.map(tile)}</div></>;
      })}
    </>
  );
}

function Field({ field, value, error, touched, onInput }) {
  const id = 'f-' + field.name;
  const common = { id, name: field.name, value, 'data-testid': 'field-' + field.name, 'aria-invalid': !!(touched && error),
    onInput: (e) => onInput(e.currentTarget.value), onChange: (e) => onInput(e.currentTarget.value) };
  return (
    <div class="field">
      <label for={id}>{field.label}{field.required && <span class="req"> *</span>}</label>
      {field.type === 'select'
        ? <select {...common}>{!field.required && <option value="">(default)</option>}
            {field.options.map((o) => <option value={o}>{o}</option>)}</select>
        : <input {...common} type={field.type === 'password' ? 'password' : field.type === 'number' ? 'number' : 'text'}
            autocomplete="off" spellcheck={false} placeholder={field.default || ''} />}
      <small class="help">{field.help}</small>
      {touched && error && <small class="error" data-testid={'error-' + field.name}>{error}</small>}
    </div>
  );
}

function Configure({ template, state, set, errors }) {
  const touch = (name, v, patch) => set({ ...patch, touched: { ...state.touched, [name]: true }, models: null, test: null });
  return (
    <>
      <h2><Initial name={template.name} /> {template.name}</h2>
      <p class="muted">{template.description} <a href={template.docs_url} target="_blank" rel="noopener noreferrer">
        Setup docs</a></p>
      <div class="field">
        <label for="f-name">Name<span class="req"> *</span></label>
        <input id="f-name" value={state.name} data-testid="field-name" autocomplete="off"
          onInput={(e) => touch('__name', null, { name: e.currentTarget.value.trim() })} />
        <small class="help">Model ids of this provider are <code>{(state.name || 'name') + '/<model>'}</code>.</small>
        {state.touched.__name && errors.__name && <small class="error" data-testid="error-name">{errors.__name}</small>}
      </div>
      {template.config_schema.map((f) => (
        <Field field={f} value={state.values[f.name] ?? ''} error={errors[f.name]} touched={state.touched[f.name]}
          onInput={(v) => touch(f.name, v, { values: { ...state.values, [f.name]: v } })} />
      ))}
      {Object.keys(errors).length > 0 && <p class="muted" data-testid="form-invalid">Fill in the fields marked * to go on.</p>}
    </>
  );
}

function Models({ template, state, set, setState }) {
  const load = () => {
    setState((s) => ({ ...s, models: { status: 'loading' } }));
    api('POST', '/v1/admin/provider-templates/' + template.id + '/models', { name: state.name,
      config: filledConfig(template, state.values) })
      .then((r) => setState((s) => ({ ...s, models: { status: 'done', source: r.source, error: r.error,
        list: r.data.map((m) => m.id) }, selected: s.selected.length ? s.selected : r.data.slice(0, 1).map((m) => m.id) })))
      .catch((e) => setState((s) => ({ ...s, models: { status: 'failed', error: e.message,
        list: template.model_fetching.fallback_models, source: 'fallback' } })));
  };
  useEffect(() => { if (!state.models) load(); }, []);
  const m = state.models;
  const toggle = (id) => set({ selected: state.selected.includes(id) ? state.selected.filter((x) => x !== id)
    : [...state.selected, id] });
  const addManual = () => {
    const id = state.manual.trim();
    if (!id) return;
    set({ manual: '', selected: state.selected.includes(id) ? state.selected : [...state.selected, id],
      models: { ...m, list: m.list.includes(id) ? m.list : [...m.list, id] } });
  };
  return (
    <>
      <h2>Pick models</h2>
      <p class="muted">Listed with {template.model_fetching.method}; kept for {template.model_fetching.ttl_seconds} s.</p>
      {(!m || m.status === 'loading') && <Spinner label={'Loading models from ' + template.name + '…'} />}
      {m && m.source === 'fallback' && <div class="warn" role="alert" data-testid="models-fallback">
        Could not list models: {m.error}. Showing the models {template.name} usually offers.</div>}
      {m && m.list && (
        <ul class="models" data-testid="models">
          {m.list.map((id) => <li><label><input type="checkbox" checked={state.selected.includes(id)}
            onChange={() => toggle(id)} data-testid="model" value={id} /> <code>{id}</code></label></li>)}
          {m.list.length === 0 && <li class="muted">No models listed.</li>}
        </ul>
      )}
      <div class="row">
        <input placeholder="Add a model id by hand" value={state.manual} data-testid="manual-model"
          onInput={(e) => set({ manual: e.currentTarget.value })} onKeyDown={(e) => e.key === 'Enter' && addManual()} />
        <button class="secondary" onClick={addManual} data-testid="add-model">Add</button>
        <button class="secondary" onClick={load} data-testid="reload-models">Reload list</button>
      </div>
      <p class="muted" data-testid="selected-count">{state.selected.length} selected</p>
    </>
  );
}

function TestAndSave({ template, state, set, setState }) {
  const run = () => {
    const started = performance.now();
    setState((s) => ({ ...s, test: { status: 'running' } }));
    api('POST', '/v1/admin/provider-templates/' + template.id + '/test',
      { name: state.name, config: filledConfig(template, state.values), model: state.selected[0] })
      .then((r) => { timing('test-connection', performance.now() - started);
        setState((s) => ({ ...s, test: { status: 'done', result: r } })); })
      .catch((e) => setState((s) => ({ ...s, test: { status: 'failed', error: e.message } })));
  };
  const save = () => {
    setState((s) => ({ ...s, save: { status: 'saving' } }));
    api('POST', '/v1/admin/providers', { name: state.name, template: template.id,
      config: filledConfig(template, state.values), models: state.selected })
      .then((r) => setState((s) => ({ ...s, save: { status: 'saved', provider: r } })))
      .catch((e) => setState((s) => ({ ...s, save: { status: 'failed', error: e.message } })));
  };
  const t = state.test;
  const saved = state.save && state.save.status === 'saved';
  return (
    <>
      <h2>Test the connection</h2>
      <p class="muted">Lists the models, then asks <code>{state.selected[0]}</code> for one token.</p>
      <button onClick={run} disabled={t && t.status === 'running'} data-testid="run-test">Test connection</button>
      {t && t.status === 'running' && <Spinner label="Testing…" />}
      {t && t.status === 'failed' && <ErrorBox error={t.error} />}
      {t && t.result && (
        <ul class="test-steps" data-testid="test-steps">
          {t.result.steps.map((s) => (
            <li class={s.ok ? 'ok' : 'error'} data-testid={'test-' + s.name}>
              {s.ok ? '✓' : '✗'} <strong>{s.name === 'list_models' ? 'Model list' : 'One-token completion'}</strong>
              {' '}({s.millis} ms){s.model ? ' with ' + s.model : ''}: {s.ok ? s.detail : s.error}
            </li>
          ))}
        </ul>
      )}
      {t && t.result && !t.result.ok && <p class="warn" data-testid="test-failed">The {t.result.failed_step === 'list_models'
        ? 'model list' : 'completion'} failed; fix the settings (Back) or save anyway.</p>}
      <hr />
      <h2>Save</h2>
      <p class="muted">Saves <code>{state.name}</code> with {state.selected.length} model(s); it serves calls at once,
        no restart.</p>
      <button onClick={save} disabled={saved || (state.save && state.save.status === 'saving')} data-testid="save">
        Save provider</button>
      {state.save && state.save.status === 'saving' && <Spinner label="Saving…" />}
      {state.save && state.save.status === 'failed' && <ErrorBox error={state.save.error} />}
      {saved && <p class="ok" data-testid="saved">Saved. <code>{state.name}/{state.selected[0]}</code> can be called now.{' '}
        <a href="#/providers">See providers</a> · <button class="link" onClick={() => setState(emptyWizard())}
          data-testid="another">Add another</button></p>}
    </>
  );
}
