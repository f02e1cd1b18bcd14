// One product: its fields, options and variants (/products/new creates one; /products/:id edits
// it), its images, and what it looks like on each connected channel. The API decides what is
// valid: its 400 details are shown at the field they name, a taken SKU (409) on that SKU, and a
// version someone else saved since this page read it (412) with a way to reload. A viewer sees
// the same page with every control disabled or gone.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent, type ReactNode } from 'react';
import { Link, useLocation } from 'wouter';
import { api, ApiError, errorText, type Answer, type BodyOf } from '../api.ts';
import { combinations, fieldErrors, formatMoney, moneyInput, parseMoney, splitList, suggestSku } from '../catalog.ts';
import { PublishPanel } from '../components/PublishPanel.tsx';
import { useCan } from '../hooks.ts';
import { Badge, ChannelLabel, Empty, ErrorBox, Loading, PageHeader } from '../ui.tsx';

type Product = Answer<'/products/{id}'>;
type Override = Product['overrides'][number];
type PriceRule = NonNullable<BodyOf<'/products/{id}/overrides/{channel_id}', 'put'>['price']>;
type Status = NonNullable<BodyOf<'/products', 'post'>['status']>;

const MAX_OPTIONS = 3; // the API's limit

interface VariantDraft {
  /** null until saved: a row the next save creates. */
  item_id: string | null;
  sku: string;
  /** One value per option, by the option's place (an option may be renamed while editing). */
  values: string[];
  price: string;
  on_hand: number | null;
}

interface Draft {
  title: string;
  description: string;
  brand: string;
  category: string;
  price: string;
  currency: string;
  weight_g: string;
  length_mm: string;
  width_mm: string;
  height_mm: string;
  tags: string;
  status: Status;
  attributes: Array<{ key: string; value: string }>;
  options: Array<{ name: string; values: string }>;
  variants: VariantDraft[];
}

const blankVariant = (): VariantDraft => ({ item_id: null, sku: '', values: [], price: '', on_hand: null });
const text = (n: number | null | undefined) => (n === null || n === undefined ? '' : String(n));

function draftOf(p: Product | null): Draft {
  if (!p)
    return {
      title: '',
      description: '',
      brand: '',
      category: '',
      price: '',
      currency: 'GBP',
      weight_g: '',
      length_mm: '',
      width_mm: '',
      height_mm: '',
      tags: '',
      status: 'active',
      attributes: [],
      options: [],
      variants: [blankVariant()],
    };
  return {
    title: p.title,
    description: p.description,
    brand: p.brand ?? '',
    category: p.category ?? '',
    price: moneyInput(p.price_minor, p.currency),
    currency: p.currency,
    weight_g: text(p.weight_g),
    length_mm: text(p.length_mm),
    width_mm: text(p.width_mm),
    height_mm: text(p.height_mm),
    tags: p.tags.join(', '),
    status: p.status === 'archived' ? 'archived' : 'active',
    attributes: Object.entries(p.attributes).map(([key, value]) => ({ key, value })),
    options: p.options.map((o) => ({ name: o.name, values: o.values.join(', ') })),
    variants: p.variants.map((v) => ({
      item_id: v.item_id,
      sku: v.sku,
      values: p.options.map((o) => v.option_values[o.name] ?? ''),
      price: moneyInput(v.price_minor, p.currency),
      on_hand: v.on_hand,
    })),
  };
}

type Errors = Map<string, string>;

