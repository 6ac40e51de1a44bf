import { Provider } from '../catalog/catalog';
import { Billing } from '../catalog/model-options';
import { ConnectionStatus } from '../connections/provider-connection.entity';
import { carrierOf, type KeyCarrier, type ProviderKeys } from '../connections/provider-keys';
import type { RequestContext } from '../context';
import { DomainError, ErrorCode, badInput } from '../errors';
import type { ModelSettingsService } from '../model-settings/model-settings.service';
import { invalidate } from '../invalidation';
import { checkedName } from '../names';
import type { OrganizationService } from '../organizations/organization.service';
import { uploadAnthropicFile } from '../providers/provider-calls';
import { type ProviderEndpoints, rejectsKey } from '../providers/provider-clients';
import type { UploadedFile, UploadFileInput } from './file-upload.types';

/** The largest file accepted, decoded. */
export const UPLOAD_MAX_BYTES = 10 * 1024 * 1024;
const FILENAME_MAX_LENGTH = 255;
const MIME_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Statuses by which the provider refuses the file itself (its type, size or content): the caller's to fix. */
const REFUSED_FILE_STATUSES = new Set([400, 413, 415, 422]);

/** The file's bytes from strict base64, within the size limit; BAD_USER_INPUT otherwise. */
function decodeUpload(contentBase64: string): Buffer {
  const field = 'input.contentBase64';
  // The size is known before decoding: a huge body is refused without copying it.
  const padding = contentBase64.endsWith('==') ? 2 : contentBase64.endsWith('=') ? 1 : 0;
  const size = (contentBase64.length / 4) * 3 - padding;
  if (contentBase64.length % 4 !== 0 || !BASE64.test(contentBase64)) throw badInput('contentBase64 is not valid base64', field);
  if (size === 0) throw badInput('The file is empty', field);
  if (size > UPLOAD_MAX_BYTES) throw badInput(`The file is ${size} bytes; at most ${UPLOAD_MAX_BYTES} bytes (10 MiB) are accepted`, field);
  return Buffer.from(contentBase64, 'base64');
}

/**
 * File uploads for Claude (product docs: "when BYOM is active for Anthropic, file uploads go
 * through your API key, so uploaded file ids resolve under your account"): through the Anthropic
 * connection that carries the organization's BYOM Anthropic models (its own, or the giver's),
 * else through the platform's account, which an exclusive organization never uses.
 */
export class FileUploadService {
  constructor(
    private readonly organizations: OrganizationService,
    private readonly settings: ModelSettingsService,
    private readonly keys: ProviderKeys,
    private readonly endpoints: ProviderEndpoints,
    private readonly timeoutMs: number,
  ) {}

  async upload(
    ctx: RequestContext,
    input: UploadFileInput,
  ): Promise<UploadedFile> {
    const filename = checkedName(input.filename, { what: 'filename', field: 'input.filename', maxLength: FILENAME_MAX_LENGTH });
    if (/[/\\]/.test(filename)) throw badInput('The filename must not contain a path', 'input.filename');
    if (!MIME_TYPE.test(input.mimeType)) throw badInput('mimeType must be a media type such as application/pdf', 'input.mimeType');
    const content = decodeUpload(input.contentBase64);
    const organization = await this.organizations.get(ctx, input.organizationId);

    const effective = await this.settings.effective(ctx, organization.id);
    const byom = effective.availableModels.find((option) => option.model.provider === Provider.ANTHROPIC && option.billing === Billing.PROVIDER_ACCOUNT);
    if (!byom && effective.exclusive) {
      throw new DomainError(
        ErrorCode.MODEL_NOT_AVAILABLE,
        "The organization uses only its own models and has no Anthropic account to upload to: connect Anthropic, or use Anthropic models in its settings",
        { provider: Provider.ANTHROPIC },
      );
    }
    const carrier: KeyCarrier = byom ? carrierOf(byom) : { provider: Provider.ANTHROPIC, billing: Billing.PLATFORM_CREDITS, connectionOwnerId: null };
    const [route] = await this.keys.routes(ctx, [carrier]);
    if (route.kind === 'MISSING') {
      throw new DomainError(ErrorCode.MODEL_NOT_AVAILABLE, `The file cannot be uploaded: ${route.reason}`, { provider: Provider.ANTHROPIC });
    }

    const result = await this.keys.withKey(route, (apiKey) =>
      uploadAnthropicFile(apiKey, this.endpoints, this.timeoutMs, { filename, mimeType: input.mimeType, content }),
    );
    await this.keys.noteUse(ctx.repos, [route]);
    if (!result.ok) {
      const { failure } = result;
      ctx.log.info({ organizationId: organization.id, billing: carrier.billing, failure: { kind: failure.kind, httpStatus: failure.httpStatus } }, 'file upload failed');
      if (rejectsKey(failure)) {
        const owner = await this.keys.markStatus(ctx.repos, route, ConnectionStatus.INVALID);
        if (owner) invalidate.keyStatus(ctx, [owner]);
        throw new DomainError(ErrorCode.INVALID_API_KEY, `Anthropic rejected the ${byom ? "organization's" : "platform's"} API key`, {
          provider: Provider.ANTHROPIC,
          httpStatus: failure.httpStatus,
        });
      }
      if (failure.httpStatus !== undefined && REFUSED_FILE_STATUSES.has(failure.httpStatus)) {
        throw new DomainError(ErrorCode.BAD_USER_INPUT, `Anthropic refused the file: ${failure.message}`, {
          field: 'input.contentBase64',
          provider: Provider.ANTHROPIC,
          httpStatus: failure.httpStatus,
        });
      }
      throw new DomainError(ErrorCode.PROVIDER_UNREACHABLE, `The upload failed: ${failure.message}`, {
        provider: Provider.ANTHROPIC,
        ...(failure.httpStatus ? { httpStatus: failure.httpStatus } : {}),
      });
    }
    ctx.log.info({ organizationId: organization.id, fileId: result.value.id, sizeBytes: content.length, billing: carrier.billing }, 'file uploaded');
    return { id: result.value.id, provider: Provider.ANTHROPIC, billing: carrier.billing, ownerId: carrier.connectionOwnerId };
  }
}
