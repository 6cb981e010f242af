import { Controller, Get, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AppError, ErrorCode } from '../../common/app-error';
import { clientAddress } from '../../common/client-address';
import { ApiErrors } from '../../common/error-response.dto';
import { DhtProxyService } from './dht-proxy.service';

/** A bare POST body (curl's default form type, text) read up to this size; JSON goes through express.json. */
const MAX_RAW_BODY = 128 * 1024;

function hashParam(hash: string): string {
  if (!/^[0-9a-fA-F]{40}$/.test(hash)) {
    throw new AppError(ErrorCode.VALIDATION_FAILED, 'hash must be 40 hexadecimal digits (an InfoHash)', {
      field: 'hash',
    });
  }
  return hash.toLowerCase();
}

async function bodyOf(req: Request): Promise<unknown> {
  if (req.body !== undefined && !Buffer.isBuffer(req.body) && typeof req.body === 'object' && req.readableEnded) {
    return req.body as unknown;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_RAW_BODY) throw new AppError(ErrorCode.BODY_TOO_LARGE, 'Request body is too large');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new AppError(ErrorCode.BODY_INVALID, 'Request body is not valid JSON');
  }
}

/**
 * OpenDHT's REST DHT proxy on the server's node (what `dhtnode --proxyserver` serves), under /dht-proxy, so
 * that `Account.proxyServer` can be `https://<server>/dht-proxy`. Unauthenticated, as OpenDHT's is: values
 * are signed and encrypted by the devices; requests are rate-limited per address.
 */
@ApiTags('dht-proxy')
@Controller('dht-proxy')
export class DhtProxyController {
  constructor(private readonly proxy: DhtProxyService) {}

  @Get()
  @ApiOperation({ summary: "OpenDHT proxy: the node's info (node_id, routing-table counts)" })
  @ApiOkResponse({ schema: { type: 'object', additionalProperties: true } })
  @ApiErrors(ErrorCode.DHT_DISABLED, ErrorCode.DHT_PROXY_LIMIT)
  info(@Req() req: Request): Record<string, unknown> {
    this.proxy.admit(clientAddress(req));
    return this.proxy.info();
  }

  @Get(':hash')
  @ApiOperation({ summary: 'OpenDHT proxy: the values at a key, one JSON object per line' })
  @ApiParam({ name: 'hash', description: 'InfoHash, 40 hex digits' })
  @ApiProduces('application/json')
  @ApiOkResponse({ description: 'Values as OpenDHT writes them ({id, data, type, …} or {id, cypher}), one per line' })
  @ApiErrors(ErrorCode.VALIDATION_FAILED, ErrorCode.DHT_DISABLED, ErrorCode.DHT_PROXY_LIMIT)
  async get(@Param('hash') hash: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const key = hashParam(hash);
    this.proxy.admit(clientAddress(req));
    res
      .status(200)
      .type('application/json')
      .send(await this.proxy.get(key));
  }

  @Post(':hash')
  @HttpCode(200)
  @ApiOperation({ summary: 'OpenDHT proxy: put a value (permanent: kept while re-posted within 10 minutes)' })
  @ApiParam({ name: 'hash', description: 'InfoHash, 40 hex digits' })
  @ApiBody({ schema: { type: 'object', additionalProperties: true, description: "A value in OpenDHT's JSON" } })
  @ApiOkResponse({ schema: { type: 'object', additionalProperties: true }, description: 'The value put' })
  @ApiErrors(
    ErrorCode.VALIDATION_FAILED,
    ErrorCode.BODY_INVALID,
    ErrorCode.BODY_TOO_LARGE,
    ErrorCode.DHT_VALUE_INVALID,
    ErrorCode.DHT_DISABLED,
    ErrorCode.DHT_PROXY_LIMIT,
  )
  async put(@Param('hash') hash: string, @Req() req: Request): Promise<Record<string, unknown>> {
    const key = hashParam(hash);
    this.proxy.admit(clientAddress(req));
    return this.proxy.put(key, await bodyOf(req));
  }
}
