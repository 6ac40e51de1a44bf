import { Arg, Ctx, FieldResolver, Mutation, Resolver, Root } from 'type-graphql';
import type { RequestContext } from '../context';
import type { OrganizationEntity } from '../organizations/organization.entity';
import type { OrganizationService } from '../organizations/organization.service';
import { Organization } from '../organizations/organization.types';
import type { FileUploadService } from './file-upload.service';
import { UploadedFile, UploadFileInput } from './file-upload.types';

@Resolver(() => UploadedFile)
export class FileUploadResolver {
  constructor(
    private readonly uploads: FileUploadService,
    private readonly organizations: OrganizationService,
  ) {}

  @FieldResolver(() => Organization, { nullable: true, description: 'The organization whose connection carried the upload; null when it went through the platform.' })
  owner(@Ctx() ctx: RequestContext, @Root() file: UploadedFile): Promise<OrganizationEntity | null> {
    return file.ownerId ? this.organizations.find(ctx, file.ownerId) : Promise.resolve(null);
  }

  @Mutation(() => UploadedFile, {
    description:
      "Uploads a file to Anthropic's Files API: with the organization's own Anthropic key when BYOM is active for Anthropic (own or inherited), else with the platform's. Members and admins.",
  })
  uploadFile(@Ctx() ctx: RequestContext, @Arg('input') input: UploadFileInput): Promise<UploadedFile> {
    return this.uploads.upload(ctx, input);
  }
}
