import { Body, Controller, Get, Header, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AppError, ErrorCode } from '../../common/app-error';
import { ApiErrors } from '../../common/error-response.dto';
import { CaService } from './ca.service';

@ApiTags('pki')
@Controller('api')
export class CaController {
  constructor(private readonly ca: CaService) {}

  @Get('ca')
  @ApiOperation({
    summary:
      'The organization CA certificate (PEM); during a CA rotation: the new CA, the previous CA and both cross certificates',
  })
  @ApiProduces('application/x-pem-file')
  @ApiOkResponse({ description: 'PEM certificates, the active CA first', schema: { type: 'string' } })
  @ApiErrors(ErrorCode.SETUP_REQUIRED)
  @Header('Content-Type', 'application/x-pem-file')
  caCertificate(): Promise<string> {
    return this.ca.caBundlePem();
  }

  @Get('crl/:issuerId')
  @ApiOperation({ summary: "An issuer's current CRL (DER), issuer id = SHA-1 key id of the CA or an account" })
  @ApiProduces('application/pkix-crl')
  @ApiOkResponse({ description: 'DER CRL', schema: { type: 'string', format: 'binary' } })
  @ApiErrors(ErrorCode.ISSUER_NOT_FOUND)
  async crl(@Param('issuerId') issuerId: string, @Res() res: Response): Promise<void> {
    const der = await this.ca.crl(issuerId.toLowerCase());
    res.setHeader('Content-Type', 'application/pkix-crl');
    res.setHeader('Cache-Control', 'max-age=300');
    res.send(der);
  }

  @Post('ocsp')
  @HttpCode(200)
  @ApiOperation({ summary: 'OCSP responder (RFC 6960, POST); responses are signed by the issuer itself' })
  @ApiConsumes('application/ocsp-request')
  @ApiProduces('application/ocsp-response')
  @ApiBody({ schema: { type: 'string', format: 'binary' } })
  @ApiOkResponse({ description: 'DER OCSP response', schema: { type: 'string', format: 'binary' } })
  @ApiErrors(ErrorCode.OCSP_REQUEST_INVALID)
  async ocspPost(@Body() body: unknown, @Res() res: Response): Promise<void> {
    if (!Buffer.isBuffer(body) || body.length === 0) {
      throw new AppError(ErrorCode.OCSP_REQUEST_INVALID, 'OCSP requests must be POSTed as application/ocsp-request');
    }
    await this.sendOcsp(body, res);
  }

  @Get('ocsp/:request')
  @ApiOperation({ summary: 'OCSP responder (RFC 6960, GET with the base64 request in the path)' })
  @ApiProduces('application/ocsp-response')
  @ApiOkResponse({ description: 'DER OCSP response', schema: { type: 'string', format: 'binary' } })
  @ApiErrors(ErrorCode.OCSP_REQUEST_INVALID)
  async ocspGet(@Param('request') request: string, @Res() res: Response): Promise<void> {
    let base64: string;
    try {
      base64 = decodeURIComponent(request);
    } catch {
      // Not valid percent-encoding: answered as a malformed OCSP request, like any other garbage.
      base64 = '';
    }
    await this.sendOcsp(Buffer.from(base64, 'base64'), res);
  }

  private async sendOcsp(der: Buffer, res: Response): Promise<void> {
    const answer = await this.ca.ocsp(der);
    res.status(200).setHeader('Content-Type', 'application/ocsp-response');
    res.send(answer);
  }
}