/** The request body of the draft's own fields, or the fields that are not numbers yet. */
function fieldsOf(d: Draft): { body: Omit<BodyOf<'/products', 'post'>, 'variants'>; errors: Errors } {
  const errors: Errors = new Map();
  const price = parseMoney(d.price, d.currency);
  if (price === undefined) errors.set('price_minor', 'Type a price like 12.50');
  const int = (k: 'weight_g' | 'length_mm' | 'width_mm' | 'height_mm') => {
    const s = d[k].trim();
    if (s === '') return null;
    if (!/^\d+$/.test(s)) errors.set(k, 'A whole number');
    return Number(s);
  };
  const body = {
    title: d.title.trim(),
    description: d.description,
    brand: d.brand.trim() || null,
    category: d.category.trim() || null,
    price_minor: price ?? null,
    currency: d.currency.trim().toUpperCase(),
    weight_g: int('weight_g'),
    length_mm: int('length_mm'),
    width_mm: int('width_mm'),
    height_mm: int('height_mm'),
    tags: splitList(d.tags),
    status: d.status,
    attributes: Object.fromEntries(d.attributes.filter((a) => a.key.trim()).map((a) => [a.key.trim(), a.value])),
    options: d.options.map((o) => ({ name: o.name.trim(), values: splitList(o.values) })),
  };
  return { body, errors };
}

function variantOf(d: Draft, v: VariantDraft, i: number, errors: Errors) {
  const price = parseMoney(v.price, d.currency);
  if (price === undefined) errors.set(`variants.${i}.price`, 'Type a price like 12.50');
  const option_values: Record<string, string> = {};
  d.options.forEach((o, k) => {
    if (v.values[k]) option_values[o.name.trim()] = v.values[k]!;
  });
  return { sku: v.sku.trim(), option_values, price_minor: price ?? null };
}

export default function ProductEditor({ id }: { id: string | null }) {
  // Read once per visit (gcTime 0) and not refreshed behind the form's back (staleTime Infinity):
  // the ETag api.ts sends with a save is the one of the version the form was filled from, so a
  // change someone else made meanwhile is a 412 with a reload, never silently overwritten.
  const product = useQuery({
    queryKey: ['product', id],
    queryFn: () => api.get('/products/{id}', { path: { id: id! } }),
    enabled: id !== null,
    staleTime: Infinity,
    gcTime: 0,
  });
  const [nonce, setNonce] = useState(0);
  const [notice, setNotice] = useState<string | null>(null);
  if (id !== null && product.isPending) return <Loading what="Loading product" />;
  if (id !== null && product.isError) return <ErrorBox error={product.error} retry={() => product.refetch()} />;
  const p = id === null ? null : product.data!;
  const reload = async (message: string | null = null) => {
    await product.refetch();
    setNonce((n) => n + 1); // a new form, filled from what was just read
    setNotice(message);
  };
  return (
    <div className="product-editor">
      <PageHeader title={p ? p.title : 'New product'}>
        <Link href="/products">All products</Link>
      </PageHeader>
      <ProductForm key={`${id ?? 'new'}:${nonce}`} product={p} reload={reload} notice={notice} />
      {p && <Images product={p} />}
      {p && <PublishPanel productId={p.id} />}
      {p && <Overrides product={p} />}
    </div>
  );
}

function FieldError({ children }: { children: ReactNode }) {
  if (!children) return null;
  return (
    <small className="field-error" data-testid="field-error">
      {children}
    </small>
  );
}

