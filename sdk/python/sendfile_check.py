#!/usr/bin/env python3
"""Drive the official Tea Python SDK (`alibabacloud-ecs20140526`) against a running
`casim serve` and check what it returns.

Why this exists: the Tea Python SDK never raises on a shape error. A wrong nesting gives
`response.body = None`, a renamed key gives `None`, and `"TotalCount": "1"` reaches the caller
as a string, all with HTTP 200. So "the SDK call did not raise" proves nothing; this script
checks the value *and type* of every field the SDK hands back, and that bad calls raise the
SDK's own exception with the service's code and HTTP status.

Modes:
  --mode manual   the conformance run (casim_sdkcheck.Conformance) against a fresh
                  `casim serve --clock manual --access-keys testid:testsecret`:
                  DescribeCloudAssistantStatus; PageSize 0 and 51 rejected (403); a client
                  with a wrong secret rejected (SignatureDoesNotMatch, 400); SendFile and
                  Pending -> Running -> Success in 100 ms steps of the clock; six more files;
                  page paging and token paging walked to the last page; the same record read
                  with the other signature scheme.
  --mode wall     the server runs a wall clock (no keys needed); the script polls every 100 ms
                  (30 s deadline) and must see Pending first and Success last.

--signature v3 (the SDK's default, ACS3-HMAC-SHA256) or v2 (`Config(signature_algorithm='v2')`,
the classic RPC HMAC-SHA1) picks how every request is signed.

Only 127.0.0.1 is ever contacted: the endpoint is refused otherwise, proxies and cloud
credential variables are removed from the environment before the SDK is imported, and both
access-key fields are given so the SDK uses a static key and never runs the credentials chain
(which could query the ECS metadata address).

Exit status: 0 with a one-line JSON summary on stdout; 1 with `FAIL: ...` on stderr when a
check fails; 2 on bad arguments or when the SDK is not importable.
"""

import argparse
import json
import re
import sys
import time
import traceback

# Scrubs the environment on import, so it comes before the SDK.
import casim_sdkcheck as cs

try:
    from alibabacloud_ecs20140526 import models as ecs_models
    from alibabacloud_ecs20140526.client import Client as EcsClient
    from alibabacloud_tea_openapi.exceptions import ClientException
    from alibabacloud_tea_openapi.models import Config
    from darabonba.runtime import RuntimeOptions
except ImportError as err:  # pragma: no cover - depends on the interpreter
    print(
        f"sendfile_check: the Tea Python SDK is not importable with {sys.executable}: {err}\n"
        "  hint: run `cargo xtask test`, which builds target/sdk-venv from "
        "sdk/python/requirements.txt",
        file=sys.stderr,
    )
    sys.exit(2)


WALL_POLL_SECONDS = 0.1
WALL_DEADLINE_SECONDS = 30.0


def snake(name):
    """`TargetDir` -> `target_dir`: the Tea Python model's name for a parameter."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class TeaApi:
    """The Conformance adapter for the Tea Python SDK: bodies are the model's `to_map()`."""

    exact = False
    full_error_envelope = True

    def __init__(self, endpoint, region, signature):
        self.endpoint = cs.loopback_endpoint(endpoint)
        self.region = region
        self.signature = signature
        self.client = self.make_client("testsecret", signature)
        # Never retry: a retried request would hide a first answer that was wrong.
        self.runtime = RuntimeOptions(autoretry=False, connect_timeout=5000, read_timeout=10000)
        self.last_response = None

    def make_client(self, secret, signature):
        config = Config(
            access_key_id="testid",
            access_key_secret=secret,
            endpoint=self.endpoint,
            protocol="http",
            region_id=self.region,
        )
        if signature == "v2":
            config.signature_algorithm = "v2"
        client = EcsClient(config)
        cs.check_eq(client._endpoint, self.endpoint, "the Tea client's endpoint")
        return client

    def body(self, response, what):
        self.last_response = response
        cs.check_eq(response.status_code, 200, f"{what} HTTP status")
        return None if response.body is None else response.body.to_map()

    def send_file(self, sent, instance):
        fields = {snake(name): value for name, value in sent.items()}
        request = ecs_models.SendFileRequest(
            region_id=self.region, instance_id=[instance], **fields
        )
        return self.body(self.client.send_file_with_options(request, self.runtime), "SendFile")

    def describe(self, params, client=None):
        fields = {snake(name): value for name, value in params.items()}
        request = ecs_models.DescribeSendFileResultsRequest(region_id=self.region, **fields)
        response = (client or self.client).describe_send_file_results_with_options(
            request, self.runtime
        )
        return self.body(response, "DescribeSendFileResults")

    def status(self, instance_ids):
        request = ecs_models.DescribeCloudAssistantStatusRequest(
            region_id=self.region, instance_id=instance_ids
        )
        response = self.client.describe_cloud_assistant_status_with_options(
            request, self.runtime
        )
        return self.body(response, "DescribeCloudAssistantStatus")

    def error(self, call):
        try:
            response = call()
        except ClientException as err:
            data = err.data if isinstance(err.data, dict) else {}
            cs.check_eq(data.get("statusCode"), err.status_code, "e.data['statusCode']")
            cs.check_eq(data.get("Code"), err.code, "error body Code vs e.code")
            return cs.SdkError(
                "ClientException", err.code, err.status_code, data.get("Message"),
                data.get("RequestId"), data.get("HostId"), data.get("Recommend"),
            )
        except Exception as err:  # noqa: BLE001 - anything else is the failure being tested
            raise cs.CheckFailed(f"expected a ClientException, got {type(err).__name__}: {err}")
        raise cs.CheckFailed(f"the bad call was reported as success: {response!r}")

    def check_wrong_secret(self):
        what = f"DescribeSendFileResults with a wrong secret ({self.signature})"
        bad = self.make_client("wrongsecret", self.signature)
        err = self.error(lambda: self.describe({}, client=bad))
        cs.check_error(err, what, "SignatureDoesNotMatch", 400, self.region, envelope=True)
        cs.check(err.message.startswith(cs.SIGNATURE_MESSAGE), f"{what}: message {err.message!r}")
        cs.check_string_to_sign(err.message[len(cs.SIGNATURE_MESSAGE):], self.signature, what)

    def cross_check(self, invoke_id, invocation):
        """The same query signed the other way gives the same record."""
        other = "v2" if self.signature == "v3" else "v3"
        body = self.describe({"InvokeId": invoke_id}, client=self.make_client("testsecret", other))
        cs.check(body is not None, f"{other}-signed describe: body is None")
        cs.check_eq(body.get("Invocations"), {"Invocation": [invocation]},
                    f"{other}-signed describe vs {self.signature}-signed describe")


