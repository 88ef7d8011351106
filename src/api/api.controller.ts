import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  Post,
  Query,
  Req,
  UseGuards,
} from '@nestjs/common';
import { isValidId, ID_RULE_DESCRIPTION } from '../protocol/ids';
import type { PresenceSnapshot } from '../presence/presence-member';
import { PublishDto } from '../features/json/dto/publish.dto';
import {
  ApiBody,
  ApiConflictResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiQuery,
} from '@nestjs/swagger';
import { ApiCommonDocs, ApiSchemas } from './api-docs';
import { ApiErrors } from './api-errors';
import { apiKeyOf, ApiKeyGuard } from './api-key.guard';
import { RequiresScope } from './api-scope.decorator';
import { ApiThrottlerGuard } from './api-throttler.guard';
import { ApiValidationPipe } from './api-validation.pipe';
import {
  ChannelApi,
  type BroadcastResult,
  type HistoryResult,
  type PublishResult,
} from './channel-api.service';
import { BroadcastDto } from './dto/broadcast.dto';
import { DisconnectDto } from './dto/disconnect.dto';
import { HistoryQueryDto } from './dto/history-query.dto';
import { IdempotentCalls } from './idempotent-calls';
import { UserDisconnects } from './user-disconnects';

const validation = new ApiValidationPipe();

const IDEMPOTENCY_HEADER = {
  name: 'Idempotency-Key',
  required: false,
  description: 'Within 5 minutes a retry with the same key returns the first result',
};

/**
 * The HTTP API for backends (`/api`), registered only when API_KEYS is set. Every route needs a
 * key (ApiKeyGuard, then the per-key ApiThrottlerGuard); errors are `{"error": …}` bodies.
 */
@Controller('api')
@UseGuards(ApiKeyGuard, ApiThrottlerGuard)
@ApiCommonDocs()
export class ApiController {
  constructor(
    private readonly channels: ChannelApi,
    private readonly idempotent: IdempotentCalls,
    private readonly disconnects: UserDisconnects,
  ) {}

  @Post('publish')
  @HttpCode(200)
  @ApiBody({ schema: ApiSchemas.publishBody })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiOkResponse({ schema: ApiSchemas.position })
  @ApiConflictResponse({ description: 'A call with this Idempotency-Key is still running' })
  @RequiresScope('publish')
  publish(
    @Body(validation) { channel, message }: PublishDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Req() request: unknown,
  ): Promise<PublishResult> {
    const scope = `${apiKeyOf(request).name}:publish`;
    return this.idempotent.run(scope, idempotencyKey, () =>
      this.channels.publish(channel, message),
    );
  }

  @Post('broadcast')
  @HttpCode(200)
  @ApiBody({ schema: ApiSchemas.broadcastBody })
  @ApiHeader(IDEMPOTENCY_HEADER)
  @ApiOkResponse({ schema: ApiSchemas.broadcastReply })
  @ApiConflictResponse({ description: 'A call with this Idempotency-Key is still running' })
  @RequiresScope('publish')
  broadcast(
    @Body(validation) { channels, message }: BroadcastDto,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Req() request: unknown,
  ): Promise<{ results: BroadcastResult[] }> {
    const scope = `${apiKeyOf(request).name}:broadcast`;
    return this.idempotent.run(scope, idempotencyKey, async () => ({
      results: await this.channels.broadcast(channels, message),
    }));
  }

  @Get('channels/:channel/history')
  @ApiQuery({ name: 'since', required: false, schema: { type: 'integer', minimum: 0 } })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1 } })
  @ApiOkResponse({ schema: ApiSchemas.history })
  @ApiNotFoundResponse({ description: 'History is off (HISTORY_SIZE=0)' })
  @RequiresScope('read')
  history(
    @Param('channel') channel: string,
    @Query(validation) { since, limit }: HistoryQueryDto,
  ): Promise<HistoryResult> {
    return this.channels.read(checkedChannel(channel), since, limit);
  }

  @Get('channels/:channel/presence')
  @ApiOkResponse({ schema: ApiSchemas.presence })
  @RequiresScope('read')
  presence(@Param('channel') channel: string): Promise<PresenceSnapshot> {
    return this.channels.presence(checkedChannel(channel));
  }

  @Post('disconnect')
  @HttpCode(200)
  @ApiBody({ schema: ApiSchemas.disconnectBody })
  @ApiOkResponse({ schema: ApiSchemas.disconnected })
  @RequiresScope('admin')
  async disconnect(@Body(validation) { user }: DisconnectDto): Promise<{ disconnected: number }> {
    return { disconnected: await this.disconnects.disconnect(user) };
  }
}

/** A channel in the path follows the id rule as in a body; else 400 on `channel`. */
function checkedChannel(channel: string): string {
  if (isValidId(channel)) return channel;
  throw ApiErrors.validation([
    { field: 'channel', message: `channel must be ${ID_RULE_DESCRIPTION}` },
  ]);
}
