#!/usr/bin/env python3
"""Drive the classic Python SDK (`aliyun-python-sdk-core` + `aliyun-python-sdk-ecs`, `AcsClient`)
against a running `casim serve --clock manual --access-keys testid:testsecret` and check what
it returns.

The classic SDK parses nothing: `do_action_with_exception` hands back the raw response bytes.
So this script parses the JSON itself and checks exact key sets, values and JSON types (an
integer must be a JSON integer, not a numeric string; Overwrite a JSON boolean; the lists
wrapped as `{"Invocation": [...]}` even for one item), and duplicate keys are refused. The run
is casim_sdkcheck.Conformance, the same as the Tea flavours'.

Errors: any HTTP status outside 2xx raises `ServerException` with the body's Code, Message and
RequestId (HostId and Recommend are not exposed). A client with a wrong secret meets the
classic SDK's own quirk: on HTTP 400 `SignatureDoesNotMatch` it compares the text after the
first `:` of the server's message with its own string to sign, and when they are equal (the
server computed the same string, so only the secret differs) it rewrites the error into
`InvalidAccessKeySecret` / `The AccessKeySecret is incorrect. ...`. That rewrite is asserted
exactly: it proves the server's string to sign is byte for byte the client's.

Only 127.0.0.1 is ever contacted: every request gets `set_endpoint('127.0.0.1:PORT')` (without
it the client resolves endpoints itself, which can call the real location service) and
`set_protocol_type('http')`; the client never retries; proxies and cloud credential variables
are removed from the environment before the SDK is imported.

Exit status: 0 with a one-line JSON summary on stdout; 1 with `FAIL: ...` on stderr when a
check fails; 2 on bad arguments or when the SDK is not importable.
"""

import argparse
import json
import sys
import traceback

# Scrubs the environment on import, so it comes before the SDK.
import casim_sdkcheck as cs

try:
    from aliyunsdkcore.acs_exception.exceptions import ServerException
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkecs.request.v20140526.DescribeCloudAssistantStatusRequest import (
        DescribeCloudAssistantStatusRequest,
    )
    from aliyunsdkecs.request.v20140526.DescribeSendFileResultsRequest import (
        DescribeSendFileResultsRequest,
    )
    from aliyunsdkecs.request.v20140526.SendFileRequest import SendFileRequest
except ImportError as err:  # pragma: no cover - depends on the interpreter
    print(
        f"classic_check: the classic Python SDK is not importable with {sys.executable}: "
        f"{err}\n  hint: run `cargo xtask test`, which builds target/sdk-venv from "
        "sdk/python/requirements.txt",
        file=sys.stderr,
    )
    sys.exit(2)


INVALID_SECRET_MESSAGE = (
    "The AccessKeySecret is incorrect. Please check your AccessKeyId and AccessKeySecret."
)


def no_duplicate_keys(pairs):
    keys = [key for key, _ in pairs]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise cs.CheckFailed(f"JSON object with duplicate keys {duplicates}")
    return dict(pairs)


class ClassicApi:
    """The Conformance adapter for the classic SDK: bodies are the parsed raw JSON."""

    exact = True
    full_error_envelope = False

    def __init__(self, endpoint, region):
        self.endpoint = cs.loopback_endpoint(endpoint)
        self.region = region
        self.client = self.make_client("testsecret")
        self.last_raw = None

    def make_client(self, secret):
        # RegionId is not a request parameter here: the client adds its region to every query.
        return AcsClient(
            "testid", secret, self.region, auto_retry=False, connect_timeout=5, timeout=10
        )

    def call(self, request, client=None):
        # On every request, or the client resolves the endpoint itself.
        request.set_endpoint(self.endpoint)
        request.set_protocol_type("http")
        cs.check_eq(request.endpoint, self.endpoint, "the request's endpoint")
        raw = (client or self.client).do_action_with_exception(request)
        self.last_raw = raw
        cs.check_type(raw, bytes, "what do_action_with_exception returns")
        try:
            return json.loads(raw, object_pairs_hook=no_duplicate_keys)
        except ValueError as err:
            raise cs.CheckFailed(f"the response is not JSON ({err}): {raw[:300]!r}")

    def send_file(self, sent, instance):
        request = SendFileRequest()
        request.set_InstanceIds([instance])
        for name, value in sent.items():
            getattr(request, f"set_{name}")(value)
        return self.call(request)

    def describe(self, params, client=None):
        request = DescribeSendFileResultsRequest()
        for name, value in params.items():
            getattr(request, f"set_{name}")(value)
        return self.call(request, client)

    def status(self, instance_ids):
        request = DescribeCloudAssistantStatusRequest()
        request.set_InstanceIds(instance_ids)
        return self.call(request)

    def error(self, call):
        try:
            body = call()
        except ServerException as err:
            return cs.SdkError(
                "ServerException", err.get_error_code(), err.get_http_status(),
                err.get_error_msg(), err.get_request_id(),
            )
        except Exception as err:  # noqa: BLE001 - anything else is the failure being tested
            raise cs.CheckFailed(f"expected a ServerException, got {type(err).__name__}: {err}")
        raise cs.CheckFailed(f"the bad call was reported as success: {body!r}")

    def check_wrong_secret(self):
        what = "DescribeSendFileResults with a wrong secret (classic, HMAC-SHA1)"
        bad = self.make_client("wrongsecret")
        err = self.error(lambda: self.describe({}, client=bad))
        # The server answers 400 SignatureDoesNotMatch "...server string to sign is:<sts>";
        # the SDK finds its own string to sign there and says what is really wrong.
        cs.check_error(err, what, "InvalidAccessKeySecret", 400, self.region, envelope=False)
        cs.check_eq(err.message, INVALID_SECRET_MESSAGE, f"{what}: message")


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Check casim's SendFile / DescribeSendFileResults / "
        "DescribeCloudAssistantStatus through the classic Python SDK (AcsClient). "
        "Talks only to 127.0.0.1.",
    )
    parser.add_argument("--endpoint", required=True, help="127.0.0.1:PORT of `casim serve`")
    parser.add_argument("--instance", required=True, help="a Linux instance id in the fleet")
    parser.add_argument("--region", default="cn-hangzhou", help="the instance's region")
    args = parser.parse_args(argv)
    try:
        cs.loopback_endpoint(args.endpoint)
    except ValueError as err:
        parser.error(str(err))
    return args


def main(argv):
    args = parse_args(argv)
    api = ClassicApi(args.endpoint, args.region)
    control = cs.Control(args.endpoint)
    try:
        result = cs.Conformance(api, control, args.instance, args.region).run()
    except cs.CheckFailed as failure:
        print(f"FAIL: {failure}", file=sys.stderr)
        if api.last_raw is not None:
            print(f"  last successful raw response: {api.last_raw[:2000]!r}", file=sys.stderr)
        return 1
    except Exception as err:  # noqa: BLE001 - an SDK or network error is a failed check too
        traceback.print_exc()
        print(f"FAIL: unexpected {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    summary = {"ok": True, "flavour": "classic-py", "mode": "manual",
               "instance": args.instance, **result}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
