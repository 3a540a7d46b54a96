"""Schemathesis hooks for scripts/api-fuzz (loaded through SCHEMATHESIS_HOOKS).

Two adjustments to what the fuzzer sends, both before the request goes out (`before_call` sees
every phase: examples, coverage, fuzzing and stateful):

- The fuzzer's own API client is never rotated or deleted. It can learn the client id from
  `GET /v2/api_clients`; rotating that secret or deleting that client ends the bearer token every
  other request carries, and the rest of the run would test nothing but 401s. Such a request is
  sent for an unknown client instead (a 404, which is what a foreign client gets anyway).
- A valid `Idempotency-Key` gets a per-request suffix. Hypothesis draws the same few short keys
  over and over, and the second use of a key with another body is, by design, 422
  `idempotency_key_reused` (docs/API-DESIGN.md): without this most POSTs would stop there.
  Invalid keys (empty, too long, not visible ASCII) are left alone so their 400 is still tested.
"""

import itertools
import os

import schemathesis

OWN_CLIENT = os.environ.get("NP_FUZZ_CLIENT_ID", "")
UNKNOWN_CLIENT = "np_000000000000000000000000"
_sequence = itertools.count(1)


def _is_valid_key(value):
    return isinstance(value, str) and 1 <= len(value) <= 240 and all(
        "\x21" <= ch <= "\x7e" for ch in value
    )


@schemathesis.hook
def before_call(context, case, kwargs):
    params = case.path_parameters
    if OWN_CLIENT and params and params.get("clientId") == OWN_CLIENT:
        params["clientId"] = UNKNOWN_CLIENT
    headers = case.headers
    if headers:
        for name in list(headers):
            if name.lower() == "idempotency-key" and _is_valid_key(headers[name]):
                headers[name] = f"{headers[name]}.{next(_sequence)}"
