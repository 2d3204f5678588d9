"""What the Python SDK checks share: a scrubbed environment, checks, the control API, and the
conformance run that every Python flavour (Tea V3, Tea V2, classic) goes through.

Import this module *before* any Alibaba Cloud SDK: it removes proxy and cloud-credential
variables from the environment at import time, and some SDK modules read the environment when
they are imported.

The conformance run talks to the SDK through an adapter (see `Conformance`), which hands every
response body back as a plain dict: the classic SDK's raw JSON, or the Tea model's `to_map()`,
which rebuilds the dict from the model's attributes exactly as the SDK stored them (Tea Python
copies JSON values without any coercion, drops keys it has no field for, and leaves a missing
key out). So the same value and type checks apply to what each SDK hands its caller.
"""

import base64
import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request


def scrub_environment():
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


scrub_environment()


def loopback_endpoint(endpoint):
    """`127.0.0.1:PORT` or ValueError: nothing else may ever be contacted."""
    host, _, port = endpoint.partition(":")
    if host != "127.0.0.1" or not port.isdigit():
        raise ValueError(f"endpoint {endpoint!r}: only 127.0.0.1:PORT is allowed")
    return endpoint


TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
REQUEST_ID_RE = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")
INVOKE_ID_RE = re.compile(r"^f-[0-9a-f]{18}$")
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

# What the first file sends. The description carries characters that the SDKs percent-encode
# in different ways (Tea Python: `+` for space and `%2A%21%27%28%29`; classic: `%20`; Node:
# `*!'()` raw) and non-ASCII text, so a server that decodes or signs the query wrongly fails
# here rather than with a real user.
SENT = {
    "Name": "test.txt",
    "Content": "echo hello",
    "ContentType": "PlainText",
    "TargetDir": "/root",
    "FileMode": "0644",
    "FileOwner": "root",
    "FileGroup": "root",
    "Overwrite": False,
    "Description": "casim sdk check *~!'() 测试",
}

# Paging needs several records: the first file plus these, each sent one virtual second after
# the one before, so that "newest first" is the reverse of the sending order.
PAGED_FILES = 7
PAGE_SIZE = 3


def paged_file(number):
    """What file `number` (2..PAGED_FILES) sends: only the required parameters, so the
    server's defaults for the rest show up in the results too (see `echoed`)."""
    return {"Name": f"page-{number}.txt", "Content": f"page {number}", "TargetDir": "/tmp"}


# What DescribeSendFileResults echoes for a parameter SendFile left out: the agent's
# defaults (docs/decisions.md), PlainText, no Overwrite and an empty Description.
DEFAULTS = {
    "ContentType": "PlainText",
    "FileMode": "0644",
    "FileOwner": "root",
    "FileGroup": "root",
    "Overwrite": False,
    "Description": "",
}


def echoed(sent):
    """What DescribeSendFileResults must show for a SendFile that sent `sent`."""
    return {**DEFAULTS, **sent}


STEP_MILLIS = 100
# Default delays are dispatch 200-1500 ms then write 100-1000 ms; 60 s of virtual time is far
# beyond that, and bounds the loop if the server never finishes the task.
MANUAL_LIMIT_MILLIS = 60_000

# The keys each object has in the service's JSON. Checked exactly where the SDK hands back
# raw JSON (classic); the Tea SDKs drop unknown keys, so there only the presence is checked.
PAGE_KEYS = {"RequestId", "TotalCount", "PageNumber", "PageSize", "Invocations"}
INVOCATION_KEYS = {
    "InvokeId",
    "Name",
    "Description",
    "Content",
    "ContentType",
    "TargetDir",
    "FileMode",
    "FileOwner",
    "FileGroup",
    "Overwrite",
    "VmCount",
    "CreationTime",
    "InvocationStatus",
    "InvokeInstances",
}
INVOKE_INSTANCE_KEYS = {
    "InstanceId",
    "InvocationStatus",
    "CreationTime",
    "StartTime",
    "FinishTime",
    "UpdateTime",
    "ErrorCode",
    "ErrorInfo",
}
STATUS_KEYS = {
    "RequestId",
    "TotalCount",
    "PageNumber",
    "PageSize",
    "InstanceCloudAssistantStatusSet",
}
AGENT_KEYS = {
    "InstanceId",
    "CloudAssistantStatus",
    "CloudAssistantVersion",
    "ActiveTaskCount",
    "InvocationCount",
    "LastInvokedTime",
    "LastHeartbeatTime",
    "OSType",
    "SupportSessionManager",
}


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


