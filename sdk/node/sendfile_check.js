#!/usr/bin/env node
// Drive the official Tea Node.js SDK (`@alicloud/ecs20140526`, built on
// `@alicloud/openapi-core`) against a fresh `casim serve --clock manual --access-keys
// testid:testsecret` and check what it hands back.
//
// The Node SDK coerces JSON values into its model's types where it can ("1" -> 1 for numbers,
// false -> "false" for string fields, "true"/1 -> true for booleans) and throws only when it
// cannot; it drops keys its model lacks. So this script checks the `typeof` and the value of
// every field as the SDK hands it to the caller, knowing those coercions: `Overwrite` arrives as
// the string "false" (the model types it as a string; the server sends a JSON boolean), and a
// number field holds a number whatever the wire had (the classic Python check sees the raw
// JSON types).
//
// The run mirrors sdk/python/casim_sdkcheck.py `Conformance`:
//   DescribeCloudAssistantStatus before any send (CloudAssistantStatus "true", a boolean
//   SupportSessionManager, counts 0); PageSize 0 and 51, PageNumber 0 (403) and an unknown
//   instance (404) rejected with the SDK's ClientError; a client with a wrong secret rejected
//   (SignatureDoesNotMatch, 400, with the server's string to sign); SendFile and
//   Pending -> Running -> Success in 100 ms steps of the virtual clock, every field checked;
//   the same record read with the other signature scheme; six more files one virtual second
//   apart; PageSize=3 paging (TotalCount 7, pages 3,3,1, newest first, no duplicates) and
//   MaxResults=3/NextToken paging (NextToken until the last page, where it is "", all seven
//   once); DescribeCloudAssistantStatus again once everything has finished.
//
// Only 127.0.0.1 is ever contacted: the endpoint is refused otherwise, proxy and cloud
// credential variables are removed before the SDK is loaded, both key fields are given (a
// static key: no credentials chain, no metadata address), and the control API is called with
// Node's own http module, which uses no proxy.
//
// Usage: node sendfile_check.js --endpoint 127.0.0.1:PORT --instance ID [--region R]
//        [--signature v3|v2] [--sdk-dir DIR]   (DIR holds node_modules; default: this folder)
// Exit status: 0 with a one-line JSON summary on stdout; 1 with `FAIL: ...` on stderr when a
// check fails; 2 on bad arguments or when the SDK cannot be loaded.

'use strict';

const http = require('http');
const path = require('path');
const { createRequire } = require('module');

function scrubEnvironment() {
  for (const name of Object.keys(process.env)) {
    const upper = name.toUpperCase();
    if (
      upper.endsWith('_PROXY') ||
      upper.startsWith('ALIBABA_CLOUD_') ||
      upper.startsWith('ALICLOUD_') ||
      upper.startsWith('ALIYUN_')
    ) {
      delete process.env[name];
    }
  }
}

// Before the SDK is loaded: some of its modules read the environment when they load.
scrubEnvironment();

class CheckFailed extends Error {}

const TIME_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const REQUEST_ID_RE = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;
const INVOKE_ID_RE = /^f-[0-9a-f]{18}$/;
const HAPPY_PATH = ['Pending', 'Running', 'Success'];
const OVERALL_STATUSES = new Set(['Pending', 'Running', 'Success', 'Failed', 'PartialFailed']);
const INSTANCE_STATUSES = new Set([
  'Pending', 'Running', 'Success', 'Invalid', 'Aborted', 'Failed', 'Timeout', 'Error',
]);
const TERMINAL_STATUSES = new Set([...INSTANCE_STATUSES].filter((s) => s !== 'Pending' && s !== 'Running'));

