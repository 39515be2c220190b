import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { countRows, ownerAccount, project, submit, type Account } from '../../../../test/factories.js';
import { startTestServer, type TestServer } from '../../../../test/server.js';
import type { Project } from '../projects/service.js';

let server: TestServer;
let owner: Account;
let other: Account;
let target: Project;

const enabled = { screenshot: { enabled: true, mode: 'dom' as const } };

beforeAll(async () => {
  server = await startTestServer();
  owner = await ownerAccount(server);
  other = await ownerAccount(server);
  target = await project(server, owner.orgId, ['example.com'], enabled);
});
afterAll(() => server.close());

const png = (width = 40, height = 30) => sharp({ create: { width, height, channels: 3, background: '#3366cc' } }).png().toBuffer();

// PNG chunk checksum (ISO 3309 CRC-32), to forge a valid header with other dimensions.
function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** The same PNG with its IHDR claiming other dimensions (and a correct checksum). */
function withDimensions(image: Buffer, width: number, height: number): Buffer {
  const forged = Buffer.from(image);
  forged.writeUInt32BE(width, 16);
  forged.writeUInt32BE(height, 20);
  forged.writeUInt32BE(crc32(forged.subarray(12, 29)), 29);
  return forged;
}

function upload(p: Project, body: Buffer, type = 'image/png', origin = 'https://example.com') {
  return server.rawRequest('POST', `/api/widget/v1/projects/${p.key}/screenshots`, { raw: body as unknown as string, headers: { origin, 'content-type': type } });
}

async function uploadedAndAttached(): Promise<{ feedbackId: string; screenshotId: string }> {
  const shot = await upload(target, await png());
  expect(shot.status).toBe(201);
  const sent = await submit(server, target.key, { message: 'with a picture', screenshotId: shot.body.id });
  expect(sent.status).toBe(201);
  return { feedbackId: sent.body.id, screenshotId: shot.body.id };
}

describe('POST /api/widget/v1/projects/:key/screenshots', () => {
  it('stores a PNG re-encoded and sealed, and the feedback shows it', async () => {
    const { feedbackId, screenshotId } = await uploadedAndAttached();
    const { rows } = await server.db.superuser.query('SELECT content_type, width, height, image_enc FROM screenshots WHERE id = $1', [screenshotId]);
    expect(rows[0]).toMatchObject({ content_type: 'image/png', width: 40, height: 30 });
    expect(rows[0].image_enc.includes(Buffer.from('IHDR'))).toBe(false);
    const detail = await server.request('GET', `/api/v1/orgs/${owner.orgId}/feedback/${feedbackId}`, { cookie: owner.cookie });
    expect(detail.body.hasScreenshot).toBe(true);
  });

  it('serves it only as an image, sandboxed and never sniffed', async () => {
    const { feedbackId } = await uploadedAndAttached();
    const response = await fetch(`${server.url}/api/v1/orgs/${owner.orgId}/feedback/${feedbackId}/screenshot`, { headers: { cookie: owner.cookie } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-disposition')).toBe('inline; filename="screenshot.png"');
    expect(response.headers.get('cache-control')).toBe('no-store');
    const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
    expect(meta).toMatchObject({ format: 'png', width: 40, height: 30 });
  });

  it('drops EXIF and other metadata from a JPEG (re-encoded as WebP)', async () => {
    const jpeg = await sharp({ create: { width: 20, height: 20, channels: 3, background: '#fff' } })
      .jpeg()
      .withExif({ IFD0: { Artist: 'secret-artist-name', ImageDescription: 'GPS home address' } })
      .toBuffer();
    expect(jpeg.includes(Buffer.from('secret-artist-name'))).toBe(true);
    const shot = await upload(target, jpeg, 'image/jpeg');
    expect(shot.status).toBe(201);
    const sent = await submit(server, target.key, { message: 'x', screenshotId: shot.body.id });
    const response = await fetch(`${server.url}/api/v1/orgs/${owner.orgId}/feedback/${sent.body.id}/screenshot`, { headers: { cookie: owner.cookie } });
    const bytes = Buffer.from(await response.arrayBuffer());
    expect(response.headers.get('content-type')).toBe('image/webp');
    expect(bytes.includes(Buffer.from('secret-artist-name'))).toBe(false);
    expect((await sharp(bytes).metadata()).exif).toBeUndefined();
  });

  it('re-encodes an HTML/image polyglot so the markup does not survive', async () => {
    const polyglot = Buffer.concat([await png(), Buffer.from('<html><script>alert(document.cookie)</script></html>')]);
    const shot = await upload(target, polyglot);
    expect(shot.status).toBe(201);
    const sent = await submit(server, target.key, { message: 'x', screenshotId: shot.body.id });
    const response = await fetch(`${server.url}/api/v1/orgs/${owner.orgId}/feedback/${sent.body.id}/screenshot`, { headers: { cookie: owner.cookie } });
    expect(Buffer.from(await response.arrayBuffer()).includes(Buffer.from('<script>'))).toBe(false);
  });

  it.each([
    ['HTML declared as PNG', () => Buffer.from('<html><script>alert(1)</script></html>'), 'image/png'],
    ['SVG with script', () => Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), 'image/png'],
    ['a GIF', () => Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'), 'image/png'],
    ['a truncated PNG', async () => (await png()).subarray(0, 40), 'image/png'],
    ['a PNG declared as JPEG and cut short', async () => Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]), 'image/jpeg'],
    ['a PNG wider than 8000 px', () => png(8001, 1), 'image/png'],
  ])('refuses %s with 400 screenshot_invalid and stores nothing', async (_case, make, type) => {
    const before = await countRows(server, 'screenshots');
    const reply = await upload(target, await make(), type);
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('screenshot_invalid');
    expect(await countRows(server, 'screenshots')).toBe(before);
  });

  it('refuses a decompression bomb (a tiny file that claims 400 million pixels) before decoding it', async () => {
    const bomb = withDimensions(await png(), 20_000, 20_000);
    expect(bomb.length).toBeLessThan(1024);
    const reply = await upload(target, bomb);
    expect(reply.status).toBe(400);
    expect(reply.body.code).toBe('screenshot_invalid');
  });

  it('answers 413 over 5 MB and 415 for other content types', async () => {
    expect((await upload(target, Buffer.alloc(5 * 1024 * 1024 + 1))).status).toBe(413);
    const wrong = await upload(target, await png(), 'text/html');
    expect(wrong.status).toBe(415);
    expect(wrong.body.code).toBe('unsupported_media_type');
  });

  it('refuses uploads when screenshots are off, and from sites that are not allowed', async () => {
    const off = await project(server, owner.orgId);
    expect((await upload(off, await png())).body.code).toBe('screenshots_disabled');
    expect((await upload(target, await png(), 'image/png', 'https://evil.example')).body.code).toBe('origin_not_allowed');
  });
});

