#!/usr/bin/env python3
"""Drive the official Tea Python SDK against a running `casim serve` and check what it returns.

Why this exists: the Tea Python SDK never raises on a shape error. A wrong nesting gives
`response.body = None`, a renamed key gives `None`, and `"TotalCount": "1"` reaches the caller
as a string, all with HTTP 200. So "the SDK call did not raise" proves nothing; this script
checks the value *and type* of every field the SDK hands back, and that bad calls raise the
SDK's own exception with the service's code and HTTP status.

Modes:
  --mode manual   the server runs a frozen virtual clock; the script advances it through the
                  control API in 100 ms steps and must observe Pending -> Running -> Success.
  --mode wall     the server runs a wall clock; the script polls every 100 ms (30 s deadline)
                  and must see Pending first and Success last.

Only 127.0.0.1 is ever contacted: the endpoint is refused otherwise, proxies and cloud
credential variables are removed from the environment before the SDK is imported, and both
access-key fields are given so the SDK uses a static key and never runs the credentials chain
(which could query the ECS metadata address).

Exit status: 0 with a one-line JSON summary on stdout; 1 with `FAIL: ...` on stderr when a
check fails; 2 on bad arguments or when the SDK is not importable.
"""

import argparse
import base64
import json
import os
import re
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request


def _scrub_environment():
    """Remove every variable that could send traffic elsewhere or load real credentials."""
    for name in list(os.environ):
        upper = name.upper()
        if (
            upper.endswith("_PROXY")
            or upper.startswith("ALIBABA_CLOUD_")
            or upper.startswith("ALICLOUD_")
            or upper.startswith("ALIYUN_")
        ):
            del os.environ[name]


# Before the SDK is imported: some of its modules read the environment at import time.
_scrub_environment()

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


TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
HAPPY_PATH = ["Pending", "Running", "Success"]
OVERALL_STATUSES = {"Pending", "Running", "Success", "Failed", "PartialFailed"}
INSTANCE_STATUSES = {
    "Pending",
    "Running",
    "Success",
    "Invalid",
    "Aborted",
    "Failed",
    "Timeout",
    "Error",
}
TERMINAL_STATUSES = INSTANCE_STATUSES - {"Pending", "Running"}

# What the script sends. The description carries characters that the Tea SDK percent-encodes
# in unusual ways (`+` for space, `%2A%21%27%28%29`) and non-ASCII text, so a server that
# decodes or signs the query wrongly fails here rather than with a real user.
SENT = {
    "name": "test.txt",
    "content": "echo hello",
    "content_type": "PlainText",
    "target_dir": "/root",
    "file_mode": "0644",
    "file_owner": "root",
    "file_group": "root",
    "overwrite": False,
    "description": "casim sdk check *~!'() 测试",
}

STEP_MILLIS = 100
# Default delays are dispatch 200-1500 ms then write 100-1000 ms; 60 s of virtual time is
# far beyond that, and bounds the loop if the server never finishes the task.
MANUAL_LIMIT_MILLIS = 60_000
WALL_POLL_SECONDS = 0.1
WALL_DEADLINE_SECONDS = 30.0


class CheckFailed(Exception):
    """A value the server returned (through the SDK or the control API) is wrong."""


def check(condition, message):
    if not condition:
        raise CheckFailed(message)


def check_type(value, expected_type, what):
    # bool is a subclass of int in Python, so `True` would pass isinstance(x, int).
    ok = isinstance(value, expected_type) and not (
        expected_type is int and isinstance(value, bool)
    )
    check(ok, f"{what}: expected {expected_type.__name__}, got {type(value).__name__} {value!r}")


def check_eq(value, expected, what):
    check(value == expected, f"{what}: expected {expected!r}, got {value!r}")


def check_time(value, what, allow_empty):
    check_type(value, str, what)
    if allow_empty and value == "":
        return
    check(TIME_RE.match(value) is not None, f"{what}: {value!r} is not yyyy-MM-ddTHH:mm:ssZ")