def run_wall(api, control, instance):
    clock = control.clock()
    cs.check_eq(clock.get("mode"), "wall", "GET /_casim/clock mode")
    body = api.send_file(cs.SENT, instance)
    invoke_id = cs.check_send_file(body, exact=False)
    deadline = time.monotonic() + WALL_DEADLINE_SECONDS
    seen = []
    describes = 0
    while True:
        body = api.describe({"InvokeId": invoke_id})
        describes += 1
        what = "DescribeSendFileResults by InvokeId"
        invocations = cs.check_page_body(body, what, exact=False, token=False)
        cs.check_eq(len(invocations), 1, f"{what}: number of invocations")
        ins = cs.check_invocation(invocations[0], invoke_id, cs.SENT, instance,
                                  f"{what} Invocation[0]", exact=False)
        status = ins["InvocationStatus"]
        if not seen or status != seen[-1]:
            seen.append(status)
        if status in cs.TERMINAL_STATUSES:
            break
        cs.check(
            time.monotonic() < deadline,
            f"no outcome within {WALL_DEADLINE_SECONDS} s; statuses seen {seen}",
        )
        time.sleep(WALL_POLL_SECONDS)
    cs.check_eq(seen[0], "Pending", f"first status seen (all seen: {seen})")
    cs.check_eq(seen[-1], "Success", f"final status (all seen: {seen})")
    # Polling may miss a short Running, but nothing may go backwards or appear twice.
    order = [cs.HAPPY_PATH.index(s) for s in seen if s in cs.HAPPY_PATH]
    cs.check(len(order) == len(seen) and order == sorted(order), f"statuses out of order: {seen}")
    cs.check_file_written(control, instance, cs.SENT)
    return {"invoke_id": invoke_id, "statuses": seen, "sdk_calls": describes + 1}


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Check casim's SendFile / DescribeSendFileResults / "
        "DescribeCloudAssistantStatus through the official Tea Python SDK. "
        "Talks only to 127.0.0.1.",
    )
    parser.add_argument("--mode", choices=["manual", "wall"], required=True,
                        help="the clock the server runs (`casim serve --clock manual` or not)")
    parser.add_argument("--signature", choices=["v3", "v2"], default="v3",
                        help="v3: ACS3-HMAC-SHA256 (the SDK's default); "
                        "v2: Config(signature_algorithm='v2'), RPC HMAC-SHA1")
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
    api = TeaApi(args.endpoint, args.region, args.signature)
    control = cs.Control(args.endpoint)
    try:
        if args.mode == "manual":
            result = cs.Conformance(api, control, args.instance, args.region).run()
        else:
            result = run_wall(api, control, args.instance)
    except cs.CheckFailed as failure:
        print(f"FAIL: {failure}", file=sys.stderr)
        if api.last_response is not None:
            print(f"  last successful SDK response: {api.last_response.to_map()}", file=sys.stderr)
        return 1
    except Exception as err:  # noqa: BLE001 - an SDK or network error is a failed check too
        traceback.print_exc()
        print(f"FAIL: unexpected {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    flavour = "tea-py" if args.signature == "v3" else "tea-py-v2"
    summary = {"ok": True, "flavour": flavour, "mode": args.mode, "instance": args.instance,
               **result}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
