#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/<target>/ (run from anywhere).

The seeds are committed; this script documents where they came from and
rebuilds them. Every file is a small, valid input for its target.
"""
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus")


def crlf(text):
    return text.replace("\n", "\r\n").encode()


SDP_OFFER = crlf("""v=0
o=alice 2890844526 2890844526 IN IP4 192.0.2.101
s=-
c=IN IP4 192.0.2.101
t=0 0
m=audio 49172 RTP/AVP 0 8 101
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-16
a=ptime:20
a=sendrecv
""")

SDP_ANSWER_HOLD = crlf("""v=0
o=- 1 2 IN IP6 2001:db8::10
s=Calliope
i=on hold
c=IN IP6 2001:db8::10
b=AS:64
t=0 0
a=tool:calliope
m=audio 40000 RTP/AVP 8 96
a=rtpmap:8 PCMA/8000
a=rtpmap:96 telephone-event/8000
a=fmtp:96 0-15
a=rtcp:40001 IN IP6 2001:db8::10
a=sendonly
m=video 0 RTP/AVP 97
""")

# LF-only line ends, as some phones send.
SDP_LF = b"v=0\no=- 3 3 IN IP4 10.0.0.2\ns=-\nt=0 0\nm=audio 10000 RTP/AVP 0\nc=IN IP4 10.0.0.2\na=inactive\n"

INVITE = crlf("""INVITE sip:bob@biloxi.example.com SIP/2.0
Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;rport
Max-Forwards: 70
To: Bob <sip:bob@biloxi.example.com>
From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.atlanta.example.com
CSeq: 314159 INVITE
Contact: <sip:alice@pc33.atlanta.example.com;transport=udp>
Route: <sip:p1.example.com;lr>, <sip:p2.example.com;lr>
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS
Supported: timer, replaces
Content-Type: application/sdp
Content-Length: %d

""") 
INVITE = (INVITE.decode() % len(SDP_OFFER)).encode() + SDP_OFFER

REGISTER = crlf("""REGISTER sip:calliope.example.com SIP/2.0
Via: SIP/2.0/TCP 192.0.2.7:5060;branch=z9hG4bKreg2
Max-Forwards: 70
From: <sip:1001@calliope.example.com>;tag=reg77
To: <sip:1001@calliope.example.com>
Call-ID: 843817637684230@998sdasdh09
CSeq: 2 REGISTER
Contact: <sip:1001@192.0.2.7:5060;transport=tcp>;expires=3600;q=0.7
Authorization: Digest username="1001", realm="calliope.example.com", nonce="MTcwMDAwMDAwMDpkZWFkYmVlZg", uri="sip:calliope.example.com", response="6629fae49393a05397450978507c4ef1", algorithm=MD5, cnonce="0a4f113b", opaque="5ccc069c403ebaf9f0171e9517f40e41", qop=auth, nc=00000001
User-Agent: baresip v3
Expires: 3600
Content-Length: 0

""")

UNREGISTER = crlf("""REGISTER sips:calliope.example.com SIP/2.0
v: SIP/2.0/TLS client.example.com:5061;branch=z9hG4bKu1,
 SIP/2.0/TCP proxy.example.com;branch=z9hG4bK2
f: sip:1001@calliope.example.com;tag=x
t: sip:1001@calliope.example.com
i: unreg-1
CSeq: 3 REGISTER
m: *
Expires: 0
Proxy-Authorization: Digest username="1001", realm="calliope.example.com", nonce="abc", uri="sips:calliope.example.com", response="0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", algorithm=SHA-256, cnonce="c", qop=auth, nc=0000000a
l: 0

""")

UNAUTHORIZED = crlf("""SIP/2.0 401 Unauthorized
Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bKreg1;received=198.51.100.4;rport=40123
From: <sip:1001@calliope.example.com>;tag=reg77
To: <sip:1001@calliope.example.com>;tag=as83kd9b
Call-ID: 843817637684230@998sdasdh09
CSeq: 1 REGISTER
WWW-Authenticate: Digest realm="calliope.example.com", nonce="MTcwMDAwMDAwMDpkZWFkYmVlZg", opaque="5ccc069c", algorithm=SHA-256, qop="auth"
WWW-Authenticate: Digest realm="calliope.example.com", nonce="MTcwMDAwMDAwMDpkZWFkYmVlZg", opaque="5ccc069c", algorithm=MD5, qop="auth", stale=TRUE
Content-Length: 0

