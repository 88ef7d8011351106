import { Test } from '@nestjs/testing';
import { Clock, SystemClock } from '../common/clock';
import { ConfigModule } from '../config/config.module';
import { loadConfig } from '../config/load-config';
import { LimitsModule } from '../limits/limits.module';
import { CommonModule } from '../common/common.module';
import { ConnectionsModule } from '../connections/connections.module';
import { AuthModule } from './auth.module';
import { TokenSigner } from './token-signer';
import { TokenVerifier } from './token-verifier';

const NOW_MS = 1_700_000_000_000;

class FakeClock extends Clock {
  ms = NOW_MS;
  now(): number {
    return this.ms;
  }
}

const fakeClock = new FakeClock();

const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'module-secret', JWT_AUDIENCE: 'sb' });

describe('AuthModule', () => {
  it('provides a signer and a verifier built from AppConfig', async () => {
    const module = await Test.createTestingModule({
      imports: [
        ConfigModule.forConfig(config),
        CommonModule,
        ConnectionsModule,
        LimitsModule,
        AuthModule,
      ],
    }).compile();
    const token = module.get(TokenSigner).sign({ sub: 'alice' }, 60);
    expect(module.get(TokenVerifier).verify(token)).toMatchObject({ ok: true });
    const withSecret = (secret: string) => new TokenVerifier({ secret }, new SystemClock());
    expect(withSecret('module-secret').verify(token).ok).toBe(true);
    expect(withSecret('other').verify(token).ok).toBe(false);
    await module.close();
  });

  it('uses the application Clock', async () => {
    const module = await Test.createTestingModule({
      imports: [
        ConfigModule.forConfig(config),
        CommonModule,
        ConnectionsModule,
        LimitsModule,
        AuthModule,
      ],
    })
      .overrideProvider(Clock)
      .useValue(fakeClock)
      .compile();
    fakeClock.ms = NOW_MS;
    const token = module.get(TokenSigner).sign({ sub: 'alice' }, 60);
    expect(module.get(TokenVerifier).verify(token)).toEqual({
      ok: true,
      principal: { sub: 'alice', name: 'alice', exp: NOW_MS / 1000 + 60 },
    });
    fakeClock.ms = NOW_MS + 60_000;
    expect(module.get(TokenVerifier).verify(token)).toEqual({ ok: false, reason: 'expired' });
    await module.close();
  });
});
