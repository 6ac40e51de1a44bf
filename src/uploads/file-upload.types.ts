import { Field, ID, InputType, ObjectType } from 'type-graphql';
import { Provider } from '../catalog/catalog';
import { Billing } from '../catalog/model-options';
import { OrganizationIdField } from '../organizations/organization.types';

@ObjectType({ description: 'A file uploaded to a provider for Claude to use.' })
export class UploadedFile {
  @Field(() => ID, { description: "The provider's own file id." })
  id: string;

  @Field(() => Provider, { description: 'The provider holding the file.' })
  provider: Provider;

  @Field(() => Billing, { description: "PROVIDER_ACCOUNT when it went through the organization's own key: the id resolves under its account." })
  billing: Billing;

  /** The organization whose connection carried the upload; null for the platform's account (`owner` is resolved from it). */
  ownerId: string | null;
}

@InputType({ description: 'A file to upload for Claude.' })
export class UploadFileInput {
  @OrganizationIdField('The organization uploading it.')
  organizationId: string;

  @Field({ description: 'Its name, without a path: 1 to 255 characters.' })
  filename: string;

  @Field({ description: 'Its media type, e.g. application/pdf.' })
  mimeType: string;

  @Field({ description: 'Its content, base64-encoded; at most 10 MiB decoded.' })
  contentBase64: string;
}
