import { useMutation } from '@apollo/client/react';
import { useId, useState } from 'react';
import { type ApiError, apiErrors } from './errors';
import type { ModelFieldsFragment, SettingsFieldsFragment, UpdateModelSettingsMutation } from './gql/graphql';
import { capabilityList, formatDate } from './labels';
import { CLEAR_MODEL_SETTINGS, UPDATE_MODEL_SETTINGS } from './operations';

type Notice = UpdateModelSettingsMutation['updateModelSettings']['notices'][number];
type Field = 'primaryModelId' | 'fallbackModelId' | 'exclusive' | 'offerToSubOrganizations';

/** What the last save or removal answered, for the version it left (or, after a lost race, the version found). */
export interface SaveOutcome {
  notices: Notice[];
  inheriting: number;
  version: number;
  conflict?: string;
  /** The organization's own settings were removed. */
  removed?: true;
}

const CONFLICT_MESSAGE = 'Someone else changed these settings while you were editing them. Their settings are shown now; review them and save again.';

/**
 * The organization's own settings: primary and fallback among exactly the models the API says may be
 * pinned, exclusive mode, and, where the API says the organization is a parent, the offer to its
 * sub-organizations. Saving sends the version it started from, so a save that lost a race is told;
 * so does removing the settings (clearModelSettings), after a confirmation, so that the organization
 * uses what it would without them, as "Models in use" then shows.
 */
