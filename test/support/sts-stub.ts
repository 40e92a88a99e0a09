/** A minimal STS at the HTTP layer: GetCallerIdentity for a fixed account. For tests that stub IAM. */
import { type HttpHandler, type HttpRequest, HttpResponse } from '@smithy/core/protocols';

export function stsStub(account: string): HttpHandler {
  return {
    async handle(_req: HttpRequest) {
      const body = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::${account}:user/scanner</Arn><UserId>AIDASCANNER</UserId><Account>${account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`;
      return {
        response: new HttpResponse({
          statusCode: 200,
          headers: { 'content-type': 'text/xml', 'x-amzn-requestid': '1' },
          body: Buffer.from(body),
        }),
      };
    },
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
    destroy() {},
  } as unknown as HttpHandler;
}
