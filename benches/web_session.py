#!/usr/bin/env python3
"""Signs in through the pages as a person would (email and password, then the code from the
authenticator app) and prints the session's Cookie header, for wrk on the HTML pages.

    benches/web_session.py BASE_URL EMAIL PASSWORD TOTP_BASE32
"""
import base64
import hashlib
import hmac
import http.cookiejar
import re
import struct
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

base, email, password, secret = sys.argv[1:5]
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))


def hidden(html):
    """The hidden fields of the page's form (CSRF token, one-time form id, next)."""
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


def post(path, fields):
    req = urllib.request.Request(
        base + path, data=urllib.parse.urlencode(fields).encode(), method="POST",
        headers={"Origin": base, "Content-Type": "application/x-www-form-urlencoded"})
    with opener.open(req) as r:
        return r.geturl(), r.read().decode()


def otp():
    key = base64.b32decode(secret)
    mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


def sign_in():
    with opener.open(base + "/sign-in") as r:
        page = r.read().decode()
    url, page = post("/sign-in", {**hidden(page), "email": email, "password": password})
    if url.endswith("/sign-in/code"):
        url, page = post("/sign-in/code", {**hidden(page), "otp": otp()})
    return url


try:
    url = sign_in()
except urllib.error.HTTPError as e:
    # A code is accepted once: when this window's code was just used (a token taken a moment
    # ago), sign in again with the next window's.
    if e.code != 401:
        raise
    time.sleep(30 - time.time() % 30 + 1)
    url = sign_in()
if url.rstrip("/") != base.rstrip("/"):
    sys.exit(f"signing in ended at {url}")
print("; ".join(f"{c.name}={c.value}" for c in jar))
