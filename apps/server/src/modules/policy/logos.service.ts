import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, Repository } from 'typeorm';
import { AppError, ErrorCode } from '../../common/app-error';
import { AuditService } from '../audit/audit.service';
import { logoPath } from './daemon-keys';
import { LogoResponseDto } from './policy.dto';
import { PolicyLogo } from './policy.entity';

export const MAX_LOGO_BYTES = 512 * 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The image type from the bytes themselves (PNG, JPEG, SVG), never from a name or a client's header. */
export function sniffImage(data: Buffer): 'image/png' | 'image/jpeg' | 'image/svg+xml' | null {
  if (data.length >= 8 && data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) {
    return 'image/png';
  }
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'image/jpeg';
  // SVG: UTF-8 text (optional BOM) whose first element, after an XML declaration, comments or a doctype, is <svg.
  const text = data.toString('utf8');
  if (Buffer.from(text, 'utf8').equals(data) && !text.includes('\u0000')) {
    const body = text
      .replace(/^\uFEFF/, '')
      .replace(/^\s*<\?xml[^>]*\?>/, '')
      .replace(/^(\s*<!--[\s\S]*?-->|\s*<!DOCTYPE[^>]*>)*/i, '')
      .trimStart();
    if (/^<svg[\s>]/.test(body)) return 'image/svg+xml';
  }
  return null;
}

/** Uploaded images for `Account.uiCustomization` (logo, background), served publicly to Jami clients. */
@Injectable()
export class LogosService {
  constructor(
    @InjectRepository(PolicyLogo) private readonly logos: Repository<PolicyLogo>,
    private readonly audit: AuditService,
  ) {}

  async upload(data: Buffer | undefined, actor: string): Promise<LogoResponseDto> {
    if (!data?.length) {
      throw new AppError(ErrorCode.VALIDATION_FAILED, 'file is required: send the image as multipart field "file"', {
        field: 'file',
      });
    }
    if (data.length > MAX_LOGO_BYTES) {
      throw new AppError(ErrorCode.BODY_TOO_LARGE, `file is larger than ${MAX_LOGO_BYTES / 1024} KiB`, {
        field: 'file',
        size: data.length,
        max: MAX_LOGO_BYTES,
      });
    }
    const contentType = sniffImage(data);
    if (!contentType) {
      throw new AppError(ErrorCode.LOGO_INVALID, 'file must be a PNG, JPEG or SVG image', { field: 'file' });
    }
    const sha256 = createHash('sha256').update(data).digest('hex');
    return this.logos.manager.transaction(async (m) => {
      const logo = await m.save(m.create(PolicyLogo, { contentType, size: data.length, sha256, data }));
      const out = { id: logo.id, url: logoPath(logo.id), contentType, size: data.length };
      await this.audit.record(
        {
          actor,
          action: 'logo.uploaded',
          target: logo.id,
          before: null,
          after: { contentType, size: data.length, sha256 },
        },
        m,
      );
      return out;
    });
  }

  async get(id: string): Promise<{ contentType: string; data: Buffer; sha256: string }> {
    const logo = UUID.test(id)
      ? await this.logos.findOne({
          where: { id },
          select: { id: true, contentType: true, data: true, sha256: true },
        })
      : null;
    if (!logo) throw new AppError(ErrorCode.LOGO_NOT_FOUND, `No logo ${id.slice(0, 40)}`);
    return { contentType: logo.contentType, data: logo.data, sha256: logo.sha256 };
  }

  /** The ids among these that were never uploaded. */
  async missing(ids: string[], manager?: EntityManager): Promise<string[]> {
    if (!ids.length) return [];
    const repo = manager ? manager.getRepository(PolicyLogo) : this.logos;
    const found = await repo.find({ where: { id: In(ids) }, select: { id: true } });
    return ids.filter((id) => !found.some((f) => f.id === id));
  }
}