function ProductForm({ product, reload, notice }: { product: Product | null; reload: (message?: string | null) => Promise<void>; notice: string | null }) {
  const canWrite = useCan('write');
  const qc = useQueryClient();
  const [, navigate] = useLocation();
  const [d, setD] = useState<Draft>(() => draftOf(product));
  const [errors, setErrors] = useState<Errors>(new Map());
  const [problem, setProblem] = useState<{ stale: boolean; text: string } | null>(null);
  const [saving, setSaving] = useState(false);
  const [edited, setEdited] = useState(false);
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => {
    setD((x) => ({ ...x, [k]: v }));
    setEdited(true);
  };
  const setVariant = (i: number, v: Partial<VariantDraft>) =>
    set(
      'variants',
      d.variants.map((x, j) => (j === i ? { ...x, ...v } : x)),
    );
  const err = (k: string) => errors.get(k);
  const under = (prefix: string) =>
    [...errors]
      .filter(([k]) => k === prefix || k.startsWith(`${prefix}.`))
      .map(([, m]) => m)
      .join('; ');
  const optionValues = d.options.map((o) => splitList(o.values));

  const removeOption = (k: number) => {
    setD((x) => ({
      ...x,
      options: x.options.filter((_, j) => j !== k),
      variants: x.variants.map((v) => ({ ...v, values: v.values.filter((_, j) => j !== k) })),
    }));
  };
  const generate = () => {
    const have = new Set(d.variants.map((v) => v.values.join('\u0000')));
    const added = combinations(optionValues)
      .filter((c) => !have.has(c.join('\u0000')))
      .map((c) => ({ ...blankVariant(), values: c, sku: suggestSku(d.title, c) }));
    // A blank row (the one a new product starts with) gives way to the generated ones.
    const kept = d.variants.filter((v) => v.item_id !== null || v.sku.trim() !== '' || v.values.some(Boolean));
    set('variants', [...kept, ...added]);
  };

  const fail = (e: unknown, row?: number) => {
    const names = d.options.map((o) => o.name.trim());
    if (e instanceof ApiError && e.status === 412) {
      setProblem({ stale: true, text: 'Someone else changed this product since you opened it.' });
      return;
    }
    // 400s and a taken SKU's 409 name their fields; a call about one variant names them from its row.
    const placed = e instanceof ApiError && (e.status === 400 || e.status === 409);
    const next = placed ? fieldErrors(e.details, names, row === undefined ? '' : `variants.${row}`) : new Map<string, string>();
    if (e instanceof ApiError && e.status === 409 && next.size === 0 && row !== undefined) next.set(`variants.${row}.sku`, e.message);
    setErrors(next);
    setProblem({ stale: false, text: errorText(e) });
  };

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setErrors(new Map());
    setProblem(null);
    const { body, errors: local } = fieldsOf(d);
    const variants = d.variants.map((v, i) => variantOf(d, v, i, local));
    if (local.size) {
      setErrors(local);
      setProblem({ stale: false, text: 'Check the fields marked below.' });
      return;
    }
    setSaving(true);
    try {
      if (!product) {
        const created = await api.post('/products', { body: { ...body, variants } });
        await qc.invalidateQueries({ queryKey: ['products'] });
        navigate(`/products/${created.id}`, { replace: true });
        return;
      }
      await api.patch('/products/{id}', { path: { id: product.id }, body });
      let row: number | undefined;
      try {
        for (const [i, v] of d.variants.entries()) {
          if (v.item_id !== null) continue;
          row = i;
          await api.post('/products/{id}/variants', { path: { id: product.id }, body: variants[i]! });
        }
      } catch (err) {
        // The variants before this one are saved: read them back so a retry does not send them again.
        const fresh = await api.get('/products/{id}', { path: { id: product.id } }).catch(() => null);
        if (fresh)
          setD((x) => ({
            ...x,
            variants: x.variants.map((v) => {
              const s = v.item_id === null ? fresh.variants.find((f) => f.sku === v.sku.trim()) : undefined;
              return s ? { ...v, item_id: s.item_id, on_hand: s.on_hand } : v;
            }),
          }));
        fail(err, row);
        return;
      }
      await qc.invalidateQueries({ queryKey: ['products'] });
      await reload('Saved.');
    } catch (err) {
      fail(err);
    } finally {
      setSaving(false);
    }
  };

  const cols = `minmax(7rem, 2fr) ${d.options.map(() => 'minmax(5rem, 1fr)').join(' ')} minmax(6rem, 1fr) 5rem 4.5rem`;
  return (
    <form className="card product-form" onSubmit={save} aria-label="Product">
      <fieldset disabled={!canWrite} className="plain-fieldset">
        <div className="fields">
          <label className="span-all">
            Title
            <input name="title" value={d.title} onChange={(e) => set('title', e.target.value)} aria-invalid={!!err('title')} />
            <FieldError>{err('title')}</FieldError>
          </label>
          <label className="span-all">
            Description
            <textarea className="prose" name="description" rows={3} value={d.description} onChange={(e) => set('description', e.target.value)} />
            <FieldError>{err('description')}</FieldError>
          </label>
          <label>
            Brand
            <input name="brand" value={d.brand} onChange={(e) => set('brand', e.target.value)} />
            <FieldError>{err('brand')}</FieldError>
          </label>
          <label>
            Category
            <input name="category" value={d.category} placeholder="Clothing > Shirts" onChange={(e) => set('category', e.target.value)} />
            <FieldError>{err('category')}</FieldError>
          </label>
          <label>
            Base price
            <input
              name="price"
              inputMode="decimal"
              placeholder="12.50"
              value={d.price}
              onChange={(e) => set('price', e.target.value)}
              aria-invalid={!!err('price_minor')}
            />
            <FieldError>{err('price_minor')}</FieldError>
          </label>
          <label>
            Currency
            <input name="currency" maxLength={3} value={d.currency} onChange={(e) => set('currency', e.target.value.toUpperCase())} />
            <FieldError>{err('currency')}</FieldError>
          </label>
          {(
            [
              ['weight_g', 'Weight (g)'],
              ['length_mm', 'Length (mm)'],
              ['width_mm', 'Width (mm)'],
              ['height_mm', 'Height (mm)'],
            ] as const
          ).map(([k, label]) => (
            <label key={k}>
              {label}
              <input name={k} inputMode="numeric" value={d[k]} onChange={(e) => set(k, e.target.value)} aria-invalid={!!err(k)} />
              <FieldError>{err(k)}</FieldError>
            </label>
          ))}
          <label>
            Tags
            <input name="tags" placeholder="linen, summer" value={d.tags} onChange={(e) => set('tags', e.target.value)} />
            <FieldError>{under('tags')}</FieldError>
          </label>
          <label>
            Status
            <select name="status" value={d.status} onChange={(e) => set('status', e.target.value as Status)}>
              <option value="active">Active</option>
              <option value="archived">Archived</option>
            </select>
          </label>
        </div>

        <section aria-label="Attributes" className="sub">
          <h2>Attributes</h2>
          {d.attributes.length === 0 && <p className="small">None. Attributes are free key/value pairs (Material: Linen).</p>}
          {d.attributes.map((a, i) => (
            <div className="kv-row" key={i}>
              <input
                aria-label={`Attribute ${i + 1} name`}
                placeholder="Material"
                value={a.key}
                onChange={(e) =>
                  set(
                    'attributes',
                    d.attributes.map((x, j) => (j === i ? { ...x, key: e.target.value } : x)),
                  )
                }
              />
              <input
                aria-label={`Attribute ${i + 1} value`}
                placeholder="Linen"
                value={a.value}
                onChange={(e) =>
                  set(
                    'attributes',
                    d.attributes.map((x, j) => (j === i ? { ...x, value: e.target.value } : x)),
                  )
                }
              />
              {canWrite && (
                <button
                  type="button"
                  className="link"
                  onClick={() =>
                    set(
                      'attributes',
                      d.attributes.filter((_, j) => j !== i),
                    )
                  }
                >
                  Remove
                </button>
              )}
            </div>
          ))}
          <FieldError>{under('attributes')}</FieldError>
          {canWrite && (
            <button type="button" onClick={() => set('attributes', [...d.attributes, { key: '', value: '' }])}>
              Add attribute
            </button>
          )}
        </section>

        <section aria-label="Options" className="sub">
          <h2>Options</h2>
          <p className="small">What variants differ by (Size, Colour …), at most {MAX_OPTIONS}; values separated by commas.</p>
          {d.options.map((o, k) => (
            <div className="option-row" key={k} data-testid="option-row">
              <label>
                Option {k + 1}
                <input
                  aria-label={`Option ${k + 1} name`}
                  placeholder="Size"
                  value={o.name}
                  onChange={(e) =>
                    set(
                      'options',
                      d.options.map((x, j) => (j === k ? { ...x, name: e.target.value } : x)),
                    )
                  }
                />
                <FieldError>{err(`options.${k}.name`)}</FieldError>
              </label>
              <label className="grow">
                Values
                <input
                  aria-label={`Option ${k + 1} values`}
                  placeholder="S, M, L"
                  value={o.values}
                  onChange={(e) =>
                    set(
                      'options',
                      d.options.map((x, j) => (j === k ? { ...x, values: e.target.value } : x)),
                    )
                  }
                />
                <FieldError>{under(`options.${k}.values`)}</FieldError>
              </label>
              {canWrite && (
                <button type="button" className="link" onClick={() => removeOption(k)} aria-label={`Remove option ${k + 1}`}>
                  Remove
                </button>
              )}
            </div>
          ))}
          {canWrite && (
            <button type="button" disabled={d.options.length >= MAX_OPTIONS} onClick={() => set('options', [...d.options, { name: '', values: '' }])}>
              Add option
            </button>
          )}
        </section>

        <section aria-label="Variants" className="sub">
          <h2>Variants</h2>
          <FieldError>{err('variants')}</FieldError>
          <div className="variant-row head" style={{ gridTemplateColumns: cols }} aria-hidden>
            <span>SKU</span>
            {d.options.map((o, k) => (
              <span key={k}>{o.name || `Option ${k + 1}`}</span>
            ))}
            <span>Price override</span>
            <span className="num">On hand</span>
            <span />
          </div>
          {d.variants.map((v, i) => {
            const isSaved = v.item_id !== null;
            const rowError = [err(`variants.${i}`), err(`variants.${i}.option_values`)].filter(Boolean).join('; ');
            return (
              <div className="variant" key={i} data-testid="variant-row" data-sku={v.sku}>
                <div className="variant-row" style={{ gridTemplateColumns: cols }}>
                  <label>
                    <span className="cap">SKU</span>
                    {isSaved ? (
                      <Link href={`/items/${v.item_id}`} className="sku">
                        {v.sku}
                      </Link>
                    ) : (
                      <input
                        aria-label={`Variant ${i + 1} SKU`}
                        value={v.sku}
                        onChange={(e) => setVariant(i, { sku: e.target.value })}
                        aria-invalid={!!err(`variants.${i}.sku`)}
                      />
                    )}
                    <FieldError>{err(`variants.${i}.sku`)}</FieldError>
                  </label>
                  {d.options.map((o, k) => {
                    const value = v.values[k] ?? '';
                    const choices = optionValues[k]!.includes(value) || !value ? optionValues[k]! : [value, ...optionValues[k]!];
                    return (
                      <label key={k}>
                        <span className="cap">{o.name || `Option ${k + 1}`}</span>
                        {isSaved ? (
                          <span>{value || '—'}</span>
                        ) : (
                          <select
                            aria-label={`Variant ${i + 1} ${o.name || `option ${k + 1}`}`}
                            value={value}
                            aria-invalid={!!err(`variants.${i}.option.${k}`)}
                            onChange={(e) => {
                              const values = d.options.map((_, j) => v.values[j] ?? '');
                              values[k] = e.target.value;
                              setVariant(i, { values });
                            }}
                          >
                            <option value="">—</option>
                            {choices.map((c) => (
                              <option key={c} value={c}>
                                {c}
                              </option>
                            ))}
                          </select>
                        )}
                        <FieldError>{err(`variants.${i}.option.${k}`)}</FieldError>
                      </label>
                    );
                  })}
                  <label>
                    <span className="cap">Price override</span>
                    {isSaved ? (
                      <span>{v.price ? formatMoney(parseMoney(v.price, d.currency), d.currency) : 'base price'}</span>
                    ) : (
                      <input
                        aria-label={`Variant ${i + 1} price`}
                        inputMode="decimal"
                        placeholder="base"
                        value={v.price}
                        onChange={(e) => setVariant(i, { price: e.target.value })}
                      />
                    )}
                    <FieldError>{err(`variants.${i}.price`) ?? under(`variants.${i}.price_minor`)}</FieldError>
                  </label>
                  <span className="num">
                    <span className="cap">On hand </span>
                    {v.on_hand ?? '—'}
                  </span>
                  <span>
                    {!isSaved && canWrite && d.variants.length > 1 && (
                      <button
                        type="button"
                        className="link"
                        onClick={() =>
                          set(
                            'variants',
                            d.variants.filter((_, j) => j !== i),
                          )
                        }
                        aria-label={`Remove variant ${i + 1}`}
                      >
                        Remove
                      </button>
                    )}
                  </span>
                </div>
                {rowError && <FieldError>{rowError}</FieldError>}
              </div>
            );
          })}
          {product && d.variants.some((v) => v.item_id !== null) && (
            <p className="small">A saved variant is an item: its stock, listings and SKU are on its item page.</p>
          )}
          {canWrite && (
            <div className="row wrap">
              <button type="button" onClick={() => set('variants', [...d.variants, { ...blankVariant(), values: d.options.map(() => '') }])}>
                Add variant
              </button>
              <button type="button" onClick={generate} disabled={optionValues.every((vs) => vs.length === 0)}>
                Generate all combinations
              </button>
            </div>
          )}
        </section>
      </fieldset>

      {problem && (
        <div className={problem.stale ? 'card warning' : 'form-error'} role="alert" data-testid={problem.stale ? 'stale' : 'save-error'}>
          {problem.text}{' '}
          {problem.stale && (
            <button type="button" onClick={() => void reload()}>
              Reload
            </button>
          )}
        </div>
      )}
      {notice && !edited && !problem && (
        <p className="ok-text" role="status">
          {notice}
        </p>
      )}
      {canWrite && (
        <div className="row">
          <button type="submit" className="primary" disabled={saving}>
            {saving ? 'Saving…' : product ? 'Save product' : 'Create product'}
          </button>
        </div>
      )}
    </form>
  );
}

