import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { ErrorCode } from '../../common/app-error';
import { ApiErrors } from '../../common/error-response.dto';
import { NameserverService } from './nameserver.service';

export class NameLookupDto {
  @ApiProperty({ example: 'jdoe' })
  name: string;

  @ApiProperty({ description: 'Jami ID, 40 hex', example: '3f2a…' })
  addr: string;
}

export class AddressLookupDto {
  @ApiProperty({ example: 'jdoe' })
  name: string;
}

/** The organization's Jami name server: public, as clients send no credentials to it. */
@ApiTags('nameserver')
@Controller('api/nameserver')
export class NameserverController {
  constructor(private readonly names: NameserverService) {}

  @Get('name/:name')
  @ApiOperation({ summary: 'Name → Jami ID (case-insensitive)' })
  @ApiOkResponse({ type: NameLookupDto })
  @ApiErrors(ErrorCode.NAME_NOT_FOUND)
  name(@Param('name') name: string): Promise<NameLookupDto> {
    return this.names.byName(name);
  }

  @Get('addr/:addr')
  @ApiOperation({ summary: 'Jami ID → name' })
  @ApiOkResponse({ type: AddressLookupDto })
  @ApiErrors(ErrorCode.ADDRESS_NOT_FOUND)
  addr(@Param('addr') addr: string): Promise<AddressLookupDto> {
    return this.names.byAddress(addr);
  }
}