// The same first file as the Python checks. Node leaves `*!'()` raw in the query and writes
// spaces as %20, so the server's decoding and signing of those is exercised here.
const SENT = {
  name: 'test.txt',
  content: 'echo hello',
  contentType: 'PlainText',
  targetDir: '/root',
  fileMode: '0644',
  fileOwner: 'root',
  fileGroup: 'root',
  overwrite: false,
  description: "casim sdk check *~!'() 测试",
};
const DEFAULTS = {
  contentType: 'PlainText',
  fileMode: '0644',
  fileOwner: 'root',
  fileGroup: 'root',
  overwrite: false,
  description: '',
};
const PAGED_FILES = 7;
const PAGE_SIZE = 3;
const STEP_MILLIS = 100;
const MANUAL_LIMIT_MILLIS = 60000;
const SIGNATURE_MESSAGE =
  'Specified signature is not matched with our calculation. server string to sign is:';

function pagedFile(number) {
  return { name: `page-${number}.txt`, content: `page ${number}`, targetDir: '/tmp' };
}

function echoed(sent) {
  return { ...DEFAULTS, ...sent };
}

// --- checks ---------------------------------------------------------------------------------

function show(value) {
  return `${typeof value} ${JSON.stringify(value)}`;
}

function check(condition, message) {
  if (!condition) throw new CheckFailed(message);
}

function checkEq(value, expected, what) {
  const same = JSON.stringify(value) === JSON.stringify(expected) && typeof value === typeof expected;
  check(same, `${what}: expected ${show(expected)}, got ${show(value)}`);
}

function checkType(value, type, what) {
  const ok = type === 'integer' ? Number.isInteger(value) : typeof value === type;
  check(ok, `${what}: expected ${type}, got ${show(value)}`);
}

function checkTime(value, what, allowEmpty) {
  checkType(value, 'string', what);
  if (allowEmpty && value === '') return;
  check(TIME_RE.test(value), `${what}: ${JSON.stringify(value)} is not yyyy-MM-ddTHH:mm:ssZ`);
}

function checkRequestId(value, what) {
  checkType(value, 'string', what);
  check(REQUEST_ID_RE.test(value), `${what}: ${JSON.stringify(value)} is not an uppercase UUID`);
}

