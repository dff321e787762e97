/** Server-side joins and copies: compose, rewriteTo and copyTo. */
import { ContentWriter, assertKeyFits, copyContent, customerKeyFrom } from './content.js';
import { badRequest, preconditionFailed } from './errors.js';
import { metadataField, readJson, sendJson, stringField, type Context } from './http.js';
import { checkPreconditions, preconditionsFrom, type ObjectVersion } from './model.js';
import { objectResource } from './resources.js';

const MAX_SOURCES = 32;
const MAX_COMPONENTS = 1024;

interface SourceObject {
  name?: unknown;
  generation?: unknown;
  objectPreconditions?: { ifGenerationMatch?: unknown };
}

function optionalInteger(value: unknown, what: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number)) {
    throw badRequest(`Invalid ${what}.`);
  }
  return number;
}

export async function composeObject(ctx: Context, bucket: string, name: string): Promise<void> {
  const body = await readJson(ctx.req);
  const sources = body.sourceObjects as SourceObject[] | undefined;
  if (!Array.isArray(sources) || sources.length === 0) {
    throw badRequest('Required field: sourceObjects', 'required');
  }
  if (sources.length > MAX_SOURCES) {
    throw badRequest(
      `The number of source components provided (${sources.length}) exceeds the maximum (${MAX_SOURCES})`,
    );
  }
  const key = customerKeyFrom(ctx.req.headers);
  const destination = (body.destination ?? {}) as Record<string, unknown>;
  const kmsKeyName = ctx.query.get('kmsKeyName') ?? stringField(destination, 'kmsKeyName');
  if (kmsKeyName && key) throw badRequest('A customer key and a KMS key cannot both be given.');
  const parts: ObjectVersion[] = sources.map((source) => {
    if (typeof source?.name !== 'string' || source.name === '') {
      throw badRequest('Each source object needs a name.', 'required');
    }
    const generation = optionalInteger(source.generation, 'source generation');
    const part = ctx.state.getObject(bucket, source.name, generation);
    const match = optionalInteger(source.objectPreconditions?.ifGenerationMatch, 'precondition');
    if (match !== undefined && match !== part.generation) throw preconditionFailed();
    assertKeyFits(part.content, key);
    return part;
  });
  const componentCount = parts.reduce((sum, part) => sum + (part.componentCount ?? 1), 0);
  if (componentCount > MAX_COMPONENTS) {
    throw badRequest(`The composite object would have more than ${MAX_COMPONENTS} components.`);
  }
  const writer = new ContentWriter(key);
  copyContent(
    parts.map((part) => ({ content: part.content, key })),
    writer,
  );
  const now = ctx.state.now();
  const version = ctx.state.putObject(
    {
      bucket,
      name,
      generation: ctx.state.nextGeneration(),
      metageneration: 1,
      content: writer.finish(),
      contentType: stringField(destination, 'contentType') ?? 'application/octet-stream',
      contentEncoding: stringField(destination, 'contentEncoding'),
      contentDisposition: stringField(destination, 'contentDisposition'),
      cacheControl: stringField(destination, 'cacheControl'),
      metadata: metadataField(destination),
      kmsKeyName: kmsKeyName ?? undefined,
      componentCount,
      timeCreated: now,
      updated: now,
    },
    preconditionsFrom(ctx.query),
  );
  sendJson(ctx, 200, objectResource(version, ctx.origin, key));
}

/** rewriteTo (`rewrite: true`) and the older copyTo: copy one object to a new name. */
export async function rewriteObject(
  ctx: Context,
  from: { bucket: string; name: string },
  to: { bucket: string; name: string },
  rewrite: boolean,
): Promise<void> {
  const body = await readJson(ctx.req);
  const sourceGeneration = ctx.query.get('sourceGeneration');
  const source = ctx.state.getObject(
    from.bucket,
    from.name,
    sourceGeneration === null ? undefined : optionalInteger(sourceGeneration, 'sourceGeneration'),
  );
  checkPreconditions(source, preconditionsFrom(ctx.query, true));
  const sourceKey = customerKeyFrom(ctx.req.headers, true);
  assertKeyFits(source.content, sourceKey);
  const key = customerKeyFrom(ctx.req.headers);
  const kmsKeyName = ctx.query.get('destinationKmsKeyName') ?? undefined;
  if (kmsKeyName && key) throw badRequest('A customer key and a KMS key cannot both be given.');
  ctx.state.bucket(to.bucket);
  const sameBytes = !key && !source.content.encryption && ctx.query.get('rewriteToken') === null;
  let content = source.content;
  if (!sameBytes) {
    // A new key (or none) means new ciphertext; unencrypted objects share their bytes.
    const writer = new ContentWriter(key);
    copyContent([{ content: source.content, key: sourceKey }], writer);
    content = writer.finish();
  }
  // GCS copies the source's metadata unless the request body gives the object's metadata.
  const given = Object.keys(body).length > 0;
  const now = ctx.state.now();
  const version = ctx.state.putObject(
    {
      ...source,
      bucket: to.bucket,
      name: to.name,
      generation: ctx.state.nextGeneration(),
      metageneration: 1,
      content,
      contentType: given
        ? (stringField(body, 'contentType') ?? 'application/octet-stream')
        : source.contentType,
      metadata: given ? metadataField(body) : source.metadata,
      contentDisposition: given
        ? stringField(body, 'contentDisposition')
        : source.contentDisposition,
      kmsKeyName: kmsKeyName ?? (key ? undefined : source.kmsKeyName),
      timeCreated: now,
      updated: now,
      timeDeleted: undefined,
    },
    preconditionsFrom(ctx.query),
  );
  const resource = objectResource(version, ctx.origin, key);
  if (!rewrite) return sendJson(ctx, 200, resource);
  sendJson(ctx, 200, {
    kind: 'storage#rewriteResponse',
    totalBytesRewritten: String(content.size),
    objectSize: String(content.size),
    done: true,
    resource,
  });
}