export function ModelsForm({
  organizationId,
  organizationName,
  isParent,
  settings,
  pinnable,
  reload,
  saved,
  onSaved,
}: {
  organizationId: string;
  organizationName: string;
  isParent: boolean;
  settings: SettingsFieldsFragment | null;
  pinnable: readonly ModelFieldsFragment[];
  reload: () => Promise<void>;
  /** Kept by the parent: the form starts again from the stored settings whenever their version changes. */
  saved: SaveOutcome | null;
  onSaved: (outcome: SaveOutcome | null) => void;
}) {
  const [primary, setPrimary] = useState(settings?.primaryModel.id ?? '');
  const [fallback, setFallback] = useState(settings?.fallbackModel?.id ?? '');
  const [exclusive, setExclusive] = useState(settings?.exclusive ?? false);
  const [offer, setOffer] = useState(settings?.offerToSubOrganizations ?? false);
  const [problems, setProblems] = useState<ApiError[]>([]);
  const [update, { loading }] = useMutation(UPDATE_MODEL_SETTINGS);
  const [clear, { loading: clearing }] = useMutation(CLEAR_MODEL_SETTINGS);
  const [confirmingRemoval, setConfirmingRemoval] = useState(false);
  const version = settings?.version ?? 0;
  const shown = saved && saved.version === version ? saved : undefined;
  const ids = { primary: useId(), fallback: useId(), exclusive: useId(), offer: useId(), status: useId(), removal: useId() };

  /** A CONFLICT among the errors: someone else changed the settings first; show theirs and say so. */
  async function lostRace(found: ApiError[]): Promise<boolean> {
    const conflict = found.find((problem) => problem.code === 'CONFLICT');
    if (!conflict) return false;
    onSaved({ notices: [], inheriting: 0, version: Number(conflict.extensions.currentVersion ?? 0), conflict: CONFLICT_MESSAGE });
    await reload();
    return true;
  }

  async function onRemove() {
    setProblems([]);
    onSaved(null);
    try {
      await clear({ variables: { input: { organizationId, expectedVersion: version } } });
      onSaved({ notices: [], inheriting: 0, version: 0, removed: true });
    } catch (error) {
      const found = apiErrors(error);
      if (!(await lostRace(found))) setProblems(found);
    } finally {
      setConfirmingRemoval(false);
    }
  }

  async function onSubmit(event: React.FormEvent) {
    event.preventDefault();
    setProblems([]);
    onSaved(null);
    try {
      const { data } = await update({
        variables: {
          input: {
            organizationId,
            primaryModelId: primary,
            fallbackModelId: fallback === '' ? null : fallback,
            exclusive,
            offerToSubOrganizations: isParent ? offer : false,
            expectedVersion: version,
          },
        },
      });
      const payload = data?.updateModelSettings;
      if (payload) {
        onSaved({
          notices: payload.notices,
          inheriting: payload.inheritingSubOrganizations,
          version: payload.organization.modelSettings?.version ?? version + 1,
        });
      }
    } catch (error) {
      const found = apiErrors(error);
      if (!(await lostRace(found))) setProblems(found);
    }
  }

  const errorOf = (field: Field) => problems.find((problem) => problem.field === field);
  const general = problems.filter((problem) => !problem.field || !['primaryModelId', 'fallbackModelId', 'exclusive', 'offerToSubOrganizations'].includes(problem.field));
  const noticesFor = (modelId: string, codes: Notice['code'][]) =>
    (shown?.notices ?? []).filter((notice) => codes.includes(notice.code) && (notice.model?.id ?? '') === modelId);
  const noPinnable = pinnable.length === 0;

  return (
    <section className="card" aria-labelledby="models-title">
      <div className="card-header">
        <h2 id="models-title">Custom models</h2>
        {settings && (
          <span className="muted small" data-testid="settings-version">
            Version {settings.version} · saved {formatDate(settings.updatedAt)} by {settings.updatedBy}
          </span>
        )}
      </div>
      {shown?.conflict && (
        <div className="banner warning" role="alert" data-testid="conflict">
          {shown.conflict}
        </div>
      )}
      {noPinnable ? (
        <p className="muted" data-testid="no-pinnable">
          Connect a provider above to choose the models {organizationName} uses.
        </p>
      ) : (
        <form onSubmit={onSubmit} className="settings-form" noValidate>
          <div className="field">
            <label htmlFor={ids.primary}>Primary model</label>
            <p className="hint" id={`${ids.primary}-hint`}>
              New agents are created with it; runs try it first. Agents asking for an alias (sonnet) get this exact model.
            </p>
            <select
              id={ids.primary}
              value={primary}
              onChange={(event) => setPrimary(event.target.value)}
              aria-invalid={errorOf('primaryModelId') ? true : undefined}
              aria-describedby={`${ids.primary}-hint${errorOf('primaryModelId') ? ` ${ids.primary}-error` : ''}`}
            >
              <option value="" disabled>
                Choose a model
              </option>
              {pinnable.map((model) => (
                <option key={model.id} value={model.id}>
                  {model.id} — {capabilityList(model.capabilities)}
                </option>
              ))}
            </select>
            <FieldError id={`${ids.primary}-error`} problem={errorOf('primaryModelId')} />
            <Notices notices={noticesFor(primary, ['PRIMARY_LACKS_CAPABILITY', 'MODEL_RETIRING'])} testId="primary-notices" />
          </div>

          <div className="field">
            <label htmlFor={ids.fallback}>Fallback model</label>
            <p className="hint" id={`${ids.fallback}-hint`}>
              Used when the primary fails with a rate limit or a provider error. It may be of the other provider.
            </p>
            <select
              id={ids.fallback}
              value={fallback}
              onChange={(event) => setFallback(event.target.value)}
              aria-invalid={errorOf('fallbackModelId') ? true : undefined}
              aria-describedby={`${ids.fallback}-hint${errorOf('fallbackModelId') ? ` ${ids.fallback}-error` : ''}`}
            >
              <option value="">None</option>
              {pinnable.map((model) => (
                <option key={model.id} value={model.id}>
                  {model.id} — {capabilityList(model.capabilities)}
                </option>
              ))}
            </select>
            <FieldError id={`${ids.fallback}-error`} problem={errorOf('fallbackModelId')} />
            <Notices notices={noticesFor(fallback, ['FALLBACK_LACKS_CAPABILITY', 'MODEL_RETIRING'])} testId="fallback-notices" />
          </div>

          <div className="field checkbox">
            <input
              id={ids.exclusive}
              type="checkbox"
              checked={exclusive}
              onChange={(event) => setExclusive(event.target.checked)}
              aria-describedby={`${ids.exclusive}-hint`}
            />
            <div>
              <label htmlFor={ids.exclusive}>Only use my custom LLM models</label>
              <p className="hint" id={`${ids.exclusive}-hint`}>
                Removes the platform's models from every dropdown in the organization. Members can only pick from the models you've connected.
              </p>
              <FieldError id={`${ids.exclusive}-error`} problem={errorOf('exclusive')} />
            </div>
          </div>

          {isParent && (
            <div className="field checkbox">
              <input
                id={ids.offer}
                type="checkbox"
                checked={offer}
                onChange={(event) => setOffer(event.target.checked)}
                aria-describedby={`${ids.offer}-hint`}
                aria-invalid={errorOf('offerToSubOrganizations') ? true : undefined}
              />
              <div>
                <label htmlFor={ids.offer}>Offer same models to sub-organizations</label>
                <p className="hint" id={`${ids.offer}-hint`}>
                  Sub-organizations without models of their own inherit the primary and fallback together. Those with their own keep them.
                </p>
                <FieldError id={`${ids.offer}-error`} problem={errorOf('offerToSubOrganizations')} />
              </div>
            </div>
          )}

          {general.map((problem, index) => (
            <p key={index} className="field-error" role="alert">
              {problem.message}
            </p>
          ))}

          <div className="form-actions">
            <button type="submit" className="primary" disabled={loading || clearing}>
              {loading ? 'Saving…' : 'Save'}
            </button>
            {settings && !confirmingRemoval && (
              <button type="button" className="danger" onClick={() => setConfirmingRemoval(true)} disabled={loading || clearing}>
                Remove these settings
              </button>
            )}
            <div role="status" id={ids.status} className="save-status" data-testid="save-status">
              {shown?.removed && <>Settings removed: {organizationName} now uses the models shown under Models in use.</>}
              {shown && !shown.conflict && !shown.removed && (
                <>
                  Saved.
                  {settings?.offerToSubOrganizations && (
                    <>
                      {' '}
                      {shown.inheriting === 1 ? '1 sub-organization now inherits' : `${shown.inheriting} sub-organizations now inherit`} these models.
                    </>
                  )}
                </>
              )}
            </div>
          </div>
          {settings && confirmingRemoval && (
            <div className="confirm" role="group" aria-labelledby={ids.removal} data-testid="confirm-removal">
              <p id={ids.removal}>
                Remove {organizationName}'s own model settings? Its agents then use the models it would have without them: inherited, or the platform's.
              </p>
              <div className="form-actions">
                <button type="button" className="danger" onClick={onRemove} disabled={clearing}>
                  {clearing ? 'Removing…' : 'Remove settings'}
                </button>
                <button type="button" onClick={() => setConfirmingRemoval(false)} disabled={clearing}>
                  Keep them
                </button>
              </div>
            </div>
          )}
        </form>
      )}
    </section>
  );
}

function FieldError({ id, problem }: { id: string; problem: ApiError | undefined }) {
  if (!problem) return null;
  return (
    <p className="field-error" role="alert" id={id}>
      {problem.message}
    </p>
  );
}

function Notices({ notices, testId }: { notices: Notice[]; testId: string }) {
  if (notices.length === 0) return null;
  return (
    <ul className="notices" data-testid={testId}>
      {notices.map((notice, index) => (
        <li key={index} className="notice" data-code={notice.code}>
          {notice.message}
        </li>
      ))}
    </ul>
  );
}
