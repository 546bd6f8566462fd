/**
 * Where the real test services started by infra/kafka/start.sh and infra/s3/start.sh listen, read
 * from their env files under the infra state directory. Integration tests fail with a clear message
 * when a service is not running (they never fall back to a fake).
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const STATE_DIR = process.env.DEEPSOURCE_INFRA_STATE ?? path.join(REPO_ROOT, '.infra');

function readEnvFile(file: string, service: string): Record<string, string> {
  if (!existsSync(file)) {
    throw new Error(`${service} is not running: ${file} is missing (run bash infra/${service}/start.sh, or npm test)`);
  }
  const out: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
}

export function kafkaEnv(): { brokers: string[]; saslBrokers: string[]; saslSslBrokers: string[]; caFile: string; user: string; password: string } {
  const env = readEnvFile(path.join(STATE_DIR, 'kafka', 'env'), 'kafka');
  return {
    brokers: [env.KAFKA_BROKERS],
    saslBrokers: [env.KAFKA_SASL_BROKERS],
    saslSslBrokers: [env.KAFKA_SASL_SSL_BROKERS],
    caFile: env.KAFKA_CA_FILE,
    user: env.KAFKA_SCRAM_USER,
    password: env.KAFKA_SCRAM_PASSWORD,
  };
}

export function s3Env(): { endpoint: string; accessKeyId: string; secretAccessKey: string; region: string } {
  const env = readEnvFile(path.join(STATE_DIR, 's3', 'env'), 's3');
  return { endpoint: env.S3_ENDPOINT, accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, region: env.AWS_REGION };
}

/** Runs an infra script (start.sh / stop.sh) synchronously. */
export function infraScript(service: string, script: 'start.sh' | 'stop.sh'): void {
  execFileSync('bash', [path.join(REPO_ROOT, 'infra', service, script)], { stdio: 'inherit', timeout: 180_000 });
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
}
