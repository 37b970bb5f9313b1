// Where out_s3 gets AWS credentials, in fluent-plugin-s3's precedence
// (out_s3.rb setup_credentials, docs/compatibility.md §9 "Credentials precedence"):
//   <assume_role_credentials> > aws_key_id+aws_sec_key > aws_profile >
//   aws_credential_process > <web_identity_credentials> >
//   <instance_profile_credentials> > <shared_credentials> > SDK default chain.
// Each maps onto a provider that ships with @aws-sdk/client-s3's own
// dependency tree (@aws-sdk/credential-providers is not installed):
// STS via @aws-sdk/nested-clients/sts, web identity via
// @aws-sdk/credential-provider-web-identity, IMDS/ECS via
// @smithy/credential-provider-imds, profiles via @aws-sdk/credential-provider-ini.
// Returning undefined leaves the client on the SDK default chain (env,
// shared files, web identity env, SSO, ECS, IMDS). Each provider package is
// imported on the provider's first call, so only the configured one is ever
// loaded (issue 12.8: the four together cost the receiver's RSS ~10 MB).

import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { ConfigElement } from '../params/element.ts';
import type { ParamSchema, ParamsOf } from '../params/param-schema.ts';
import { configureParams } from '../params/params.ts';
import { ConfigError } from '../params/errors.ts';

export const assumeRoleParams = {
  role_arn: { type: 'string', required: true, secret: true, desc: 'ARN of the role to assume.' },
  role_session_name: { type: 'string', required: true, desc: 'Identifier of the assumed role session.' },
  policy: { type: 'string', desc: 'IAM policy in JSON narrowing the session.' },
  duration_seconds: { type: 'integer', desc: 'Session duration in seconds (900-3600).' },
  external_id: { type: 'string', secret: true, desc: 'External id required by the role trust policy.' },
  sts_region: { type: 'string', desc: 'Region of the STS endpoint (default s3_region).' },
  sts_http_proxy: { type: 'string', secret: true, desc: 'HTTP proxy for STS (not supported yet).' },
  sts_endpoint_url: { type: 'string', desc: 'Regional STS endpoint URL (default: global).' },
} as const satisfies ParamSchema;

export const webIdentityParams = {
  role_arn: { type: 'string', required: true, desc: 'ARN of the role to assume.' },
  role_session_name: { type: 'string', required: true, desc: 'Identifier of the assumed role session.' },
  web_identity_token_file: { type: 'string', required: true, desc: 'Absolute path of the OIDC token file.' },
  policy: { type: 'string', desc: 'IAM policy in JSON narrowing the session.' },
  duration_seconds: { type: 'integer', desc: 'Session duration in seconds (900-43200).' },
  sts_region: { type: 'string', desc: 'Region of the STS endpoint (default s3_region).' },
  sts_http_proxy: { type: 'string', secret: true, desc: 'HTTP proxy for STS (not supported yet).' },
  sts_endpoint_url: { type: 'string', desc: 'Regional STS endpoint URL (default: global).' },
} as const satisfies ParamSchema;

export const instanceProfileParams = {
  retries: { type: 'integer', desc: 'Retries when fetching credentials from the metadata service.' },
  ip_address: { type: 'string', desc: 'Metadata service address (not supported: set AWS_EC2_METADATA_SERVICE_ENDPOINT).' },
  port: { type: 'integer', desc: 'Metadata service port (not supported: set AWS_EC2_METADATA_SERVICE_ENDPOINT).' },
  http_open_timeout: { type: 'float', desc: 'Seconds to wait for the connection.' },
  http_read_timeout: { type: 'float', desc: 'Seconds to wait for a response.' },
} as const satisfies ParamSchema;

export const sharedCredentialsParams = {
  path: { type: 'string', desc: 'Shared credentials file (default $HOME/.aws/credentials).' },
  profile_name: { type: 'string', desc: "Profile (default 'default' or ENV AWS_PROFILE)." },
} as const satisfies ParamSchema;

export interface CredentialSettings {
  readonly awsKeyId: string | undefined;
  readonly awsSecKey: string | undefined;
  readonly awsProfile: string | undefined;
  readonly awsCredentialProcess: string | undefined;
  readonly s3Region: string;
}

/** Which source was chosen, for the start-up log. */
export interface CredentialChoice {
  readonly source: string;
  readonly provider: AwsCredentialIdentity | AwsCredentialIdentityProvider | undefined;
}

