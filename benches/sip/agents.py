#!/usr/bin/env python3
"""Makes agents in a running Calliope through its HTTP API, for the SIP
benchmark: users FIRST..FIRST+COUNT-1, each with the digest password
"pw<user>" (the same table Kamailio is given).

    agents.py http://127.0.0.1:8080 EMAIL PASSWORD FIRST COUNT

One kept-alive HTTP connection; stops at the first error.
"""

import http.client
import json
import sys
import urllib.parse


def main() -> int:
    base, email, password, first, count = sys.argv[1:6]
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)

    def call(path: str, body: dict, token: str = "") -> dict:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        conn.request("POST", path, json.dumps(body), headers)
        resp = conn.getresponse()
        data = resp.read()
        if resp.status not in (200, 201):
            raise SystemExit(f"POST {path}: {resp.status} {data[:300]!r}")
        return json.loads(data)

    token = call("/v1beta2/auth/login", {"username": email, "password": password})["accessToken"]
    for user in range(int(first), int(first) + int(count)):
        name = str(user)
        cred = call(
            "/v1beta2/credentials",
            {"name": f"bench {name}", "username": name, "password": f"pw{name}"},
            token,
        )
        call(
            "/v1beta2/agents",
            {"name": f"Bench {name}", "username": name, "credentials": {"ref": cred["ref"]}},
            token,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