def check_keys(obj, keys, what, exact, optional=()):
    """`obj` is a dict holding `keys`; with `exact`, nothing else but `optional`."""
    check(isinstance(obj, dict), f"{what}: expected an object, got {type(obj).__name__} {obj!r}")
    missing = sorted(keys - obj.keys())
    check(not missing, f"{what}: missing keys {missing} (has {sorted(obj)})")
    if exact:
        extra = sorted(obj.keys() - keys - set(optional))
        check(not extra, f"{what}: unexpected keys {extra}")


def check_request_id(value, what):
    check_type(value, str, what)
    check(REQUEST_ID_RE.match(value) is not None, f"{what}: {value!r} is not an uppercase UUID")


def iso(millis):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(millis // 1000))


class Control:
    """The server's `/_casim/` control API, over urllib with proxies disabled."""

    def __init__(self, endpoint):
        self.base = f"http://{loopback_endpoint(endpoint)}"
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


def check_file_written(control, instance_id, sent):
    """The control API reads back what the agent wrote."""
    path = f"{sent['TargetDir']}/{sent['Name']}"
    status, answer = control.file(instance_id, path)
    what = f"GET /_casim/instances/{instance_id}/file?path={path}"
    check_eq(status, 200, f"{what} status (answer {answer!r})")
    check(isinstance(answer, dict), f"{what}: expected an object, got {answer!r}")
    check_eq(answer.get("path"), path, f"{what} path")
    check_type(answer.get("content_base64"), str, f"{what} content_base64")
    try:
        content = base64.b64decode(answer["content_base64"], validate=True).decode()
    except ValueError as err:
        raise CheckFailed(f"{what}: content_base64 does not decode: {err}")
    check_eq(content, sent["Content"], f"{what} decoded content")
    check_eq(answer.get("mode"), echoed(sent)["FileMode"], f"{what} mode")
    check_eq(answer.get("owner"), echoed(sent)["FileOwner"], f"{what} owner")
    check_eq(answer.get("group"), echoed(sent)["FileGroup"], f"{what} group")


def check_invocation(inv, invoke_id, sent, instance_id, what, exact):
    """One `Invocations.Invocation[]` entry: every field's value and type. Returns the
    instance entry."""
    check_keys(inv, INVOCATION_KEYS, what, exact)
    check(
        "Tags" not in inv,
        f"{what}: Tags present although none were sent (decision: only records with tags)",
    )
    check_type(inv["InvokeId"], str, f"{what}.InvokeId")
    check_eq(inv["InvokeId"], invoke_id, f"{what}.InvokeId")
    for field in (
        "Name",
        "Content",
        "ContentType",
        "TargetDir",
        "FileMode",
        "FileOwner",
        "FileGroup",
        "Description",
    ):
        check_type(inv[field], str, f"{what}.{field}")
        check_eq(inv[field], echoed(sent)[field], f"{what}.{field}")
    # docs/decisions.md: Overwrite is a JSON boolean. The Tea Python model types it as a
    # string but copies JSON values as they are, so it arrives as a bool here too.
    check_type(inv["Overwrite"], bool, f"{what}.Overwrite")
    check_eq(inv["Overwrite"], echoed(sent)["Overwrite"], f"{what}.Overwrite")
    check_type(inv["VmCount"], int, f"{what}.VmCount")
    check_eq(inv["VmCount"], 1, f"{what}.VmCount")
    check_time(inv["CreationTime"], f"{what}.CreationTime", allow_empty=False)
    check_type(inv["InvocationStatus"], str, f"{what}.InvocationStatus")
    check(
        inv["InvocationStatus"] in OVERALL_STATUSES,
        f"{what}.InvocationStatus: unknown status {inv['InvocationStatus']!r}",
    )

    wrapper = inv["InvokeInstances"]
    check_keys(wrapper, {"InvokeInstance"}, f"{what}.InvokeInstances", exact)
    instances = wrapper["InvokeInstance"]
    check_type(instances, list, f"{what}.InvokeInstances.InvokeInstance")
    check_eq(len(instances), 1, f"{what}: number of instances")
    ins = instances[0]
    iwhere = f"{what}.InvokeInstance[0]"
    check_keys(ins, INVOKE_INSTANCE_KEYS, iwhere, exact)
    check_type(ins["InstanceId"], str, f"{iwhere}.InstanceId")
    check_eq(ins["InstanceId"], instance_id, f"{iwhere}.InstanceId")
    status = ins["InvocationStatus"]
    check_type(status, str, f"{iwhere}.InvocationStatus")
    check(status in INSTANCE_STATUSES, f"{iwhere}.InvocationStatus: unknown {status!r}")
    # One instance: the overall status follows it, the failure family folding to Failed.
    expected_overall = "Failed" if status in TERMINAL_STATUSES - {"Success"} else status
    check_eq(inv["InvocationStatus"], expected_overall, f"{what}.InvocationStatus")

    check_time(ins["CreationTime"], f"{iwhere}.CreationTime", allow_empty=False)
    check_eq(ins["CreationTime"], inv["CreationTime"], f"{iwhere}.CreationTime (= invocation's)")
    check_time(ins["StartTime"], f"{iwhere}.StartTime", allow_empty=True)
    check_time(ins["FinishTime"], f"{iwhere}.FinishTime", allow_empty=True)
    check_time(ins["UpdateTime"], f"{iwhere}.UpdateTime", allow_empty=False)
    if status == "Pending":
        check_eq(ins["StartTime"], "", f"{iwhere}.StartTime while Pending")
    else:
        check(ins["StartTime"] != "", f"{iwhere}.StartTime is empty while {status}")
    if status in TERMINAL_STATUSES:
        check(ins["FinishTime"] != "", f"{iwhere}.FinishTime is empty while {status}")
    else:
        check_eq(ins["FinishTime"], "", f"{iwhere}.FinishTime while {status}")
    # Same fixed-width format, so string order is time order.
    times = [ins["CreationTime"], ins["StartTime"], ins["FinishTime"], ins["UpdateTime"]]
    times = [t for t in times if t != ""]
    check(
        times == sorted(times),
        f"{iwhere}: times out of order (creation <= start <= finish <= update): {ins!r}",
    )
    check_type(ins["ErrorCode"], str, f"{iwhere}.ErrorCode")
    check_type(ins["ErrorInfo"], str, f"{iwhere}.ErrorInfo")
    if status in ("Pending", "Running", "Success"):
        check_eq(ins["ErrorCode"], "", f"{iwhere}.ErrorCode while {status}")
        check_eq(ins["ErrorInfo"], "", f"{iwhere}.ErrorInfo while {status}")
    return ins


def check_page_body(body, what, exact, token):
    """The top level of a DescribeSendFileResults answer; returns the invocation list."""
    check(body is not None, f"{what}: body is None (the SDK could not map the JSON)")
    check_keys(body, PAGE_KEYS | ({"NextToken"} if token else set()), what, exact)
    check_request_id(body["RequestId"], f"{what} RequestId")
    for field in ("TotalCount", "PageNumber", "PageSize"):
        check_type(body[field], int, f"{what} {field}")
    if token:
        check_type(body["NextToken"], str, f"{what} NextToken")
        # docs/decisions.md: in token paging TotalCount is 0.
        check_eq(body["TotalCount"], 0, f"{what} TotalCount in token paging")
    else:
        # docs/decisions.md: NextToken only in token paging.
        check("NextToken" not in body, f"{what}: NextToken present in page paging: {body!r}")
    check_keys(body["Invocations"], {"Invocation"}, f"{what} Invocations", exact)
    invocations = body["Invocations"]["Invocation"]
    check_type(invocations, list, f"{what} Invocations.Invocation")
    return invocations


def check_error(err, what, code, http_status, region, envelope):
    """A normalized SDK error (`SdkError`) has this code and HTTP status; with `envelope`
    (the SDK hands back the whole error body) also the HostId and Recommend."""
    check(err is not None, f"{what}: the call succeeded; expected {code} (HTTP {http_status})")
    check_eq(err.code, code, f"{what}: error code ({err})")
    check_eq(err.http_status, http_status, f"{what}: HTTP status ({err})")
    check_request_id(err.request_id, f"{what}: error RequestId")
    check_type(err.message, str, f"{what}: error Message")
    check(err.message != "", f"{what}: error Message is empty")
    if envelope:
        check_eq(err.host_id, f"ecs.{region}.aliyuncs.com", f"{what}: error HostId")
        check_type(err.recommend, str, f"{what}: error Recommend")
        check(err.recommend.startswith("https://"), f"{what}: Recommend {err.recommend!r}")


class SdkError:
    """An SDK exception, reduced to what every flavour can tell."""

    def __init__(self, kind, code, http_status, message, request_id, host_id=None,
                 recommend=None):
        self.kind = kind
        self.code = code
        self.http_status = http_status
        self.message = message
        self.request_id = request_id
        self.host_id = host_id
        self.recommend = recommend

    def __str__(self):
        return (f"{self.kind} code={self.code!r} http={self.http_status!r} "
                f"message={self.message!r} request_id={self.request_id!r}")


SIGNATURE_MESSAGE = (
    "Specified signature is not matched with our calculation. server string to sign is:"
)


def check_string_to_sign(sts, signature, what):
    """The string to sign the server echoes in SignatureDoesNotMatch has the scheme's shape."""
    if signature == "v3":
        check(
            re.fullmatch(r"ACS3-HMAC-SHA256\n[0-9a-f]{64}", sts) is not None,
            f"{what}: server string to sign {sts!r} is not ACS3-HMAC-SHA256\\n<sha256 hex>",
        )
    else:
        check(sts.startswith("POST&%2F&"), f"{what}: server string to sign {sts!r}")
        for part in ("AccessKeyId%3Dtestid", "Action%3DDescribeSendFileResults",
                     "SignatureMethod%3DHMAC-SHA1", "Version%3D2014-05-26"):
            check(part in sts, f"{what}: server string to sign lacks {part}: {sts!r}")


class Conformance:
    """The run every flavour goes through against `casim serve --clock manual --access-keys
    testid:testsecret`, freshly started (the paging counts assume no other records).

    `api` is the flavour's adapter:
      exact                       True when bodies are the raw JSON (check exact key sets)
      full_error_envelope         True when errors carry the whole body (HostId, Recommend)
      send_file(sent, instance)   -> body dict
      describe(params)            -> body dict; params in the service's names
      status(instance_ids)        -> DescribeCloudAssistantStatus body dict
      error(call)                 -> SdkError raised by call(), or None if it succeeded
      check_wrong_secret()        a client with a wrong secret is rejected as it should be
      cross_check(invoke_id, ins) optional: the other signature scheme sees the same record
    """

    def __init__(self, api, control, instance, region):
        self.api = api
        self.control = control
        self.instance = instance
        self.region = region
        self.exact = api.exact
        self.calls = 0

    def describe(self, what, **params):
        self.calls += 1
        return self.api.describe(params), what

    # --- the parts -----------------------------------------------------------------------

    def agent_status(self, when):
        """DescribeCloudAssistantStatus for the instance; returns its entry."""
        what = f"DescribeCloudAssistantStatus {when}"
        self.calls += 1
        body = self.api.status([self.instance])
        check(body is not None, f"{what}: body is None (the SDK could not map the JSON)")
        check_keys(body, STATUS_KEYS, what, self.exact)
        check_request_id(body["RequestId"], f"{what} RequestId")
        for field in ("TotalCount", "PageNumber", "PageSize"):
            check_type(body[field], int, f"{what} {field}")
        check_eq(body["TotalCount"], 1, f"{what} TotalCount")
        wrapper = body["InstanceCloudAssistantStatusSet"]
        check_keys(wrapper, {"InstanceCloudAssistantStatus"}, f"{what} set", self.exact)
        entries = wrapper["InstanceCloudAssistantStatus"]
        check_type(entries, list, f"{what} InstanceCloudAssistantStatus")
        check_eq(len(entries), 1, f"{what}: number of entries")
        agent = entries[0]
        where = f"{what} entry"
        check_keys(agent, AGENT_KEYS, where, self.exact)
        check_eq(agent["InstanceId"], self.instance, f"{where}.InstanceId")
        # A string, "true"/"false", in every SDK model, not a JSON boolean.
        check_type(agent["CloudAssistantStatus"], str, f"{where}.CloudAssistantStatus")
        check_eq(agent["CloudAssistantStatus"], "true", f"{where}.CloudAssistantStatus")
        check_type(agent["SupportSessionManager"], bool, f"{where}.SupportSessionManager")
        check_type(agent["CloudAssistantVersion"], str, f"{where}.CloudAssistantVersion")
        check(
            re.fullmatch(r"\d+(\.\d+){3}", agent["CloudAssistantVersion"]) is not None,
            f"{where}.CloudAssistantVersion {agent['CloudAssistantVersion']!r}",
        )
        check_type(agent["OSType"], str, f"{where}.OSType")
        check_eq(agent["OSType"], "Linux", f"{where}.OSType")
        check_type(agent["ActiveTaskCount"], int, f"{where}.ActiveTaskCount")
        check_type(agent["InvocationCount"], int, f"{where}.InvocationCount")
        check_time(agent["LastHeartbeatTime"], f"{where}.LastHeartbeatTime", allow_empty=False)
        check_time(agent["LastInvokedTime"], f"{where}.LastInvokedTime", allow_empty=True)
        return agent

    def bad_calls(self):
        # The SDKs send PageSize=0 and 51 as they are (no client-side range check), so the
        # server must reject them itself, with the seed-era HTTP 403.
        bad = [
            ("PageSize=0", lambda: self.api.describe({"PageSize": 0}),
             "InvalidParam.PageSize", 403),
            ("PageSize=51", lambda: self.api.describe({"PageSize": 51}),
             "InvalidParam.PageSize", 403),
            ("PageNumber=0", lambda: self.api.describe({"PageNumber": 0}),
             "InvalidParam.PageNumber", 403),
            # An id that never existed is refused synchronously, without a record.
            ("SendFile to an unknown instance",
             lambda: self.api.send_file(paged_file(0), "i-casimnosuchinstance"),
             "InvalidInstance.NotFound", 404),
        ]
        for what, call, code, http_status in bad:
            self.calls += 1
            check_error(self.api.error(call), what, code, http_status, self.region,
                        self.api.full_error_envelope)
        self.calls += 1
        self.api.check_wrong_secret()

    def empty_page(self):
        """An InvokeId that was never issued answers an empty page, still wrapped."""
        body, what = self.describe(
            "DescribeSendFileResults for an unknown InvokeId", InvokeId="f-000000000000000000"
        )
        invocations = check_page_body(body, what, self.exact, token=False)
        check_eq(body["TotalCount"], 0, f"{what} TotalCount")
        check_eq(invocations, [], f"{what} Invocations.Invocation")

    def by_invoke_id(self, invoke_id, sent):
        body, what = self.describe("DescribeSendFileResults by InvokeId", InvokeId=invoke_id)
        invocations = check_page_body(body, what, self.exact, token=False)
        check_eq(body["TotalCount"], 1, f"{what} TotalCount")
        check_eq(body["PageNumber"], 1, f"{what} PageNumber (default)")
        check_eq(body["PageSize"], 10, f"{what} PageSize (default)")
        check_eq(len(invocations), 1, f"{what}: number of invocations")
        ins = check_invocation(invocations[0], invoke_id, sent, self.instance,
                               f"{what} Invocation[0]", self.exact)
        return invocations[0], ins

    def lifecycle(self):
        """SendFile, then Pending -> Running -> Success in 100 ms steps of the clock."""
        clock = self.control.clock()
        self.calls += 1
        body = self.api.send_file(SENT, self.instance)
        invoke_id = check_send_file(body, self.exact)
        inv, ins = self.by_invoke_id(invoke_id, SENT)
        check_eq(ins["InvocationStatus"], "Pending", "instance status before the clock moves")
        # The clock is frozen, so the record was created exactly at its reading.
        check_eq(ins["CreationTime"], iso(clock["now_ms"]), "CreationTime on a frozen clock")
        check_eq(ins["UpdateTime"], ins["CreationTime"], "UpdateTime while Pending")
        path = f"{SENT['TargetDir']}/{SENT['Name']}"
        status, answer = self.control.file(self.instance, path)
        check_eq(status, 404, f"file read back before the write (answer {answer!r})")

        seen = [ins["InvocationStatus"]]
        advanced = 0
        while ins["InvocationStatus"] not in TERMINAL_STATUSES:
            check(
                advanced < MANUAL_LIMIT_MILLIS,
                f"no outcome after advancing {advanced} ms; statuses seen {seen}",
            )
            before = self.control.clock()["now_ms"]
            after = self.control.advance(STEP_MILLIS)["now_ms"]
            check_eq(after - before, STEP_MILLIS, "clock movement per advance")
            advanced += STEP_MILLIS
            inv, ins = self.by_invoke_id(invoke_id, SENT)
            check(
                ins["UpdateTime"] <= iso(after),
                f"UpdateTime {ins['UpdateTime']!r} is after the clock {iso(after)!r}",
            )
            if ins["InvocationStatus"] != seen[-1]:
                seen.append(ins["InvocationStatus"])
        check_eq(seen, HAPPY_PATH, "per-instance statuses observed in 100 ms steps")
        check_file_written(self.control, self.instance, SENT)
        if hasattr(self.api, "cross_check"):
            self.calls += 1
            self.api.cross_check(invoke_id, inv)
        return invoke_id, seen, advanced

    def send_more(self):
        """Files 2..PAGED_FILES, one virtual second apart; returns [(invoke_id, sent)]."""
        sent_files = []
        for number in range(2, PAGED_FILES + 1):
            self.control.advance(1000)
            sent = paged_file(number)
            self.calls += 1
            invoke_id = check_send_file(self.api.send_file(sent, self.instance), self.exact)
            sent_files.append((invoke_id, sent))
        return sent_files

    def page_paging(self, expected):
        """PageSize=3, PageNumber 1.. until a short page; `expected` is newest first."""
        seen, sizes = [], []
        number = 1
        while True:
            body, what = self.describe(
                f"DescribeSendFileResults PageNumber={number} PageSize={PAGE_SIZE}",
                PageNumber=number, PageSize=PAGE_SIZE,
            )
            invocations = check_page_body(body, what, self.exact, token=False)
            check_eq(body["TotalCount"], PAGED_FILES, f"{what} TotalCount")
            check_eq(body["PageNumber"], number, f"{what} PageNumber")
            check_eq(body["PageSize"], PAGE_SIZE, f"{what} PageSize")
            self.check_entries(invocations, expected, what)
            seen += [inv["InvokeId"] for inv in invocations]
            sizes.append(len(invocations))
            if len(invocations) < PAGE_SIZE:
                break
            check(number < 10, f"page paging did not end: sizes {sizes}")
            number += 1
        check_eq(sizes, [3, 3, 1], "page sizes with PageSize=3")
        check_eq(len(set(seen)), len(seen), f"duplicates across pages: {seen}")
        check_eq(seen, [invoke_id for invoke_id, _ in expected],
                 "InvokeIds over all pages (newest CreationTime first)")
        # Past the last page: an empty page, not an error.
        body, what = self.describe("DescribeSendFileResults PageNumber=4 PageSize=3",
                                   PageNumber=4, PageSize=PAGE_SIZE)
        check_eq(check_page_body(body, what, self.exact, token=False), [], what)
        check_eq(body["TotalCount"], PAGED_FILES, f"{what} TotalCount")
        return sizes

    def token_paging(self, expected):
        """MaxResults=3, then NextToken until it comes back empty."""
        seen, sizes, tokens = [], [], []
        token = None
        while True:
            params = {"MaxResults": PAGE_SIZE}
            if token is not None:
                params["NextToken"] = token
            body, what = self.describe(
                f"DescribeSendFileResults MaxResults={PAGE_SIZE} page {len(sizes) + 1}",
                **params,
            )
            invocations = check_page_body(body, what, self.exact, token=True)
            self.check_entries(invocations, expected, what)
            seen += [inv["InvokeId"] for inv in invocations]
            sizes.append(len(invocations))
            token = body["NextToken"]
            if len(seen) >= PAGED_FILES:
                check_eq(token, "", f"{what}: NextToken on the last page")
                break
            check(token != "", f"{what}: NextToken empty after {len(seen)} of {PAGED_FILES}")
            check(token not in tokens, f"{what}: NextToken {token!r} repeats")
            check(len(sizes) < 10, f"token paging did not end: sizes {sizes}")
            tokens.append(token)
        check_eq(sizes, [3, 3, 1], "token page sizes with MaxResults=3")
        check_eq(sorted(seen), sorted(invoke_id for invoke_id, _ in expected),
                 "union of token pages (all records, each once)")
        check_eq(seen, [invoke_id for invoke_id, _ in expected],
                 "InvokeIds over all token pages (newest CreationTime first)")
        return sizes

    def check_entries(self, invocations, expected, what):
        by_id = dict(expected)
        for index, inv in enumerate(invocations):
            check(isinstance(inv, dict), f"{what} Invocation[{index}]: {inv!r}")
            invoke_id = inv.get("InvokeId")
            check(invoke_id in by_id, f"{what} Invocation[{index}]: unknown InvokeId {invoke_id!r}")
            check_invocation(inv, invoke_id, by_id[invoke_id], self.instance,
                             f"{what} Invocation[{index}]", self.exact)

    def run(self):
        clock = self.control.clock()
        check_eq(clock.get("mode"), "manual", "GET /_casim/clock mode")
        before = self.agent_status("before any send")
        check_eq(before["ActiveTaskCount"], 0, "ActiveTaskCount before any send")
        check_eq(before["InvocationCount"], 0, "InvocationCount before any send")
        check_eq(before["LastInvokedTime"], "", "LastInvokedTime before any send")

        self.bad_calls()
        self.empty_page()
        invoke_id, statuses, advanced = self.lifecycle()
        expected = [(invoke_id, SENT)] + self.send_more()
        expected.reverse()
        pages = self.page_paging(expected)
        token_pages = self.token_paging(expected)

        # Let everything finish; then no task is active on the instance.
        self.control.advance(MANUAL_LIMIT_MILLIS)
        after = self.agent_status("after every file finished")
        check_eq(after["ActiveTaskCount"], 0, "ActiveTaskCount after every file finished")
        check(after["LastInvokedTime"] != "", "LastInvokedTime empty after sends")
        check(after["InvocationCount"] >= before["InvocationCount"], "InvocationCount fell")
        return {
            "invoke_id": invoke_id,
            "statuses": statuses,
            "advanced_ms": advanced,
            "pages": pages,
            "token_pages": token_pages,
            "sdk_calls": self.calls,
        }


def check_send_file(body, exact):
    what = "SendFile"
    check(body is not None, f"{what}: body is None (the SDK could not map it)")
    check_keys(body, {"RequestId", "InvokeId"}, what, exact)
    check_request_id(body["RequestId"], f"{what} RequestId")
    check_type(body["InvokeId"], str, f"{what} InvokeId")
    check(INVOKE_ID_RE.match(body["InvokeId"]) is not None,
          f"{what} InvokeId {body['InvokeId']!r} is not f- and 18 lowercase hex digits")
    return body["InvokeId"]