/** Reads the credential sections (configure time) and picks one source. */
export function chooseCredentials(element: ConfigElement, s: CredentialSettings, warn: (m: string) => void): CredentialChoice {
  const assume = element.sections('assume_role_credentials')[0];
  const web = element.sections('web_identity_credentials')[0];
  const imds = element.sections('instance_profile_credentials')[0];
  const shared = element.sections('shared_credentials')[0];
  const staticKeys = s.awsKeyId && s.awsSecKey
    ? { accessKeyId: s.awsKeyId, secretAccessKey: s.awsSecKey }
    : undefined;

  if (assume) {
    const c = configureParams(assumeRoleParams, assume, warn);
    noProxy(c.sts_http_proxy, assume);
    return { source: 'assume_role_credentials', provider: assumeRoleProvider(c, s.s3Region, staticKeys) };
  }
  if (staticKeys) return { source: 'aws_key_id', provider: staticKeys };
  if (s.awsProfile) return { source: 'aws_profile', provider: iniProvider({ profile: s.awsProfile }) };
  if (s.awsCredentialProcess) {
    throw new ConfigError('AR_CONF_UNSUPPORTED', element.params.get('aws_credential_process')?.pos ?? element.pos,
      "aws_credential_process is not supported yet; put `credential_process = <command>` in a profile of ~/.aws/config and set aws_profile to it");
  }
  if (web) {
    const c = configureParams(webIdentityParams, web, warn);
    noProxy(c.sts_http_proxy, web);
    const init = {
      roleArn: c.role_arn,
      roleSessionName: c.role_session_name,
      webIdentityTokenFile: c.web_identity_token_file,
      policy: c.policy,
      durationSeconds: c.duration_seconds,
      clientConfig: { region: c.sts_region ?? s.s3Region, ...(c.sts_endpoint_url ? { endpoint: c.sts_endpoint_url } : {}) },
    };
    const provider = lazyProvider(async () => (await import('@aws-sdk/credential-provider-web-identity')).fromTokenFile(init));
    return { source: 'web_identity_credentials', provider };
  }
  if (imds) {
    const c = configureParams(instanceProfileParams, imds, warn);
    if (c.ip_address !== undefined || c.port !== undefined) {
      throw new ConfigError('AR_CONF_UNSUPPORTED', imds.pos,
        'ip_address/port in <instance_profile_credentials> are not supported yet; set ENV AWS_EC2_METADATA_SERVICE_ENDPOINT=http://<ip>:<port> instead');
    }
    const timeoutSec = c.http_open_timeout ?? c.http_read_timeout;
    const init = {
      ...(c.retries !== undefined ? { maxRetries: c.retries } : {}),
      ...(timeoutSec !== undefined ? { timeout: Math.round(timeoutSec * 1000) } : {}),
    };
    // Aws::ECSCredentials when the ECS agent's variable is set, as out_s3 does.
    const ecs = Boolean(process.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI);
    const provider = lazyProvider(async () => {
      const imdsPackage = await import('@smithy/credential-provider-imds');
      return ecs ? imdsPackage.fromContainerMetadata(init) : imdsPackage.fromInstanceMetadata(init);
    });
    return { source: 'instance_profile_credentials', provider };
  }
  if (shared) {
    const c = configureParams(sharedCredentialsParams, shared, warn);
    return { source: 'shared_credentials', provider: iniProvider({ filepath: c.path, profile: c.profile_name }) };
  }
  return { source: 'default chain', provider: undefined };
}

/** STS AssumeRole (Aws::AssumeRoleCredentials), signed with the static keys when given. */
function assumeRoleProvider(c: ParamsOf<typeof assumeRoleParams>, s3Region: string, staticKeys: AwsCredentialIdentity | undefined): AwsCredentialIdentityProvider {
  const stsConfig = {
    region: c.sts_region ?? s3Region,
    ...(c.sts_endpoint_url ? { endpoint: c.sts_endpoint_url } : {}),
    ...(staticKeys ? { credentials: staticKeys } : {}),
  };
  const input = {
    RoleArn: c.role_arn,
    RoleSessionName: c.role_session_name,
    Policy: c.policy,
    DurationSeconds: c.duration_seconds,
    ExternalId: c.external_id,
  };
  // The S3 client memoizes a provider function and calls it again when
  // `expiration` is near, which is Aws::AssumeRoleCredentials' refresh.
  return lazyProvider(async () => {
    const { AssumeRoleCommand, STSClient } = await import('@aws-sdk/nested-clients/sts');
    const sts = new STSClient(stsConfig);
    return async (): Promise<AwsCredentialIdentity> => {
      const out = await sts.send(new AssumeRoleCommand(input));
      const cr = out.Credentials;
      if (!cr?.AccessKeyId || !cr.SecretAccessKey) throw new Error(`STS AssumeRole for ${c.role_arn} returned no credentials`);
      return { accessKeyId: cr.AccessKeyId, secretAccessKey: cr.SecretAccessKey, sessionToken: cr.SessionToken, expiration: cr.Expiration };
    };
  });
}

/**
 * A provider that imports its package and builds the real provider on the first call (the
 * S3 client's first request), then delegates; the S3 client memoizes it and calls it again
 * when `expiration` is near, as it would the real one.
 */
function lazyProvider(load: () => Promise<AwsCredentialIdentityProvider>): AwsCredentialIdentityProvider {
  let provider: Promise<AwsCredentialIdentityProvider> | undefined;
  return async (props) => {
    provider ??= load();
    return (await provider)(props);
  };
}

function iniProvider(init: { profile?: string | undefined; filepath?: string | undefined }): AwsCredentialIdentityProvider {
  return lazyProvider(async () => (await import('@aws-sdk/credential-provider-ini')).fromIni(init));
}

function noProxy(proxy: string | undefined, section: ConfigElement): void {
  if (proxy !== undefined) {
    throw new ConfigError('AR_CONF_UNSUPPORTED', section.params.get('sts_http_proxy')?.pos ?? section.pos,
      'sts_http_proxy is not supported yet; remove it (STS is reached directly) or use sts_endpoint_url for a VPC endpoint');
  }
}
