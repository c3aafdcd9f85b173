// SPDX-License-Identifier: MIT
//
// s3rver 3.7.1 as the UFS tests and bench/ufs-io run it, with what it lacks for them, per the S3
// API reference; everything else is s3rver's. Path-style requests only.
// - AbortMultipartUpload (DELETE /bucket/key?uploadId=ID; s3rver answers MethodNotAllowed) and
//   ListMultipartUploads (GET /bucket?uploads; s3rver answers NotImplemented), over s3rver's own
//   record of an upload (<dir>/<bucket>/._S3rver_uploads/<id>/, the key in its "key" file).
// - A listing with delimiter "/" leaves out a common prefix whose directory holds only directories
//   (prefix "d/" and the one key "d/b/c/f": S3 answers the common prefix "d/b/", s3rver nothing): the
//   missing prefixes are added from s3rver's data directory.
//
// Usage: node --openssl-legacy-provider serve.js DIR ADDRESS PORT BUCKET
// (s3rver encrypts listing continuation tokens with DES, which OpenSSL 3 keeps in its legacy
// provider: without it every truncated listing is an InternalError.)
'use strict';

const fs = require('fs');
const path = require('path');
const S3rver = require('s3rver');
const FilesystemStore = require('s3rver/lib/stores/filesystem');

const [dir, address, port, bucket] = process.argv.slice(2);
if (!dir || !address || !port || !bucket) {
  console.error('usage: serve.js DIR ADDRESS PORT BUCKET');
  process.exit(2);
}

const xmlEscape = s =>
  s.replace(/[<>&'"]/g, c => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]);

function uploadsDir(b) {
  return path.join(dir, b, '._S3rver_uploads');
}

function sendXml(ctx, status, body) {
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.body = '<?xml version="1.0" encoding="UTF-8"?>\n' + body;
}

function noSuchUpload(ctx, id) {
  sendXml(ctx, 404, '<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist. ' +
    'The upload ID may be invalid, or the upload may have been aborted or completed.</Message>' +
    `<UploadId>${xmlEscape(id)}</UploadId></Error>`);
}

// Runs before s3rver's own middleware (authentication included: the tests' keys are s3rver's).
async function multipartExtensions(ctx, next) {
  const parts = ctx.path.split('/').filter((p, i) => i > 0);
  const b = decodeURIComponent(parts[0] || '');
  const key = parts.slice(1).map(decodeURIComponent).join('/');

  if (ctx.method === 'DELETE' && key && 'uploadId' in ctx.query) {
    const id = String(ctx.query.uploadId);
    const d = path.join(uploadsDir(b), path.basename(id));
    let storedKey;
    try {
      storedKey = fs.readFileSync(path.join(d, 'key'), 'utf8');
    } catch (e) {
      return noSuchUpload(ctx, id);
    }
    if (storedKey !== key) return noSuchUpload(ctx, id);
    fs.rmSync(d, { recursive: true, force: true });
    ctx.status = 204;
    return;
  }

  if (ctx.method === 'GET' && b && !key && 'uploads' in ctx.query) {
    if (!fs.existsSync(path.join(dir, b))) {
      return sendXml(ctx, 404, '<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist' +
        `</Message><BucketName>${xmlEscape(b)}</BucketName></Error>`);
    }
    const prefix = String(ctx.query.prefix || '');
    let ids = [];
    try {
      ids = fs.readdirSync(uploadsDir(b));
    } catch (e) {
      ids = [];
    }
    const uploads = ids
      .map(id => {
        try {
          return { id, key: fs.readFileSync(path.join(uploadsDir(b), id, 'key'), 'utf8') };
        } catch (e) {
          return null;
        }
      })
      .filter(u => u && u.key.startsWith(prefix))
      .sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : x.id < y.id ? -1 : 1));
    const body = uploads
      .map(u => `<Upload><Key>${xmlEscape(u.key)}</Key><UploadId>${u.id}</UploadId>` +
        '<StorageClass>STANDARD</StorageClass></Upload>')
      .join('');
    return sendXml(ctx, 200, '<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
      `<Bucket>${xmlEscape(b)}</Bucket><Prefix>${xmlEscape(prefix)}</Prefix><MaxUploads>1000</MaxUploads>` +
      `<IsTruncated>false</IsTruncated>${body}</ListMultipartUploadsResult>`);
  }
  return next();
}

// Whether directory d of the data directory holds an object anywhere below it.
function holdsObject(d) {
  let entries = [];
  try {
    entries = fs.readdirSync(d, { withFileTypes: true });
  } catch (e) {
    return false;
  }
  return entries.some(e =>
    e.isDirectory() ? !e.name.startsWith('._S3rver') && holdsObject(path.join(d, e.name))
                    : e.name.endsWith('._S3rver_object'));
}

const listObjects = FilesystemStore.prototype.listObjects;
FilesystemStore.prototype.listObjects = async function (b, options) {
  const result = await listObjects.call(this, b, options);
  const { delimiter = '', prefix = '', startAfter = '' } = options;
  if (delimiter !== '/' || result.isTruncated) return result;
  const parent = prefix.slice(0, prefix.lastIndexOf('/') + 1);
  const partial = prefix.slice(parent.length);
  const base = path.join(this.getBucketPath(b), parent);
  const prefixes = new Set(result.commonPrefixes);
  let entries = [];
  try {
    entries = fs.readdirSync(base, { withFileTypes: true });
  } catch (e) {
    entries = [];
  }
  for (const e of entries) {
    if (!e.isDirectory() || e.name.startsWith('._S3rver') || !e.name.startsWith(partial)) continue;
    const common = parent + e.name + '/';
    if (common > startAfter && holdsObject(path.join(base, e.name))) prefixes.add(common);
  }
  result.commonPrefixes = [...prefixes].sort();
  return result;
};

const server = new S3rver({
  directory: dir,
  address,
  port: Number(port),
  silent: true,
  vhostBuckets: false,
  configureBuckets: [{ name: bucket, configs: [] }],
});
server.middleware.unshift(multipartExtensions);
server.run().catch(e => {
  console.error(e);
  process.exit(1);
});
