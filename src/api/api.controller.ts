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

/**
 * The HTTP API for backends (`/api`), registered only when API_KEYS is set. Every route needs a
 * key (ApiKeyGuard, then the per-key ApiThrottlerGuard); errors are `{"error": …}` bodies.
 */
@Controller('api')
@UseGuards(ApiKeyGuard, ApiThrottlerGuard)
export class ApiController {
  constructor(
    private readonly channels: ChannelApi,
    private readonly idempotent: IdempotentCalls,
    private readonly disconnects: UserDisconnects,
  ) {}

  @Post('publish')
  @HttpCode(200)
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
  @RequiresScope('read')
  history(
    @Param('channel') channel: string,
    @Query(validation) { since, limit }: HistoryQueryDto,
  ): Promise<HistoryResult> {
    return this.channels.read(checkedChannel(channel), since, limit);
  }

  @Get('channels/:channel/presence')
  @RequiresScope('read')
  presence(@Param('channel') channel: string): Promise<PresenceSnapshot> {
    return this.channels.presence(checkedChannel(channel));
  }

  @Post('disconnect')
  @HttpCode(200)
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