function iso(millis) {
  return new Date(Math.floor(millis / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

// --- the control API ------------------------------------------------------------------------

class Control {
  constructor(endpoint) {
    const [host, port] = endpoint.split(':');
    this.host = host;
    this.port = Number(port);
  }

  request(method, urlPath, body) {
    const data = body === undefined ? null : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.host,
          port: this.port,
          method,
          path: urlPath,
          headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {},
          timeout: 10000,
        },
        (res) => {
          const chunks = [];
          res.on('data', (chunk) => chunks.push(chunk));
          res.on('end', () => {
            const raw = Buffer.concat(chunks).toString('utf8');
            try {
              resolve({ status: res.statusCode, body: raw ? JSON.parse(raw) : null });
            } catch (err) {
              reject(new CheckFailed(`${method} ${urlPath}: answer is not JSON (${err.message}): ${raw.slice(0, 200)}`));
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath}: timed out`)));
      req.on('error', reject);
      if (data) req.write(data);
      req.end();
    });
  }

  async clock() {
    const { status, body } = await this.request('GET', '/_casim/clock');
    checkEq(status, 200, 'GET /_casim/clock status');
    checkType(body && body.now_ms, 'integer', 'GET /_casim/clock now_ms');
    return body;
  }

  async advance(millis) {
    const { status, body } = await this.request('POST', '/_casim/clock/advance', { millis });
    checkEq(status, 200, `POST /_casim/clock/advance ${millis} status (answer ${JSON.stringify(body)})`);
    checkType(body && body.now_ms, 'integer', 'POST /_casim/clock/advance now_ms');
    return body;
  }

  async file(instanceId, filePath) {
    return this.request('GET', `/_casim/instances/${instanceId}/file?path=${encodeURIComponent(filePath)}`);
  }
}

// --- the SDK --------------------------------------------------------------------------------

class NodeApi {
  constructor(sdk, args) {
    this.sdk = sdk;
    this.args = args;
    this.client = this.makeClient('testsecret', args.signature);
    // Never retry (no retryOptions on the Config either): a retry would hide a wrong answer.
    this.runtime = new sdk.dara.RuntimeOptions({ autoretry: false, connectTimeout: 5000, readTimeout: 10000 });
    this.lastResponse = null;
  }

  makeClient(secret, signature) {
    const config = new this.sdk.core.$OpenApiUtil.Config({
      accessKeyId: 'testid',
      accessKeySecret: secret,
      endpoint: this.args.endpoint,
      protocol: 'http',
      regionId: this.args.region,
    });
    if (signature === 'v2') config.signatureAlgorithm = 'v2';
    const client = new this.sdk.Client(config);
    checkEq(client._endpoint, this.args.endpoint, "the Tea client's endpoint");
    return client;
  }

  body(response, what) {
    this.lastResponse = response;
    checkEq(response.statusCode, 200, `${what} HTTP status`);
    check(response.body !== undefined && response.body !== null, `${what}: no body`);
    return response.body;
  }

  async sendFile(sent, instance) {
    const request = new this.sdk.ecs.SendFileRequest({ regionId: this.args.region, instanceId: [instance], ...sent });
    return this.body(await this.client.sendFileWithOptions(request, this.runtime), 'SendFile');
  }

  async describe(params, client) {
    const request = new this.sdk.ecs.DescribeSendFileResultsRequest({ regionId: this.args.region, ...params });
    const response = await (client || this.client).describeSendFileResultsWithOptions(request, this.runtime);
    return this.body(response, 'DescribeSendFileResults');
  }

  async status(instanceIds) {
    const request = new this.sdk.ecs.DescribeCloudAssistantStatusRequest({ regionId: this.args.region, instanceId: instanceIds });
    const response = await this.client.describeCloudAssistantStatusWithOptions(request, this.runtime);
    return this.body(response, 'DescribeCloudAssistantStatus');
  }

  // The ClientError the call raises, or a failed check.
  async error(call, what) {
    let response;
    try {
      response = await call();
    } catch (err) {
      if (err instanceof CheckFailed) throw err;
      check(
        err instanceof this.sdk.core.ClientError && err.name === 'ClientError',
        `${what}: expected the SDK's ClientError, got ${err && err.name}: ${err && err.message}`,
      );
      return err;
    }
    throw new CheckFailed(`${what}: the bad call was reported as success: ${JSON.stringify(response)}`);
  }
}

async function expectClientError(api, what, call, code, httpStatus) {
  const err = await api.error(call, what);
  checkEq(err.code, code, `${what}: error code (${err.message})`);
  checkEq(err.statusCode, httpStatus, `${what}: HTTP status`);
  const data = err.data;
  check(data && typeof data === 'object', `${what}: e.data is not the error body`);
  checkEq(data.Code, code, `${what}: error body Code`);
  checkRequestId(data.RequestId, `${what}: error body RequestId`);
  checkEq(err.requestId, data.RequestId, `${what}: e.requestId`);
  checkEq(data.HostId, `ecs.${api.args.region}.aliyuncs.com`, `${what}: error body HostId`);
  checkType(data.Message, 'string', `${what}: error body Message`);
  check(data.Message !== '', `${what}: error body Message is empty`);
  checkType(data.Recommend, 'string', `${what}: error body Recommend`);
  check(data.Recommend.startsWith('https://'), `${what}: Recommend ${JSON.stringify(data.Recommend)}`);
  // ResponseError puts the code in front of openapi-core's `code: <status>, <Message> request id: <id>`.
  checkEq(err.message, `${code}: code: ${httpStatus}, ${data.Message} request id: ${data.RequestId}`, `${what}: e.message`);
  return err;
}

function checkStringToSign(sts, signature, what) {
  if (signature === 'v3') {
    check(/^ACS3-HMAC-SHA256\n[0-9a-f]{64}$/.test(sts), `${what}: server string to sign ${JSON.stringify(sts)} is not ACS3-HMAC-SHA256\\n<sha256 hex>`);
  } else {
    check(sts.startsWith('POST&%2F&'), `${what}: server string to sign ${JSON.stringify(sts)}`);
    for (const part of ['AccessKeyId%3Dtestid', 'Action%3DDescribeSendFileResults', 'SignatureMethod%3DHMAC-SHA1', 'Version%3D2014-05-26']) {
      check(sts.includes(part), `${what}: server string to sign lacks ${part}: ${JSON.stringify(sts)}`);
    }
  }
}

// --- what the SDK hands back ----------------------------------------------------------------

function checkSendFile(body) {
  checkRequestId(body.requestId, 'SendFile RequestId');
  checkType(body.invokeId, 'string', 'SendFile InvokeId');
  check(INVOKE_ID_RE.test(body.invokeId), `SendFile InvokeId ${JSON.stringify(body.invokeId)} is not f- and 18 lowercase hex digits`);
  return body.invokeId;
}

function checkPageBody(body, what, token) {
  checkRequestId(body.requestId, `${what} RequestId`);
  checkType(body.totalCount, 'integer', `${what} TotalCount`);
  checkType(body.pageNumber, 'integer', `${what} PageNumber`);
  checkType(body.pageSize, 'integer', `${what} PageSize`);
  if (token) {
    checkType(body.nextToken, 'string', `${what} NextToken`);
    checkEq(body.totalCount, 0, `${what} TotalCount in token paging`);
  } else {
    checkEq(body.nextToken, undefined, `${what} NextToken in page paging`);
  }
  check(body.invocations && typeof body.invocations === 'object', `${what}: Invocations is ${show(body.invocations)}`);
  const list = body.invocations.invocation;
  check(Array.isArray(list), `${what} Invocations.Invocation: expected an array, got ${show(list)}`);
  return list;
}

function checkInvocation(inv, invokeId, sent, instanceId, what) {
  const expected = echoed(sent);
  checkEq(inv.invokeId, invokeId, `${what}.InvokeId`);
  for (const field of ['name', 'content', 'contentType', 'targetDir', 'fileMode', 'fileOwner', 'fileGroup', 'description']) {
    checkType(inv[field], 'string', `${what}.${field}`);
    checkEq(inv[field], expected[field], `${what}.${field}`);
  }
  // The model types Overwrite as a string: the server's JSON boolean false arrives as "false".
  checkEq(inv.overwrite, String(expected.overwrite), `${what}.overwrite`);
  checkType(inv.vmCount, 'integer', `${what}.vmCount`);
  checkEq(inv.vmCount, 1, `${what}.vmCount`);
  checkTime(inv.creationTime, `${what}.creationTime`, false);
  checkType(inv.invocationStatus, 'string', `${what}.invocationStatus`);
  check(OVERALL_STATUSES.has(inv.invocationStatus), `${what}.invocationStatus: unknown ${show(inv.invocationStatus)}`);
  checkEq(inv.tags, undefined, `${what}.tags (none were sent)`);

  check(inv.invokeInstances && typeof inv.invokeInstances === 'object', `${what}.invokeInstances is ${show(inv.invokeInstances)}`);
  const instances = inv.invokeInstances.invokeInstance;
  check(Array.isArray(instances), `${what}.invokeInstances.invokeInstance: expected an array, got ${show(instances)}`);
  checkEq(instances.length, 1, `${what}: number of instances`);
  const ins = instances[0];
  const where = `${what}.invokeInstance[0]`;
  checkEq(ins.instanceId, instanceId, `${where}.instanceId`);
  const status = ins.invocationStatus;
  checkType(status, 'string', `${where}.invocationStatus`);
  check(INSTANCE_STATUSES.has(status), `${where}.invocationStatus: unknown ${show(status)}`);
  const overall = TERMINAL_STATUSES.has(status) && status !== 'Success' ? 'Failed' : status;
  checkEq(inv.invocationStatus, overall, `${what}.invocationStatus`);
  checkTime(ins.creationTime, `${where}.creationTime`, false);
  checkEq(ins.creationTime, inv.creationTime, `${where}.creationTime (= invocation's)`);
  checkTime(ins.startTime, `${where}.startTime`, true);
  checkTime(ins.finishTime, `${where}.finishTime`, true);
  checkTime(ins.updateTime, `${where}.updateTime`, false);
  if (status === 'Pending') checkEq(ins.startTime, '', `${where}.startTime while Pending`);
  else check(ins.startTime !== '', `${where}.startTime is empty while ${status}`);
  if (TERMINAL_STATUSES.has(status)) check(ins.finishTime !== '', `${where}.finishTime is empty while ${status}`);
  else checkEq(ins.finishTime, '', `${where}.finishTime while ${status}`);
  const times = [ins.creationTime, ins.startTime, ins.finishTime, ins.updateTime].filter((t) => t !== '');
  check(JSON.stringify(times) === JSON.stringify([...times].sort()), `${where}: times out of order: ${JSON.stringify(ins)}`);
  checkType(ins.errorCode, 'string', `${where}.errorCode`);
  checkType(ins.errorInfo, 'string', `${where}.errorInfo`);
  if (HAPPY_PATH.includes(status)) {
    checkEq(ins.errorCode, '', `${where}.errorCode while ${status}`);
    checkEq(ins.errorInfo, '', `${where}.errorInfo while ${status}`);
  }
  return ins;
}

// --- the run --------------------------------------------------------------------------------

class Conformance {
  constructor(api, control, args) {
    this.api = api;
    this.control = control;
    this.instance = args.instance;
    this.signature = args.signature;
    this.calls = 0;
  }

  async describe(params, client) {
    this.calls += 1;
    return this.api.describe(params, client);
  }

  async agentStatus(when) {
    const what = `DescribeCloudAssistantStatus ${when}`;
    this.calls += 1;
    const body = await this.api.status([this.instance]);
    checkRequestId(body.requestId, `${what} RequestId`);
    for (const field of ['totalCount', 'pageNumber', 'pageSize']) checkType(body[field], 'integer', `${what} ${field}`);
    checkEq(body.totalCount, 1, `${what} TotalCount`);
    const set = body.instanceCloudAssistantStatusSet;
    check(set && Array.isArray(set.instanceCloudAssistantStatus), `${what}: InstanceCloudAssistantStatusSet is ${show(set)}`);
    checkEq(set.instanceCloudAssistantStatus.length, 1, `${what}: number of entries`);
    const agent = set.instanceCloudAssistantStatus[0];
    const where = `${what} entry`;
    checkEq(agent.instanceId, this.instance, `${where}.instanceId`);
    checkEq(agent.cloudAssistantStatus, 'true', `${where}.cloudAssistantStatus`);
    checkType(agent.supportSessionManager, 'boolean', `${where}.supportSessionManager`);
    checkType(agent.cloudAssistantVersion, 'string', `${where}.cloudAssistantVersion`);
    check(/^\d+(\.\d+){3}$/.test(agent.cloudAssistantVersion), `${where}.cloudAssistantVersion ${show(agent.cloudAssistantVersion)}`);
    checkEq(agent.OSType, 'Linux', `${where}.OSType`);
    checkType(agent.activeTaskCount, 'integer', `${where}.activeTaskCount`);
    checkType(agent.invocationCount, 'integer', `${where}.invocationCount`);
    checkTime(agent.lastHeartbeatTime, `${where}.lastHeartbeatTime`, false);
    checkTime(agent.lastInvokedTime, `${where}.lastInvokedTime`, true);
    return agent;
  }

  async badCalls() {
    const bad = [
      ['PageSize=0', () => this.api.describe({ pageSize: 0 }), 'InvalidParam.PageSize', 403],
      ['PageSize=51', () => this.api.describe({ pageSize: 51 }), 'InvalidParam.PageSize', 403],
      ['PageNumber=0', () => this.api.describe({ pageNumber: 0 }), 'InvalidParam.PageNumber', 403],
      ['SendFile to an unknown instance', () => this.api.sendFile(pagedFile(0), 'i-casimnosuchinstance'), 'InvalidInstance.NotFound', 404],
    ];
    for (const [what, call, code, status] of bad) {
      this.calls += 1;
      await expectClientError(this.api, what, call, code, status);
    }
    const what = `DescribeSendFileResults with a wrong secret (${this.signature})`;
    const wrong = this.api.makeClient('wrongsecret', this.signature);
    this.calls += 1;
    const err = await expectClientError(this.api, what, () => this.api.describe({}, wrong), 'SignatureDoesNotMatch', 400);
    check(err.data.Message.startsWith(SIGNATURE_MESSAGE), `${what}: message ${JSON.stringify(err.data.Message)}`);
    checkStringToSign(err.data.Message.slice(SIGNATURE_MESSAGE.length), this.signature, what);
  }

  async emptyPage() {
    const what = 'DescribeSendFileResults for an unknown InvokeId';
    const body = await this.describe({ invokeId: 'f-000000000000000000' });
    checkEq(checkPageBody(body, what, false), [], `${what} Invocations.Invocation`);
    checkEq(body.totalCount, 0, `${what} TotalCount`);
  }

  async byInvokeId(invokeId, sent, client) {
    const what = 'DescribeSendFileResults by InvokeId';
    const body = await this.describe({ invokeId }, client);
    const list = checkPageBody(body, what, false);
    checkEq(body.totalCount, 1, `${what} TotalCount`);
    checkEq(body.pageNumber, 1, `${what} PageNumber (default)`);
    checkEq(body.pageSize, 10, `${what} PageSize (default)`);
    checkEq(list.length, 1, `${what}: number of invocations`);
    const ins = checkInvocation(list[0], invokeId, sent, this.instance, `${what} Invocation[0]`);
    return [list[0], ins];
  }

  async lifecycle() {
    const clock = await this.control.clock();
    this.calls += 1;
    const invokeId = checkSendFile(await this.api.sendFile(SENT, this.instance));
    let [inv, ins] = await this.byInvokeId(invokeId, SENT);
    checkEq(ins.invocationStatus, 'Pending', 'instance status before the clock moves');
    checkEq(ins.creationTime, iso(clock.now_ms), 'CreationTime on a frozen clock');
    checkEq(ins.updateTime, ins.creationTime, 'UpdateTime while Pending');
    const seen = [ins.invocationStatus];
    let advanced = 0;
    while (!TERMINAL_STATUSES.has(ins.invocationStatus)) {
      check(advanced < MANUAL_LIMIT_MILLIS, `no outcome after advancing ${advanced} ms; statuses seen ${seen}`);
      const before = (await this.control.clock()).now_ms;
      const after = (await this.control.advance(STEP_MILLIS)).now_ms;
      checkEq(after - before, STEP_MILLIS, 'clock movement per advance');
      advanced += STEP_MILLIS;
      [inv, ins] = await this.byInvokeId(invokeId, SENT);
      check(ins.updateTime <= iso(after), `UpdateTime ${ins.updateTime} is after the clock ${iso(after)}`);
      if (ins.invocationStatus !== seen[seen.length - 1]) seen.push(ins.invocationStatus);
    }
    checkEq(seen, HAPPY_PATH, 'per-instance statuses observed in 100 ms steps');

    const filePath = `${SENT.targetDir}/${SENT.name}`;
    const { status, body } = await this.control.file(this.instance, filePath);
    checkEq(status, 200, `file read back (answer ${JSON.stringify(body)})`);
    checkEq(Buffer.from(body.content_base64, 'base64').toString('utf8'), SENT.content, 'file read back: content');
    checkEq([body.mode, body.owner, body.group], [SENT.fileMode, SENT.fileOwner, SENT.fileGroup], 'file read back: mode, owner, group');

    // The same query signed the other way gives the same record.
    const other = this.signature === 'v3' ? 'v2' : 'v3';
    const [otherInv] = await this.byInvokeId(invokeId, SENT, this.api.makeClient('testsecret', other));
    checkEq(otherInv.toMap(), inv.toMap(), `${other}-signed describe vs ${this.signature}-signed describe`);
    return { invokeId, seen, advanced };
  }

  async sendMore() {
    const files = [];
    for (let number = 2; number <= PAGED_FILES; number += 1) {
      await this.control.advance(1000);
      const sent = pagedFile(number);
      this.calls += 1;
      files.push([checkSendFile(await this.api.sendFile(sent, this.instance)), sent]);
    }
    return files;
  }

  checkEntries(list, expected, what) {
    const bySentId = new Map(expected);
    list.forEach((inv, index) => {
      check(bySentId.has(inv.invokeId), `${what} Invocation[${index}]: unknown InvokeId ${show(inv.invokeId)}`);
      checkInvocation(inv, inv.invokeId, bySentId.get(inv.invokeId), this.instance, `${what} Invocation[${index}]`);
    });
  }

  async pagePaging(expected) {
    const seen = [];
    const sizes = [];
    for (let number = 1; ; number += 1) {
      const what = `DescribeSendFileResults PageNumber=${number} PageSize=${PAGE_SIZE}`;
      const body = await this.describe({ pageNumber: number, pageSize: PAGE_SIZE });
      const list = checkPageBody(body, what, false);
      checkEq(body.totalCount, PAGED_FILES, `${what} TotalCount`);
      checkEq(body.pageNumber, number, `${what} PageNumber`);
      checkEq(body.pageSize, PAGE_SIZE, `${what} PageSize`);
      this.checkEntries(list, expected, what);
      seen.push(...list.map((inv) => inv.invokeId));
      sizes.push(list.length);
      if (list.length < PAGE_SIZE) break;
      check(number < 10, `page paging did not end: sizes ${sizes}`);
    }
    checkEq(sizes, [3, 3, 1], 'page sizes with PageSize=3');
    checkEq(new Set(seen).size, seen.length, `duplicates across pages: ${seen}`);
    checkEq(seen, expected.map(([id]) => id), 'InvokeIds over all pages (newest CreationTime first)');
    const what = 'DescribeSendFileResults PageNumber=4 PageSize=3';
    const body = await this.describe({ pageNumber: 4, pageSize: PAGE_SIZE });
    checkEq(checkPageBody(body, what, false), [], what);
    checkEq(body.totalCount, PAGED_FILES, `${what} TotalCount`);
    return sizes;
  }

  async tokenPaging(expected) {
    const seen = [];
    const sizes = [];
    const tokens = [];
    let token;
    for (;;) {
      const what = `DescribeSendFileResults MaxResults=${PAGE_SIZE} page ${sizes.length + 1}`;
      const params = { maxResults: PAGE_SIZE };
      if (token !== undefined) params.nextToken = token;
      const body = await this.describe(params);
      const list = checkPageBody(body, what, true);
      this.checkEntries(list, expected, what);
      seen.push(...list.map((inv) => inv.invokeId));
      sizes.push(list.length);
      token = body.nextToken;
      if (seen.length >= PAGED_FILES) {
        checkEq(token, '', `${what}: NextToken on the last page`);
        break;
      }
      check(token !== '', `${what}: NextToken empty after ${seen.length} of ${PAGED_FILES}`);
      check(!tokens.includes(token), `${what}: NextToken ${token} repeats`);
      check(sizes.length < 10, `token paging did not end: sizes ${sizes}`);
      tokens.push(token);
    }
    checkEq(sizes, [3, 3, 1], 'token page sizes with MaxResults=3');
    checkEq([...seen].sort(), expected.map(([id]) => id).sort(), 'union of token pages (all records, each once)');
    checkEq(seen, expected.map(([id]) => id), 'InvokeIds over all token pages (newest CreationTime first)');
    return sizes;
  }

  async run() {
    const clock = await this.control.clock();
    checkEq(clock.mode, 'manual', 'GET /_casim/clock mode');
    const before = await this.agentStatus('before any send');
    checkEq(before.activeTaskCount, 0, 'ActiveTaskCount before any send');
    checkEq(before.invocationCount, 0, 'InvocationCount before any send');
    checkEq(before.lastInvokedTime, '', 'LastInvokedTime before any send');

    await this.badCalls();
    await this.emptyPage();
    const { invokeId, seen, advanced } = await this.lifecycle();
    const expected = [[invokeId, SENT], ...(await this.sendMore())].reverse();
    const pages = await this.pagePaging(expected);
    const tokenPages = await this.tokenPaging(expected);

    await this.control.advance(MANUAL_LIMIT_MILLIS);
    const after = await this.agentStatus('after every file finished');
    checkEq(after.activeTaskCount, 0, 'ActiveTaskCount after every file finished');
    check(after.lastInvokedTime !== '', 'LastInvokedTime empty after sends');
    check(after.invocationCount >= before.invocationCount, 'InvocationCount fell');
    return {
      invoke_id: invokeId,
      statuses: seen,
      advanced_ms: advanced,
      pages,
      token_pages: tokenPages,
      sdk_calls: this.calls,
    };
  }
}

// --- main -----------------------------------------------------------------------------------

function usage(message) {
  process.stderr.write(
    `sendfile_check.js: ${message}\nusage: node sendfile_check.js --endpoint 127.0.0.1:PORT ` +
      '--instance ID [--region R] [--signature v3|v2] [--sdk-dir DIR]\n',
  );
  process.exit(2);
}

function parseArgs(argv) {
  const args = { region: 'cn-hangzhou', signature: 'v3', sdkDir: __dirname };
  const names = { '--endpoint': 'endpoint', '--instance': 'instance', '--region': 'region', '--signature': 'signature', '--sdk-dir': 'sdkDir' };
  for (let i = 0; i < argv.length; i += 2) {
    const key = names[argv[i]];
    if (!key) usage(`unknown argument ${argv[i]}`);
    if (argv[i + 1] === undefined) usage(`${argv[i]} needs a value`);
    args[key] = argv[i + 1];
  }
  if (!args.endpoint || !args.instance) usage('--endpoint and --instance are required');
  if (!/^127\.0\.0\.1:\d+$/.test(args.endpoint)) usage(`--endpoint ${args.endpoint}: only 127.0.0.1:PORT is allowed`);
  if (!['v3', 'v2'].includes(args.signature)) usage(`--signature ${args.signature}: v3 or v2`);
  return args;
}

function loadSdk(sdkDir) {
  const requireFromSdk = createRequire(path.join(path.resolve(sdkDir), 'package.json'));
  try {
    const ecsModule = requireFromSdk('@alicloud/ecs20140526');
    return {
      Client: ecsModule.default,
      ecs: ecsModule,
      core: requireFromSdk('@alicloud/openapi-core'),
      dara: requireFromSdk('@darabonba/typescript'),
      versions: {
        ecs: requireFromSdk('@alicloud/ecs20140526/package.json').version,
        core: requireFromSdk('@alicloud/openapi-core/package.json').version,
      },
    };
  } catch (err) {
    process.stderr.write(
      `sendfile_check.js: the Tea Node SDK cannot be loaded from ${sdkDir}/node_modules: ${err.message}\n` +
        '  hint: run `cargo xtask test`, which runs `npm ci` in sdk/node\n',
    );
    process.exit(2);
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const sdk = loadSdk(args.sdkDir);
  const api = new NodeApi(sdk, args);
  const control = new Control(args.endpoint);
  try {
    const result = await new Conformance(api, control, args).run();
    const flavour = args.signature === 'v3' ? 'tea-node' : 'tea-node-v2';
    process.stdout.write(`${JSON.stringify({
      ok: true, flavour, mode: 'manual', instance: args.instance, sdk: sdk.versions, node: process.version, ...result,
    })}\n`);
    return 0;
  } catch (err) {
    if (err instanceof CheckFailed) {
      process.stderr.write(`FAIL: ${err.message}\n`);
    } else {
      process.stderr.write(`${err && err.stack}\nFAIL: unexpected ${err && err.name}: ${err && err.message}\n`);
    }
    if (api.lastResponse) {
      process.stderr.write(`  last successful SDK response body: ${JSON.stringify(api.lastResponse.body)}\n`);
    }
    return 1;
  }
}

main().then((code) => {
  process.exitCode = code;
});