describe('attaching a screenshot', () => {
  it('lets one screenshot go with one feedback only, and a retry get its first feedback', async () => {
    const shot = await upload(target, await png());
    const first = await submit(server, target.key, { message: 'x', screenshotId: shot.body.id }, 'https://example.com', { 'idempotency-key': 'shot-retry' });
    const retry = await submit(server, target.key, { message: 'x', screenshotId: shot.body.id }, 'https://example.com', { 'idempotency-key': 'shot-retry' });
    expect(retry.body.id).toBe(first.body.id);
    const again = await submit(server, target.key, { message: 'stolen', screenshotId: shot.body.id });
    expect(again.status).toBe(400);
    expect(again.body.code).toBe('screenshot_unknown');
  });

  it("refuses another project's screenshot and an unknown id", async () => {
    const elsewhere = await project(server, owner.orgId, ['example.com'], enabled);
    const shot = await upload(elsewhere, await png());
    expect((await submit(server, target.key, { message: 'x', screenshotId: shot.body.id })).body.code).toBe('screenshot_unknown');
    expect((await submit(server, target.key, { message: 'x', screenshotId: '00000000-0000-4000-8000-000000000000' })).body.code).toBe('screenshot_unknown');
  });

  it("answers 404 for another tenant's screenshot and for feedback without one", async () => {
    const { feedbackId } = await uploadedAndAttached();
    const stranger = await ownerAccount(server);
    for (const orgId of [owner.orgId, stranger.orgId]) {
      const reply = await server.request('GET', `/api/v1/orgs/${orgId}/feedback/${feedbackId}/screenshot`, { cookie: stranger.cookie });
      expect(reply.status).toBe(404);
    }
    const plain = await submit(server, target.key, { message: 'no picture' });
    expect((await server.request('GET', `/api/v1/orgs/${owner.orgId}/feedback/${plain.body.id}/screenshot`, { cookie: owner.cookie })).status).toBe(404);
    expect(other.orgId).not.toBe(owner.orgId);
  });
});
