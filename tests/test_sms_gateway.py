"""The SMPP gateway against the test SMSC (`tests/smsc.py`) over TCP on 127.0.0.1: binds with a
good and a wrong password, long Chinese texts in UDH segments reassembled on the SMSC, receipts,
throttling that slows the rate while every message still goes, and a dropped connection in
the middle of a window (a reconnect, and each key at most once on the SMSC's log)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable

import pytest

from helpers_async import run_apart
from sanbuting.sms.encoding import GSM7, UCS2, encode, segment_count, with_udh
from sanbuting.sms.gateway import GatewayConfig, GatewayError, SmppGateway
from sanbuting.sms.ratelimit import TokenBucket
from sanbuting.sms.transport import Outgoing, Receipt, SubmitResult, parse_receipt
from smsc import Smsc

LONG_CHINESE = (
    "尊敬的用户：受台风影响，您所在区域的供电将于今日18时起临时中断，预计次日8时恢复。"
    "疫情及灾害期间，欠费不停电，滞纳金全部减免，如需帮助请拨打95598或登录网上营业厅。"
    "如您家中有老人、病人或依靠医疗设备生活的人员，请提前告知我们，我们将优先安排抢修与应急供电。"
    "感谢您的理解与支持！😀"
)


def config(port: int, **changes: object) -> GatewayConfig:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "system_id": "sanbuting",
        "password": "secret",
        "source_addr": "95598",
        "window": 10,
        "rate": 5000.0,
        "connect_timeout": 1.0,
        "backoff": 0.05,
        "backoff_max": 0.2,
    }
    values.update(changes)
    return GatewayConfig(**values)  # type: ignore[arg-type]


def message(number: int, text: str = "Your code is 123456") -> Outgoing:
    return Outgoing(id=number, key=f"sms/test/{number}", phone=f"86138{number:08d}", text=text)


Scenario = Callable[[Smsc, SmppGateway, list[Receipt]], Awaitable[None]]


def with_smsc(scenario: Scenario, smsc: Smsc | None = None, **changes: object) -> None:
    """Run `scenario` with a started SMSC and a started gateway bound to it."""

    async def main() -> None:
        server = smsc if smsc is not None else Smsc()
        await server.start()
        receipts: list[Receipt] = []
        gateway = SmppGateway(config(server.port, **changes), receipts.append)
        try:
            await gateway.start()
            await scenario(server, gateway, receipts)
        finally:
            await gateway.close()
            await server.stop()

    run_apart(main())


async def until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


# -- encoding ------------------------------------------------------------------------------


def test_plain_text_is_gsm7_in_one_sms_up_to_160_characters() -> None:
    assert encode("Your code is 123456").data_coding == GSM7
    assert segment_count("a" * 160) == 1
    assert segment_count("a" * 161) == 2
    assert segment_count("a" * 306) == 2
    assert segment_count("a" * 307) == 3


def test_chinese_is_ucs2_70_in_one_sms_and_67_a_segment() -> None:
    assert encode("电").data_coding == UCS2
    assert encode("price $5").data_coding == UCS2  # `$` is not where ASCII has it in GSM-7
    assert segment_count("电" * 70) == 1
    assert segment_count("电" * 71) == 2
    assert segment_count("电" * 134) == 2
    assert segment_count("电" * 135) == 3


def test_a_surrogate_pair_is_never_cut_and_the_udh_numbers_the_parts() -> None:
    text = "电" * 66 + "😀" + "电" * 10
    parts = encode(text).parts
    assert [len(part) for part in parts] == [132, 24]
    assert b"".join(parts).decode("utf-16-be") == text
    headed = with_udh(300, parts)
    assert [part[:6] for part in headed] == [
        bytes((5, 0, 3, 44, 2, 1)),
        bytes((5, 0, 3, 44, 2, 2)),
    ]
    assert with_udh(1, parts[:1]) == parts[:1]
    with pytest.raises(ValueError, match="segments"):
        encode("电" * 67 * 256)
    with pytest.raises(ValueError, match="text"):
        encode("")


def test_a_receipt_is_read_from_its_text_and_its_tlvs() -> None:
    text = b"id:0A1B sub:001 dlvrd:001 submit date:2612091200 done date:2612091201 stat:DELIVRD"
    assert parse_receipt(text + b" err:000 text:hello") == Receipt("0A1B", "DELIVRD", "000")
    assert parse_receipt(b"id:7 stat:UNDELIV err:001") == Receipt("7", "UNDELIV", "001")
    assert parse_receipt(b"hello", "XYZ", 2) == Receipt("XYZ", "DELIVRD", None)
    assert parse_receipt(b"no receipt here") is None
    assert Receipt("1", "ENROUTE").final is False


def test_the_bucket_halves_on_throttling_once_per_cooldown_and_recovers() -> None:
    now = [0.0]
    bucket = TokenBucket(100.0, recovery=0.1, cooldown=0.5, clock=lambda: now[0])
    bucket.throttled()
    bucket.throttled()
    assert bucket.rate == 50.0
    now[0] = 0.6
    bucket.throttled()
    assert bucket.rate == pytest.approx(25.5)  # 0.1 s of recovery past the cooldown first
    now[0] = 2.6  # 1.5 s past the cooldown, at 10 a second each
    assert bucket.rate == pytest.approx(40.5)
    now[0] = 20.0
    assert bucket.rate == 100.0
    assert (bucket.lowest, bucket.throttles) == (pytest.approx(25.5), 2)


# -- against the SMSC ----------------------------------------------------------------------


def test_a_bind_with_the_password_sends_and_a_wrong_one_is_refused() -> None:
    async def scenario(smsc: Smsc, gateway: SmppGateway, receipts: list[Receipt]) -> None:
        result = await gateway.submit(message(1))
        assert result.outcome == "sent" and result.message_id
        assert smsc.binds == [("sanbuting", "secret", True)]
        assert smsc.keys() == ["sms/test/1"]
        assert smsc.texts() == {"sms/test/1": "Your code is 123456"}
        wrong = SmppGateway(config(smsc.port, password="wrong", connect_attempts=2))
        with pytest.raises(GatewayError, match="could not bind"):
            await wrong.start()
        await wrong.close()
        assert smsc.binds[1:] == [("sanbuting", "wrong", False)] * 2
        assert wrong.stats.bind_failures == 2

    with_smsc(scenario)


def test_nothing_listening_is_a_gateway_error_after_the_attempts() -> None:
    async def main() -> None:
        server = Smsc()
        await server.start()
        port = server.port
        await server.stop()
        gateway = SmppGateway(config(port, connect_attempts=3))
        started = time.monotonic()
        with pytest.raises(GatewayError, match="could not bind"):
            await gateway.start()
        assert time.monotonic() - started >= 0.05 + 0.1 * 0.8  # backed off twice
        await gateway.close()

    run_apart(main())


def test_a_long_chinese_text_goes_in_udh_segments_that_reassemble() -> None:
    async def scenario(smsc: Smsc, gateway: SmppGateway, receipts: list[Receipt]) -> None:
        texts = {1: LONG_CHINESE, 2: "电费已缴清，谢谢！", 3: "x" * 200}
        results = await asyncio.gather(*(gateway.submit(message(n, t)) for n, t in texts.items()))
        assert [r.outcome for r in results] == ["sent"] * 3
        assert [r.segments_sent for r in results] == [
            segment_count(LONG_CHINESE),
            1,
            2,
        ]
        assert segment_count(LONG_CHINESE) == 3
        assert smsc.texts() == {f"sms/test/{n}": t for n, t in texts.items()}
        long = [r for r in smsc.log if r.key == "sms/test/1"]
        assert {r.data_coding for r in long} == {0x08}
        assert [r.udh for r in long] == [(1, 3, 1), (1, 3, 2), (1, 3, 3)]
        assert all(len(r.payload) <= 140 for r in smsc.log if r.data_coding == UCS2)
        # GSM-7 goes as one unpacked septet an octet: 153 + the 6-octet UDH (7 septets).
        assert all(len(r.body) <= 153 for r in smsc.log if r.data_coding == GSM7 and r.udh)
        await until(lambda: len(receipts) == 6)  # one receipt a segment

    with_smsc(scenario)


def test_receipts_name_the_message_ids_the_submits_got() -> None:
    smsc = Smsc(undelivered=frozenset({"sms/test/2"}))

    async def scenario(smsc: Smsc, gateway: SmppGateway, receipts: list[Receipt]) -> None:
        results = await asyncio.gather(*(gateway.submit(message(n)) for n in (1, 2, 3)))
        await until(lambda: len(receipts) == 3)
        by_id = {receipt.message_id: receipt.stat for receipt in receipts}
        assert {by_id[r.message_id or ""] for r in results} == {"DELIVRD", "UNDELIV"}
        assert by_id[results[1].message_id or ""] == "UNDELIV"
        assert gateway.stats.receipts == 3

    with_smsc(scenario, smsc)


def test_throttling_slows_the_rate_and_every_message_still_goes() -> None:
    smsc = Smsc(throttle_next=5, max_rate=100)

    async def scenario(smsc: Smsc, gateway: SmppGateway, receipts: list[Receipt]) -> None:
        started = time.monotonic()
        results = await asyncio.gather(*(gateway.submit(message(n)) for n in range(1, 301)))
        took = time.monotonic() - started
        assert [r.outcome for r in results] == ["sent"] * 300
        assert sorted(smsc.keys()) == sorted(f"sms/test/{n}" for n in range(1, 301))
        assert smsc.throttled >= 5
        assert gateway.stats.throttled == smsc.throttled
        assert gateway.bucket.lowest <= 2000.0
        assert took >= 1.5  # 300 at no more than 100 a second (the first second free)

    with_smsc(scenario, smsc, rate=4000.0)


def test_a_connection_dropped_mid_window_reconnects_and_sends_each_key_at_most_once() -> None:
    smsc = Smsc(drop_at=25, answer_delay=0.02)

    async def scenario(smsc: Smsc, gateway: SmppGateway, receipts: list[Receipt]) -> None:
        results: list[SubmitResult] = await asyncio.gather(
            *(gateway.submit(message(n)) for n in range(1, 101))
        )
        outcomes = [r.outcome for r in results]
        doubtful = {f"sms/test/{n}" for n, r in enumerate(results, 1) if r.outcome == "in_doubt"}
        assert set(outcomes) == {"sent", "in_doubt"}
        assert 1 <= len(doubtful) <= 10  # at most a window was in flight
        assert gateway.stats.binds == 2 and smsc.sessions == 2
        keys = smsc.keys()
        assert len(keys) == len(set(keys))  # at most once
        sent = {f"sms/test/{n}" for n, r in enumerate(results, 1) if r.outcome == "sent"}
        assert sent <= set(keys)
        assert set(keys) - sent <= doubtful  # the SMSC holds no more than the doubtful ones
        assert len(sent) == 100 - len(doubtful)

    with_smsc(scenario, smsc)


def test_the_window_bounds_the_submits_in_flight() -> None:
    smsc = Smsc(answer_delay=0.05)

    async def scenario(smsc: Smsc, gateway: SmppGateway, receipts: list[Receipt]) -> None:
        started = time.monotonic()
        await asyncio.gather(*(gateway.submit(message(n)) for n in range(1, 21)))
        took = time.monotonic() - started
        assert took >= 4 * 0.05  # 20 submits, 5 at a time, 50 ms each
        assert len(smsc.log) == 20

    with_smsc(scenario, smsc, window=5)


def test_the_session_answers_the_smscs_enquire_link() -> None:
    async def scenario(smsc: Smsc, gateway: SmppGateway, receipts: list[Receipt]) -> None:
        await smsc.probe()
        await until(lambda: smsc.enquire_link_answers == 1)
        assert (await gateway.submit(message(1))).outcome == "sent"

    with_smsc(scenario)


@pytest.mark.skipif(
    not os.environ.get("SANBUTING_SLOW_TESTS"), reason="waits 30 s (SANBUTING_SLOW_TESTS=1)"
)
def test_an_idle_session_sends_enquire_link_every_30_seconds() -> None:
    async def scenario(smsc: Smsc, gateway: SmppGateway, receipts: list[Receipt]) -> None:
        await until(lambda: smsc.enquire_links >= 1, seconds=40)
        assert gateway.bound and gateway.stats.binds == 1

    with_smsc(scenario)