class Control:
    """The server's `/_casim/` control API, over urllib with proxies disabled."""

    def __init__(self, endpoint):
        self.base = f"http://{endpoint}"
        # An empty ProxyHandler: urllib must not route loopback traffic through any proxy.
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def request(self, method, path, body=None):
        """Return (HTTP status, parsed JSON body)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with self.opener.open(req, timeout=10) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError as err:
            raise CheckFailed(f"{method} {path}: answer is not JSON ({err}): {raw[:200]!r}")
        return status, parsed

    def clock(self):
        status, clock = self.request("GET", "/_casim/clock")
        check_eq(status, 200, "GET /_casim/clock status")
        check(isinstance(clock, dict), f"GET /_casim/clock: expected an object, got {clock!r}")
        check_type(clock.get("now_ms"), int, "GET /_casim/clock now_ms")
        check_time(clock.get("now"), "GET /_casim/clock now", allow_empty=False)
        return clock

    def advance(self, millis):
        status, clock = self.request("POST", "/_casim/clock/advance", {"millis": millis})
        check_eq(status, 200, f"POST /_casim/clock/advance {millis} status (answer {clock!r})")
        check(isinstance(clock, dict), f"POST /_casim/clock/advance: got {clock!r}")
        check_type(clock.get("now_ms"), int, "POST /_casim/clock/advance now_ms")
        return clock

    def file(self, instance_id, path):
        query = urllib.parse.urlencode({"path": path})
        return self.request("GET", f"/_casim/instances/{instance_id}/file?{query}")


class Checker:
    def __init__(self, args):
        self.args = args
        self.region = args.region
        self.control = Control(args.endpoint)
        self.client = self._client(signature_algorithm=None)
        # Never retry: a retried request would hide a first answer that was wrong.
        self.runtime = RuntimeOptions(autoretry=False, connect_timeout=5000, read_timeout=10000)
        self.last_response = None
        self.describes = 0

    def _client(self, signature_algorithm):
        config = Config(
            access_key_id="testid",
            access_key_secret="testsecret",
            endpoint=self.args.endpoint,
            protocol="http",
            region_id=self.region,
        )
        if signature_algorithm is not None:
            config.signature_algorithm = signature_algorithm
        return EcsClient(config)

    # --- SDK calls ---------------------------------------------------------------------

    def send_file(self):
        request = ecs_models.SendFileRequest(
            region_id=self.region,
            instance_id=[self.args.instance],
            name=SENT["name"],
            content=SENT["content"],
            content_type=SENT["content_type"],
            target_dir=SENT["target_dir"],
            file_mode=SENT["file_mode"],
            file_owner=SENT["file_owner"],
            file_group=SENT["file_group"],
            overwrite=SENT["overwrite"],
            description=SENT["description"],
        )
        response = self.client.send_file_with_options(request, self.runtime)
        self.last_response = response

        check_eq(response.status_code, 200, "SendFile HTTP status")
        check(response.body is not None, "SendFile: body is None (the SDK could not map it)")
        check_type(response.body.request_id, str, "SendFile RequestId")
        check(response.body.request_id != "", "SendFile RequestId is empty")
        check_type(response.body.invoke_id, str, "SendFile InvokeId")
        check(
            response.body.invoke_id.startswith("f-"),
            f"SendFile InvokeId {response.body.invoke_id!r} does not start with 'f-'",
        )
        return response.body.invoke_id

    def describe(self, invoke_id, client=None):
        """DescribeSendFileResults by InvokeId; check everything; return (overall, instance)."""
        request = ecs_models.DescribeSendFileResultsRequest(
            region_id=self.region, invoke_id=invoke_id
        )
        response = (client or self.client).describe_send_file_results_with_options(
            request, self.runtime
        )
        self.last_response = response
        self.describes += 1
        return self.check_describe(response, invoke_id)

    def check_describe(self, response, invoke_id):
        what = "DescribeSendFileResults"
        check_eq(response.status_code, 200, f"{what} HTTP status")
        body = response.body
        check(body is not None, f"{what}: body is None (the SDK could not map the JSON)")
        check_type(body.request_id, str, f"{what} RequestId")
        check(body.request_id != "", f"{what} RequestId is empty")
        check_type(body.total_count, int, f"{what} TotalCount")
        check_type(body.page_number, int, f"{what} PageNumber")
        check_type(body.page_size, int, f"{what} PageSize")
        check_eq(body.total_count, 1, f"{what} TotalCount")
        check_eq(body.page_number, 1, f"{what} PageNumber (default)")
        check_eq(body.page_size, 10, f"{what} PageSize (default)")

        check(body.invocations is not None, f"{what}: Invocations is None")
        invocations = body.invocations.invocation
        check_type(invocations, list, f"{what} Invocations.Invocation")
        check_eq(len(invocations), 1, f"{what} number of invocations")
        inv = invocations[0]
        where = f"{what} Invocation"

        check_eq(inv.invoke_id, invoke_id, f"{where}.InvokeId")
        for field in (
            "name",
            "content",
            "content_type",
            "target_dir",
            "file_mode",
            "file_owner",
            "file_group",
            "description",
        ):
            value = getattr(inv, field)
            check_type(value, str, f"{where}.{field}")
            check_eq(value, SENT[field], f"{where}.{field}")
        # The Tea model types Overwrite as a string, but the service's sample JSON (and our
        # server) sends a JSON boolean; Tea Python passes either through unchanged.
        check(
            inv.overwrite is False or inv.overwrite == "false",
            f"{where}.Overwrite: expected False or 'false', got {inv.overwrite!r}",
        )
        check_type(inv.vm_count, int, f"{where}.VmCount")
        check_eq(inv.vm_count, 1, f"{where}.VmCount")
        check_time(inv.creation_time, f"{where}.CreationTime", allow_empty=False)
        check_type(inv.invocation_status, str, f"{where}.InvocationStatus")
        check(
            inv.invocation_status in OVERALL_STATUSES,
            f"{where}.InvocationStatus: unknown status {inv.invocation_status!r}",
        )

        check(inv.invoke_instances is not None, f"{where}.InvokeInstances is None")
        instances = inv.invoke_instances.invoke_instance
        check_type(instances, list, f"{where}.InvokeInstances.InvokeInstance")
        check_eq(len(instances), 1, f"{where} number of instances")
        ins = instances[0]
        iwhere = f"{where}.InvokeInstance"

        check_eq(ins.instance_id, self.args.instance, f"{iwhere}.InstanceId")
        check_type(ins.invocation_status, str, f"{iwhere}.InvocationStatus")
        status = ins.invocation_status
        check(status in INSTANCE_STATUSES, f"{iwhere}.InvocationStatus: unknown {status!r}")
        # One instance: the overall status follows it, the failure family folding to Failed.
        expected_overall = "Failed" if status in TERMINAL_STATUSES - {"Success"} else status
        check_eq(inv.invocation_status, expected_overall, f"{where}.InvocationStatus")

        check_time(ins.creation_time, f"{iwhere}.CreationTime", allow_empty=False)
        check_eq(ins.creation_time, inv.creation_time, f"{iwhere}.CreationTime (= invocation's)")
        check_time(ins.start_time, f"{iwhere}.StartTime", allow_empty=True)
        check_time(ins.finish_time, f"{iwhere}.FinishTime", allow_empty=True)
        check_time(ins.update_time, f"{iwhere}.UpdateTime", allow_empty=False)
        if status == "Pending":
            check_eq(ins.start_time, "", f"{iwhere}.StartTime while Pending")
        else:
            check(ins.start_time != "", f"{iwhere}.StartTime is empty while {status}")
        if status in TERMINAL_STATUSES:
            check(ins.finish_time != "", f"{iwhere}.FinishTime is empty while {status}")
        else:
            check_eq(ins.finish_time, "", f"{iwhere}.FinishTime while {status}")
        # Same fixed-width format, so string order is time order.
        ordered = [ins.creation_time, ins.start_time, ins.finish_time, ins.update_time]
        ordered = [t for t in ordered if t != ""]
        check(
            ordered == sorted(ordered),
            f"{iwhere}: times out of order (creation <= start <= finish <= update): "
            f"creation={ins.creation_time!r} start={ins.start_time!r} "
            f"finish={ins.finish_time!r} update={ins.update_time!r}",
        )

        check_type(ins.error_code, str, f"{iwhere}.ErrorCode")
        check_type(ins.error_info, str, f"{iwhere}.ErrorInfo")
        if status in ("Pending", "Running", "Success"):
            check_eq(ins.error_code, "", f"{iwhere}.ErrorCode while {status}")
            check_eq(ins.error_info, "", f"{iwhere}.ErrorInfo while {status}")
        return inv, ins

    def expect_client_error(self, label, call, code, http_status):
        """`call` must raise the SDK's ClientException with this code and HTTP status."""
        try:
            response = call()
        except ClientException as err:
            check_eq(err.code, code, f"{label}: error code")
            check_eq(err.status_code, http_status, f"{label}: HTTP status (e.status_code)")
            check(isinstance(err.data, dict), f"{label}: e.data is not the error body")
            check_eq(err.data.get("statusCode"), http_status, f"{label}: e.data['statusCode']")
            check_eq(err.data.get("Code"), code, f"{label}: error body Code")
            for key in ("RequestId", "HostId", "Message", "Recommend"):
                check_type(err.data.get(key), str, f"{label}: error body {key}")
            check(err.data["RequestId"] != "", f"{label}: error body RequestId is empty")
            check_eq(
                err.data["HostId"], f"ecs.{self.region}.aliyuncs.com", f"{label}: error HostId"
            )
            return
        except Exception as err:  # noqa: BLE001 - anything else is the failure being tested
            raise CheckFailed(
                f"{label}: expected ClientException {code} (HTTP {http_status}), "
                f"got {type(err).__name__}: {err}"
            )
        raise CheckFailed(
            f"{label}: the bad call was reported as success (HTTP {response.status_code}, "
            f"body {response.body}); expected ClientException {code} (HTTP {http_status})"
        )

    def bad_calls(self):
        def paged(**paging):
            request = ecs_models.DescribeSendFileResultsRequest(region_id=self.region, **paging)
            return self.client.describe_send_file_results_with_options(request, self.runtime)

        # The SDKs send PageSize=0 and 51 as they are (no client-side range check), so the
        # server must reject them itself, with the seed-era HTTP 403.
        self.expect_client_error(
            "DescribeSendFileResults PageSize=0", lambda: paged(page_size=0),
            "InvalidParam.PageSize", 403,
        )
        self.expect_client_error(
            "DescribeSendFileResults PageSize=51", lambda: paged(page_size=51),
            "InvalidParam.PageSize", 403,
        )
        self.expect_client_error(
            "DescribeSendFileResults PageNumber=0", lambda: paged(page_number=0),
            "InvalidParam.PageNumber", 403,
        )

        def send_to(instance_id):
            request = ecs_models.SendFileRequest(
                region_id=self.region, instance_id=[instance_id], name=SENT["name"],
                content=SENT["content"], target_dir=SENT["target_dir"],
            )
            return self.client.send_file_with_options(request, self.runtime)

        # An id that never existed is refused synchronously, without a record.
        self.expect_client_error(
            "SendFile to an unknown instance", lambda: send_to("i-casimnosuchinstance"),
            "InvalidInstance.NotFound", 404,
        )

    def empty_page(self):
        """An InvokeId that was never issued answers an empty page, still wrapped."""
        request = ecs_models.DescribeSendFileResultsRequest(
            region_id=self.region, invoke_id="f-casimnosuchinvoke"
        )
        response = self.client.describe_send_file_results_with_options(request, self.runtime)
        self.last_response = response
        what = "DescribeSendFileResults for an unknown InvokeId"
        check(response.body is not None, f"{what}: body is None")
        check_type(response.body.total_count, int, f"{what} TotalCount")
        check_eq(response.body.total_count, 0, f"{what} TotalCount")
        check(response.body.invocations is not None, f"{what}: Invocations is None")
        check_eq(response.body.invocations.invocation, [], f"{what} Invocations.Invocation")

    def check_file_written(self):
        path = f"{SENT['target_dir']}/{SENT['name']}"
        status, answer = self.control.file(self.args.instance, path)
        what = f"GET /_casim/instances/{self.args.instance}/file?path={path}"
        check_eq(status, 200, f"{what} status (answer {answer!r})")
        check(isinstance(answer, dict), f"{what}: expected an object, got {answer!r}")
        check_eq(answer.get("path"), path, f"{what} path")
        check_type(answer.get("content_base64"), str, f"{what} content_base64")
        try:
            content = base64.b64decode(answer["content_base64"], validate=True).decode()
        except ValueError as err:
            raise CheckFailed(f"{what}: content_base64 does not decode: {err}")
        check_eq(content, SENT["content"], f"{what} decoded content")
        check_eq(answer.get("mode"), SENT["file_mode"], f"{what} mode")
        check_eq(answer.get("owner"), SENT["file_owner"], f"{what} owner")
        check_eq(answer.get("group"), SENT["file_group"], f"{what} group")

    def check_v2_signature(self, invoke_id, v3_instance):
        """The same query signed the classic RPC way (HMAC-SHA1) must give the same record."""
        _, ins = self.describe(invoke_id, client=self._client(signature_algorithm="v2"))
        check_eq(ins.to_map(), v3_instance.to_map(), "V2-signed describe vs V3-signed describe")

    # --- the two modes -----------------------------------------------------------------

    def run_manual(self):
        clock = self.control.clock()
        check_eq(clock.get("mode"), "manual", "GET /_casim/clock mode")
        self.bad_calls()
        self.empty_page()

        invoke_id = self.send_file()
        inv, ins = self.describe(invoke_id)
        check_eq(inv.invocation_status, "Pending", "overall status before the clock moves")
        check_eq(ins.invocation_status, "Pending", "instance status before the clock moves")
        # The clock is frozen, so the record was created exactly at its reading.
        created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(clock["now_ms"] // 1000))
        check_eq(ins.creation_time, created, "CreationTime on a frozen clock")
        status, answer = self.control.file(self.args.instance, "/root/test.txt")
        check_eq(status, 404, f"file read back before the write (answer {answer!r})")

        seen = [ins.invocation_status]
        advanced = 0
        while ins.invocation_status not in TERMINAL_STATUSES:
            check(
                advanced < MANUAL_LIMIT_MILLIS,
                f"no outcome after advancing {advanced} ms; statuses seen {seen}",
            )
            before = self.control.clock()["now_ms"]
            after = self.control.advance(STEP_MILLIS)["now_ms"]
            check_eq(after - before, STEP_MILLIS, "clock movement per advance")
            advanced += STEP_MILLIS
            inv, ins = self.describe(invoke_id)
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(after // 1000))
            check(
                ins.update_time <= now,
                f"UpdateTime {ins.update_time!r} is after the clock {now!r}",
            )
            if ins.invocation_status != seen[-1]:
                seen.append(ins.invocation_status)
        check_eq(seen, HAPPY_PATH, "per-instance statuses observed in 100 ms steps")

        self.check_file_written()
        self.check_v2_signature(invoke_id, ins)
        return {"invoke_id": invoke_id, "statuses": seen, "advanced_ms": advanced}

    def run_wall(self):
        clock = self.control.clock()
        check_eq(clock.get("mode"), "wall", "GET /_casim/clock mode")
        self.bad_calls()
        self.empty_page()

        invoke_id = self.send_file()
        deadline = time.monotonic() + WALL_DEADLINE_SECONDS
        seen = []
        while True:
            _, ins = self.describe(invoke_id)
            if not seen or ins.invocation_status != seen[-1]:
                seen.append(ins.invocation_status)
            if ins.invocation_status in TERMINAL_STATUSES:
                break
            check(
                time.monotonic() < deadline,
                f"no outcome within {WALL_DEADLINE_SECONDS} s; statuses seen {seen}",
            )
            time.sleep(WALL_POLL_SECONDS)
        check_eq(seen[0], "Pending", f"first status seen (all seen: {seen})")
        check_eq(seen[-1], "Success", f"final status (all seen: {seen})")
        # Polling may miss a short Running, but nothing may go backwards or appear twice.
        check(
            all(s in HAPPY_PATH for s in seen)
            and [HAPPY_PATH.index(s) for s in seen] == sorted(HAPPY_PATH.index(s) for s in seen),
            f"statuses out of order: {seen}",
        )

        self.check_file_written()
        self.check_v2_signature(invoke_id, ins)
        return {"invoke_id": invoke_id, "statuses": seen}


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Check casim's SendFile / DescribeSendFileResults through the official "
        "Tea Python SDK. Talks only to 127.0.0.1.",
    )
    parser.add_argument("--mode", choices=["manual", "wall"], required=True,
                        help="the clock the server runs (`casim serve --clock manual` or not)")
    parser.add_argument("--endpoint", required=True, help="127.0.0.1:PORT of `casim serve`")
    parser.add_argument("--instance", required=True, help="a Linux instance id in the fleet")
    parser.add_argument("--region", default="cn-hangzhou", help="the instance's region")
    args = parser.parse_args(argv)
    host, _, port = args.endpoint.partition(":")
    if host != "127.0.0.1" or not port.isdigit():
        parser.error(f"--endpoint {args.endpoint!r}: only 127.0.0.1:PORT is allowed")
    return args


def main(argv):
    args = parse_args(argv)
    checker = Checker(args)
    try:
        result = checker.run_manual() if args.mode == "manual" else checker.run_wall()
    except CheckFailed as failure:
        print(f"FAIL: {failure}", file=sys.stderr)
        if checker.last_response is not None:
            print(f"  last SDK response: {checker.last_response.to_map()}", file=sys.stderr)
        return 1
    except Exception as err:  # noqa: BLE001 - an SDK or network error is a failed check too
        traceback.print_exc()
        print(f"FAIL: unexpected {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    summary = {"ok": True, "mode": args.mode, "instance": args.instance, **result,
               "describes": checker.describes}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
