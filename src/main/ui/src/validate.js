// The same checks the gateway makes (ProviderTemplates.validate), run as the user types.
export function fieldError(field, raw) {
  const v = (raw ?? '').trim();
  if (!v) {
    return field.required && field.default == null ? field.label + ' is required' : null;
  }
  if (field.type === 'number' && Number.isNaN(Number(v))) return 'must be a number';
  if (field.type === 'url' && !/^https?:\/\//.test(v)) return 'must be an http:// or https:// URL';
  if (field.type === 'select' && !field.options.includes(v)) return 'must be one of ' + field.options.join(', ');
  if (field.pattern && !new RegExp(field.pattern).test(v)) {
    return field.secret ? 'does not look like a key of this provider' : 'does not have the expected form';
  }
  return null;
}

export const NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

export function nameError(name) {
  if (!name) return 'a name is required';
  return NAME_PATTERN.test(name) ? null : 'lower-case letters, digits, ".", "_" or "-"; it prefixes model ids (name/model)';
}

/** Only the fields the user filled (defaults stay the gateway's to apply). */
export function filledConfig(template, values) {
  const out = {};
  for (const f of template.config_schema) {
    const v = (values[f.name] ?? '').trim();
    if (v) out[f.name] = v;
  }
  return out;
}