""")

OK_ANSWER = crlf("""SIP/2.0 200 OK
Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds;rport=5060;received=192.0.2.101
Record-Route: <sip:calliope.example.com;lr>
To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf
From: "Alice" <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.atlanta.example.com
CSeq: 314159 INVITE
Contact: <sip:bob@192.0.2.4>
c: application/sdp
l: %d

""")
OK_ANSWER = (OK_ANSWER.decode() % len(SDP_ANSWER_HOLD)).encode() + SDP_ANSWER_HOLD

RINGING = crlf("""SIP/2.0 180 Ringing
Via: SIP/2.0/UDP [2001:db8::9]:5070;branch=z9hG4bKr
From: <sip:alice@atlanta.example.com>;tag=1
To: <sip:bob@biloxi.example.com>;tag=2
Call-ID: ring@[2001:db8::9]
CSeq: 1 INVITE
Content-Length: 0

""")

BYE = crlf("""BYE sip:alice@pc33.atlanta.example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.4;branch=z9hG4bKnashds10
Max-Forwards: 70
From: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf
To: Alice <sip:alice@atlanta.example.com>;tag=1928301774
Call-ID: a84b4c76e66710@pc33.atlanta.example.com
CSeq: 231 BYE
Content-Length: 0

""")

OPTIONS_LF = b"OPTIONS sip:calliope.example.com SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK74bf9\nFrom: <sip:monitor@example.com>;tag=9fxced76sl\nTo: <sip:calliope.example.com>\nCall-ID: 3848276298220188511@192.0.2.1\nCSeq: 1 OPTIONS\nMax-Forwards: 70\nAccept: application/sdp\n\n"

MESSAGE_TEL = crlf("""MESSAGE tel:+1-201-555-0123;phone-context=example.com SIP/2.0
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKm
From: "Anon \\"y\\"" <sip:anonymous@anonymous.invalid>;tag=9
To: <tel:+1-201-555-0123>
Call-ID: m1
CSeq: 7 MESSAGE
Subject: folded
  over lines
Content-Type: text/plain;charset=utf-8
Content-Length: 5

