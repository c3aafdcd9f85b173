// SPDX-License-Identifier: MIT
//
// s3rver 3.7.1 as the UFS tests and bench/ufs-io run it, with what it lacks for them, per the S3
// API reference; everything else is s3rver's. Path-style requests only.
// - AbortMultipartUpload (DELETE /bucket/key?uploadId=ID; s3rver answers MethodNotAllowed) and
//   ListMultipartUploads (GET /bucket?uploads; s3rver answers NotImplemented), over s3rver's own
//   record of an upload (<dir>/<bucket>/._S3rver_uploads/<id>/, the key in its "key" file).
// - It checks the access key but not V4 signatures: every signed request is checked here as S3
//   does (canonical request, string to sign, derived key), so that a client signing wrongly, or with
//   the wrong secret, gets SignatureDoesNotMatch as from S3.
// - A listing with delimiter "/" leaves out a common prefix whose directory holds only directories
//   (prefix "d/" and the one key "d/b/c/f": S3 answers the common prefix "d/b/", s3rver nothing): the
//   missing prefixes are added from s3rver's data directory.
//
// Usage: node --openssl-legacy-provider serve.js DIR ADDRESS PORT BUCKET
// (s3rver encrypts listing continuation tokens with DES, which OpenSSL 3 keeps in its legacy
// provider: without it every truncated listing is an InternalError.)
'use strict';

const crypto = require('crypto');
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

// The one account s3rver knows: access key and secret.
const SECRETS = { S3RVER: 'S3RVER' };

// SigV4's URI encoding: every byte but A-Z a-z 0-9 - _ . ~ as %XX (upper case), '/' kept in paths.
function uriEncode(s, keepSlash) {
  const e = encodeURIComponent(s).replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  return keepSlash ? e.replace(/%2F/g, '/') : e;
}

const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();

// Why the request's V4 signature is not S3's, or null when it is (or it has no V4 signature).
function signatureProblem(req) {
  const auth = req.headers.authorization || '';
  if (!auth.startsWith('AWS4-HMAC-SHA256 ')) return null;
  const fields = {};
  for (const part of auth.slice(17).split(',')) {
    const i = part.indexOf('=');
    fields[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  const scope = (fields.Credential || '').split('/');
  const secret = SECRETS[scope[0]];
  if (!secret) return null; // s3rver answers InvalidAccessKeyId
  const signed = (fields.SignedHeaders || '').split(';');
  const [rawPath, rawQuery = ''] = req.url.split('?', 2);
  const path = rawPath.split('/').map(seg => uriEncode(decodeURIComponent(seg), false)).join('/');
  const query = rawQuery
    .split('&')
    .filter(p => p)
    .map(p => {
      const i = p.indexOf('=');
      const k = decodeURIComponent(i < 0 ? p : p.slice(0, i));
      const v = i < 0 ? '' : decodeURIComponent(p.slice(i + 1));
      return [uriEncode(k, false), uriEncode(v, false)];
    })
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headers = signed.map(h => `${h}:${String(req.headers[h] || '').trim().replace(/\s+/g, ' ')}\n`).join('');
  const canonical = [req.method, path, query, headers, signed.join(';'),
    req.headers['x-amz-content-sha256'] || 'UNSIGNED-PAYLOAD'].join('\n');
  const toSign = ['AWS4-HMAC-SHA256', req.headers['x-amz-date'], scope.slice(1).join('/'),
    crypto.createHash('sha256').update(canonical).digest('hex')].join('\n');
  let key = 'AWS4' + secret;
  for (const part of scope.slice(1)) key = hmac(key, part);
  const signature = hmac(key, toSign).toString('hex');
  return signature === fields.Signature ? null : canonical;
}

// Runs before s3rver's own middleware: the signature check, then the calls s3rver lacks.
async function extensions(ctx, next) {
  const problem = signatureProblem(ctx.req);
  if (problem !== null) {
    return sendXml(ctx, 403, '<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we ' +
      'calculated does not match the signature you provided. Check your key and signing method.</Message>' +
      `<CanonicalRequest>${xmlEscape(problem)}</CanonicalRequest></Error>`);
  }
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
server.middleware.unshift(extensions);
server.run().catch(e => {
  console.error(e);
  process.exit(1);
});