/** The product's images in their order: upload several at once (with alt text), remove. */
function Images({ product }: { product: Product }) {
  const canWrite = useCan('write');
  const qc = useQueryClient();
  const [files, setFiles] = useState<File[]>([]);
  const [alt, setAlt] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [inputKey, setInputKey] = useState(0);
  const refresh = () => qc.invalidateQueries({ queryKey: ['product', product.id] });
  const upload = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const failed: string[] = [];
    // One at a time, in the order chosen: each goes last in the product's order.
    for (const f of files) {
      try {
        await api.upload('/products/{id}/images', f, { path: { id: product.id }, query: { alt: alt || undefined } });
      } catch (err) {
        failed.push(`${f.name}: ${errorText(err)}`);
      }
    }
    setBusy(false);
    setFiles([]);
    setInputKey((k) => k + 1);
    if (failed.length) setError(failed.join(' · '));
    else setAlt('');
    await refresh();
  };
  const remove = async (imageId: string) => {
    try {
      await api.delete('/products/{id}/images/{image_id}', { path: { id: product.id, image_id: imageId } });
      await refresh();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <section className="card" aria-label="Images">
      <h2>Images</h2>
      {product.images.length === 0 ? (
        <Empty>No images yet.</Empty>
      ) : (
        <ol className="thumbs" data-testid="images">
          {product.images.map((img) => (
            <li key={img.id} data-testid="image">
              <img src={img.url} alt={img.alt ?? ''} />
              <small>{img.alt || 'no alt text'}</small>
              {canWrite && (
                <button type="button" className="link" onClick={() => void remove(img.id)} aria-label={`Remove image ${img.alt ?? img.id}`}>
                  Remove
                </button>
              )}
            </li>
          ))}
        </ol>
      )}
      {canWrite && (
        <form className="row wrap" onSubmit={upload} aria-label="Upload images">
          <label>
            Images (JPEG, PNG, WebP or GIF)
            <input
              key={inputKey}
              type="file"
              name="images"
              accept="image/jpeg,image/png,image/webp,image/gif"
              multiple
              onChange={(e) => setFiles([...(e.target.files ?? [])])}
            />
          </label>
          <label>
            Alt text
            <input name="alt" value={alt} maxLength={300} placeholder="Front view" onChange={(e) => setAlt(e.target.value)} />
          </label>
          <button type="submit" disabled={busy || files.length === 0}>
            {busy ? 'Uploading…' : files.length > 1 ? `Upload ${files.length} images` : 'Upload'}
          </button>
        </form>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

/** One section per connected channel: what the product looks like there. */
function Overrides({ product }: { product: Product }) {
  const channels = useQuery({ queryKey: ['channels'], queryFn: () => api.get('/channels', { query: { limit: 100 } }) });
  return (
    <section className="card" aria-label="Channels">
      <h2>On each channel</h2>
      {channels.isPending ? (
        <Loading what="Loading channels" />
      ) : channels.isError ? (
        <ErrorBox error={channels.error} retry={() => channels.refetch()} />
      ) : channels.data.data.length === 0 ? (
        <Empty>No channels connected yet.</Empty>
      ) : (
        channels.data.data.map((c) => (
          <OverrideForm key={c.id} product={product} channel={c} current={product.overrides.find((o) => o.channel_id === c.id) ?? null} />
        ))
      )}
    </section>
  );
}

type PriceKind = 'none' | 'absolute' | 'percent';

function OverrideForm({ product, channel, current }: { product: Product; channel: { id: string; name: string; type: string }; current: Override | null }) {
  const canWrite = useCan('write');
  const qc = useQueryClient();
  const rule = (current?.price ?? null) as PriceRule | null;
  const [title, setTitle] = useState(current?.title ?? '');
  const [description, setDescription] = useState(current?.description ?? '');
  const [kind, setKind] = useState<PriceKind>(rule?.type ?? 'none');
  const [amount, setAmount] = useState(
    rule?.type === 'absolute' ? moneyInput(rule.minor, product.currency) : rule?.type === 'percent' ? String(rule.percent) : '',
  );
  const [imageIds, setImageIds] = useState<string[]>(current?.image_ids ?? []);
  const [categoryId, setCategoryId] = useState(current?.category_id ?? '');
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const byId = new Map(product.images.map((i) => [i.id, i]));
  const chosen = imageIds.filter((i) => byId.has(i));
  const others = product.images.filter((i) => !chosen.includes(i.id));
  const percent = Number(amount);
  const preview =
    kind === 'percent' && amount.trim() !== '' && Number.isFinite(percent) && product.price_minor !== null
      ? formatMoney(Math.round(product.price_minor * (1 + percent / 100)), product.currency)
      : null;
  const move = (id: string, by: number) => {
    const at = chosen.indexOf(id);
    const next = [...chosen];
    next.splice(at, 1);
    next.splice(Math.max(0, Math.min(next.length, at + by)), 0, id);
    setImageIds(next);
  };
  const save = async (e: FormEvent) => {
    e.preventDefault();
    setMsg(null);
    let price: PriceRule | null = null;
    if (kind === 'absolute') {
      const minor = parseMoney(amount, product.currency);
      if (minor === undefined || minor === null) return setMsg({ ok: false, text: 'Type a price like 12.50' });
      price = { type: 'absolute', minor };
    } else if (kind === 'percent') {
      if (amount.trim() === '' || !Number.isFinite(percent)) return setMsg({ ok: false, text: 'Type a percentage like 15 or -10' });
      price = { type: 'percent', percent };
    }
    try {
      await api.put('/products/{id}/overrides/{channel_id}', {
        path: { id: product.id, channel_id: channel.id },
        body: {
          title: title.trim() || null,
          description: description.trim() || null,
          price,
          image_ids: chosen.length ? chosen : null,
          category_id: categoryId.trim() || null,
          attributes: current?.attributes ?? {},
        },
      });
      setMsg({ ok: true, text: 'Saved.' });
      await qc.invalidateQueries({ queryKey: ['product', product.id] });
    } catch (err) {
      setMsg({ ok: false, text: errorText(err) });
    }
  };
  const remove = async () => {
    setMsg(null);
    try {
      await api.delete('/products/{id}/overrides/{channel_id}', { path: { id: product.id, channel_id: channel.id } });
      setTitle('');
      setDescription('');
      setKind('none');
      setAmount('');
      setImageIds([]);
      setCategoryId('');
      setMsg({ ok: true, text: 'Removed: the channel shows the product as it is.' });
      await qc.invalidateQueries({ queryKey: ['product', product.id] });
    } catch (err) {
      setMsg({ ok: false, text: errorText(err) });
    }
  };
  return (
    <form className="override" onSubmit={save} aria-label={`Override for ${channel.name}`} data-testid="override" data-channel-id={channel.id}>
      <h3>
        {channel.name}{' '}
        <small>
          (<ChannelLabel type={channel.type} />)
        </small>{' '}
        {current ? <Badge value="active" label="overridden" /> : <Badge value="idle" label="as the product" />}
      </h3>
      <fieldset disabled={!canWrite} className="plain-fieldset fields">
        <label className="span-all">
          Title
          <input name="title" placeholder={product.title} value={title} onChange={(e) => setTitle(e.target.value)} />
        </label>
        <label>
          Category id
          <input name="category_id" placeholder="the channel's own id" value={categoryId} onChange={(e) => setCategoryId(e.target.value)} />
        </label>
        <label className="span-all">
          Description
          <textarea
            className="prose"
            name="description"
            rows={2}
            placeholder="the product's description"
            value={description}
            onChange={(e) => setDescription(e.target.value)}
          />
        </label>
        <label>
          Price
          <select name="price_rule" value={kind} onChange={(e) => setKind(e.target.value as PriceKind)}>
            <option value="none">The product's prices</option>
            <option value="absolute">This price</option>
            <option value="percent">Base price + %</option>
          </select>
        </label>
        {kind !== 'none' && (
          <label>
            {kind === 'absolute' ? 'Price' : 'Percent (+15, -10)'}
            <input name="price_amount" inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} />
            {preview && <small>{preview} here</small>}
          </label>
        )}
        <div className="span-all">
          <span className="label">Images</span> <small>(none chosen: the product&apos;s, in its order)</small>
          {product.images.length === 0 ? (
            <p className="small">The product has no images.</p>
          ) : (
            <ol className="pick">
              {[...chosen.map((i) => byId.get(i)!), ...others].map((img) => {
                const at = chosen.indexOf(img.id);
                return (
                  <li key={img.id}>
                    <label className="inline">
                      <input
                        type="checkbox"
                        checked={at >= 0}
                        onChange={(e) => setImageIds(e.target.checked ? [...chosen, img.id] : chosen.filter((x) => x !== img.id))}
                      />
                      <img src={img.url} alt={img.alt ?? ''} />
                      {at >= 0 ? `${at + 1}.` : ''} {img.alt || 'image'}
                    </label>
                    {at >= 0 && canWrite && (
                      <span>
                        <button
                          type="button"
                          className="link"
                          disabled={at === 0}
                          onClick={() => move(img.id, -1)}
                          aria-label={`Move ${img.alt || 'image'} earlier`}
                        >
                          ↑
                        </button>{' '}
                        <button
                          type="button"
                          className="link"
                          disabled={at === chosen.length - 1}
                          onClick={() => move(img.id, 1)}
                          aria-label={`Move ${img.alt || 'image'} later`}
                        >
                          ↓
                        </button>
                      </span>
                    )}
                  </li>
                );
              })}
            </ol>
          )}
        </div>
      </fieldset>
      {canWrite && (
        <div className="row wrap">
          <button type="submit">Save for {channel.name}</button>
          {current && (
            <button type="button" className="danger" onClick={() => void remove()}>
              Remove override
            </button>
          )}
        </div>
      )}
      {msg && (
        <p className={msg.ok ? 'ok-text' : 'form-error'} role={msg.ok ? 'status' : 'alert'}>
          {msg.text}
        </p>
      )}
    </form>
  );
}