Hello""")

SIP = {
    "invite-sdp": INVITE,
    "register-auth": REGISTER,
    "unregister-compact": UNREGISTER,
    "401-challenge": UNAUTHORIZED,
    "200-sdp": OK_ANSWER,
    "180-ipv6": RINGING,
    "bye": BYE,
    "options-lf": OPTIONS_LF,
    "message-tel": MESSAGE_TEL,
}

STREAMS = {
    "register-then-bye": REGISTER + BYE,
    "keepalive-invite-ping": b"\r\n\r\n" + INVITE + b"\r\n\r\n" + RINGING,
    "partial-tail": OK_ANSWER + BYE[:60],
}

DIGEST = {
    "authorization-md5": b'Digest username="1001", realm="calliope.example.com", nonce="MTcwMDAwMDAwMDpkZWFkYmVlZg", uri="sip:calliope.example.com", response="6629fae49393a05397450978507c4ef1", algorithm=MD5, cnonce="0a4f113b", opaque="5ccc069c", qop=auth, nc=00000001',
    "authorization-sha256": b'Digest username="a\\"b", realm="r", nonce="n", uri="sip:x@[2001:db8::1]", response="0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", algorithm=SHA-256-sess, cnonce="c", qop="auth", nc=ffffffff',
    "authorization-rfc2069": b'Digest username="u", realm="r", nonce="n", uri="sip:r", response="0f"',
    "challenge-sha256": b'Digest realm="calliope.example.com", nonce="MTcwMDAwMDAwMDpkZWFkYmVlZg", opaque="5ccc069c", algorithm=SHA-256, qop="auth"',
    "challenge-stale": b'Digest realm="r", nonce="n", algorithm=MD5, qop="auth,auth-int", stale=TRUE',
}


def rtp(pt, seq, ts, ssrc, payload, marker=False, csrcs=(), ext=None, padding=0):
    b0 = 0x80 | len(csrcs) | (0x20 if padding else 0) | (0x10 if ext else 0)
    out = struct.pack("!BBHII", b0, (0x80 if marker else 0) | pt, seq, ts, ssrc)
    for c in csrcs:
        out += struct.pack("!I", c)
    if ext:
        profile, data = ext
        out += struct.pack("!HH", profile, len(data) // 4) + data
    out += payload
    if padding:
        out += b"\0" * (padding - 1) + bytes([padding])
    return out


def dtmf(event, end, volume, duration):
    return struct.pack("!BBH", event, (0x80 if end else 0) | volume, duration)


RTP = {
    "pcmu-20ms": rtp(0, 1, 160, 0x1234ABCD, bytes(range(0x7F, 0xFF)) + bytes(32)),
    "pcma-marker": rtp(8, 65535, 4294967200, 7, b"\xd5" * 40, marker=True),
    "csrc-ext-padding": rtp(8, 99, 123456, 0xDEADBEEF, b"\xff" * 20, csrcs=(1, 2, 3),
                            ext=(0xBEDE, b"\x10\x01\x00\x00\x22\x01\x02\x00"), padding=4),
    "telephone-event": rtp(101, 7, 8000, 42, dtmf(5, False, 10, 400), marker=True),
}

DTMF = {
    "digit-5": dtmf(5, False, 10, 400),
    "hash-end-reserved": bytes([0x0B, 0xFF, 0x06, 0x40]),
    "flash-two-events": dtmf(16, True, 63, 65535) + dtmf(1, False, 0, 0),
}


def rtcp(pt, count, body, padding=0):
    if padding:
        body = body + b"\0" * (padding - 1) + bytes([padding])
    assert len(body) % 4 == 0
    return struct.pack("!BBH", 0x80 | (0x20 if padding else 0) | count, pt, len(body) // 4) + body


def block(ssrc, fraction, lost, highest, jitter, lsr, dlsr):
    return struct.pack("!IB", ssrc, fraction) + (lost & 0xFFFFFF).to_bytes(3, "big") + struct.pack("!IIII", highest, jitter, lsr, dlsr)


def sdes_cname(ssrc, cname):
    items = bytes([1, len(cname)]) + cname + b"\0"
    items += b"\0" * (-len(items) % 4)
    return rtcp(202, 1, struct.pack("!I", ssrc) + items)


SR = rtcp(200, 1, struct.pack("!IIIIII", 1, 0xE8F0A1B2, 0x80000000, 160000, 50, 8000) + block(2, 3, -4, 70000, 12, 0xA1B28000, 6554))
RR = rtcp(201, 2, struct.pack("!I", 1) + block(2, 0, 0, 1000, 5, 0, 0) + block(3, 255, 0x7FFFFF, 5, 0, 1, 2))
BYE_PKT = rtcp(203, 2, struct.pack("!II", 1, 2) + bytes([4]) + b"done" + b"\0\0\0")
APP = rtcp(204, 1, struct.pack("!I", 1) + b"NAMEdata", padding=4)

RTCP = {
    "sr-sdes": SR + sdes_cname(1, b"user@host"),
    "rr-bye": RR + BYE_PKT,
    "reduced-size-app": APP,
}


def wav(tag, bits, rate, data, extensible=False, extra_chunk=b"", channels=1):
    width = bits // 8 * channels
    if extensible:
        fmt = struct.pack("<HHIIHHHHI", 0xFFFE, channels, rate, rate * width, width, bits, 22, bits, 4)
        fmt += struct.pack("<H", tag) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    else:
        fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * width, width, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra_chunk
    body += b"data" + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b"")
    return b"RIFF" + struct.pack("<I", len(body)) + body


PCM = b"".join(struct.pack("<h", s) for s in (0, 1000, 3000, 5000, 3000, 1000, -1000, -32768, 32767, -1))
WAV = {
    "pcm16-8k": wav(1, 16, 8000, PCM),
    "ulaw-list-chunk": wav(7, 8, 8000, b"\xff\x00\x80\x7f\x10", extra_chunk=b"LIST\x03\x00\x00\x00abc\x00"),
    "alaw": wav(6, 8, 8000, b"\xd5\x55\x2a\xaa"),
    "extensible-pcm-48k": wav(1, 16, 48000, PCM[:8], extensible=True),
    "stereo-pcm16-44k": wav(1, 16, 44100, PCM, channels=2),
    "pcm8-11k": wav(1, 8, 11025, b"\x80\xff\x00\x40\xc0"),
}

TONE_STREAM = {
    "us-ring": b"tone_stream://%(2000,4000,440,480)",
    "stutter": b"L=3;%(100,100,350,440)",
    "loops-forever": b"%(100,15000,800);loops=-1",
    "mixed": b"v=-20;l=2;%(5000,0,450);1234;%(1000,4000,450)",
    "keys-with-times": b"d=200;w=10;7(1000,500)#*",
}

# Voice application scripts (examples of the seeds and of each dialect's docs).
PROGRAM_FONOSTER = {
    "seed-answer": b'{"commands":[{"say":{"text":"Hello, welcome to our service!"}},'
    b'{"gather":{"source":"speech","timeout":5000,"finishOnKey":"#"}},{"hangup":{}}]}',
    "every-verb": b'{"commands":[{"answer":{}},{"say":{"text":"Hello world","voice":"en-US-Wavenet-D"}},'
    b'{"play":{"url":"https://example.com/audio.wav"}},{"playDtmf":{"digits":"12#"}},'
    b'{"gather":{"source":"speech,dtmf","maxDigits":4,"hints":["yes","no"]}},'
    b'{"record":{"timeout":30000,"finishOnKey":"#","maxDuration":60000}},'
    b'{"dial":{"destination":"+1234567890","timeout":30000}},{"mute":{"direction":"IN"}},{"unmute":{}},'
    b'{"stream":{"url":"wss://example.com/s"}},{"pause":{"time":500}},{"redirect":{"url":"https://example.com/n"}}]}',
}
PROGRAM_NCCO = {
    "talk-input-connect": b'[{"action":"talk","text":"Press 1","bargeIn":true,"loop":2},'
    b'{"action":"input","type":["dtmf","speech"],"dtmf":{"maxDigits":1,"timeOut":5,"submitOnHash":true},'
    b'"speech":{"context":["sales"],"endOnSilence":1.5},"eventUrl":["https://example.com/dtmf"]},'
    b'{"action":"connect","from":"447700900000","endpoint":[{"type":"app","user":"alice"}]}]',
    "record-stream-notify": b'[{"action":"record","endOnSilence":3,"endOnKey":"#","beepStart":true},'
    b'{"action":"stream","streamUrl":["https://example.com/music.wav"],"loop":0},{"action":"wait","timeout":0.5},'
    b'{"action":"notify","payload":{"foo":"bar"},"eventUrl":["https://example.com/n"]},'
    b'{"action":"connect","eventType":"synchronous","endpoint":[{"type":"sip","uri":"sip:bob@example.com"}]},'
    b'{"action":"connect","endpoint":[{"type":"websocket","uri":"wss://example.com/ws","content-type":"audio/l16;rate=16000"}]}]',
}
PROGRAM_TWIML = {
    "gather-say": b'<?xml version="1.0" encoding="UTF-8"?><Response><Gather input="speech dtmf" numDigits="1" '
    b'action="/handle" hints="sales, support"><Say voice="alice">Press 1 &amp; go</Say><Pause length="1"/></Gather>'
    b'<Say>Goodbye</Say><Hangup/></Response>',
    "record-dial-connect": b'<Response><Record maxLength="20" finishOnKey="#"/><Dial timeout="10" action="/d">'
    b'<Number>+15558675310</Number><Sip>sip:bob@example.com</Sip></Dial><Play digits="1w2"/>'
    b'<Redirect method="GET">https://example.com/next</Redirect><Reject reason="busy"/>'
    b'<Connect><Stream url="wss://example.com/a"><Parameter name="k" value="v"/></Stream></Connect></Response>',
}
PROGRAM_BLOCK = {
    "answer-say-ivr": b'<xml xmlns="https://developers.google.com/blockly/xml"><block type="answer"><next>'
    b'<block type="say"><field name="TEXT">Welcome</field><next><block type="wait"><field name="MS">500</field>'
    b'<next><block type="ivr"><field name="ID">1</field></block></next></block></next></block></next></block></xml>',
    "play-dial-record": b'<xml><block type="play"><field name="SOUND">tone_stream://%(1000,0,640)</field><next>'
    b'<block type="dial"><field name="DEST">sip:bob@example.com</field><field name="TIMEOUT">20</field><next>'
    b'<block type="record"><field name="MAX">30</field></block></next></block></next></block></xml>',
}

CORPORA = {
    "sip_message": SIP,
    "sip_frame": {k: v for k, v in list(STREAMS.items()) + [("bye", BYE)]},
    "sdp": {"offer": SDP_OFFER, "answer-hold-ipv6": SDP_ANSWER_HOLD, "lf-inactive": SDP_LF},
    "digest": DIGEST,
    "rtp": RTP,
    "rtcp": RTCP,
    "dtmf": DTMF,
    "wav": WAV,
    "tone_stream": TONE_STREAM,
    "program_fonoster": PROGRAM_FONOSTER,
    "program_ncco": PROGRAM_NCCO,
    "program_twiml": PROGRAM_TWIML,
    "program_block": PROGRAM_BLOCK,
}

# sip_frame's first byte seeds the read sizes.
CORPORA["sip_frame"] = {k: bytes([i * 13 % 64]) + v for i, (k, v) in enumerate(CORPORA["sip_frame"].items())}

for target, seeds in CORPORA.items():
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
