"""Server frames, typed in and bytes out: the exact JSON every page reads, no event loop."""

from __future__ import annotations

import pytest

from signaling.protocol import ServerFrame, encode_frame
from signaling.protocol import server as s

TIMER = s.Timer(seconds=90, started_at=500.5)
STATE = s.RoomState(mode="open", stage="q2", timer=TIMER)
VIEW = {"id": "q2", "text": "签证?", "state": "approved", "votes": 3}

CASES: list[tuple[ServerFrame, str]] = [
    (
        s.Welcome(
            v=1,
            identity="anon-1",
            role="viewer",
            venue=None,
            sessions=[],
            channels=[],
            node="ab12",
            token="t0k",
        ),
        '{"type":"welcome","v":1,"identity":"anon-1","role":"viewer","venue":null,'
        '"sessions":[],"channels":[],"node":"ab12","token":"t0k"}',
    ),
    (
        s.Welcome(
            v=1,
            identity="op",
            role="operator",
            venue="jp",
            sessions=["s1"],
            channels=["c1"],
            node="ab12",
        ),
        '{"type":"welcome","v":1,"identity":"op","role":"operator","venue":"jp",'
        '"sessions":["s1"],"channels":["c1"],"node":"ab12"}',
    ),
    (
        s.Welcome(
            v=1,
            identity="op",
            role="operator",
            venue="jp",
            sessions=[],
            channels=[],
            node="ab12",
            rehearsal=s.RehearsalTime(
                real="2026-12-06T21:00:00+00:00", virtual="2018-12-21T08:58:00+08:00", speed=10.0
            ),
        ),
        '{"type":"welcome","v":1,"identity":"op","role":"operator","venue":"jp",'
        '"sessions":[],"channels":[],"node":"ab12","rehearsal":{"real":"2026-12-06T21:00:00+00:00",'
        '"virtual":"2018-12-21T08:58:00+08:00","speed":10.0}}',
    ),
    (s.Ack(of="leave"), '{"type":"ack","of":"leave"}'),
    (s.Ack(of="leave", ref="r1"), '{"type":"ack","of":"leave","ref":"r1"}'),
    (
        s.JoinAck(of="join", ref="r2", room="s1", event_id=4, moderator=False),
        '{"type":"ack","of":"join","ref":"r2","room":"s1","event_id":4,"moderator":false}',
    ),
    (
        s.QuestionAck(of="next", event_id=5, question=None),
        '{"type":"ack","of":"next","event_id":5,"question":null}',
    ),
    (s.VoteAck(of="vote", event_id=6), '{"type":"ack","of":"vote","event_id":6}'),
    (
        s.RouteAck(of="route", venue="jp", channel=None, session=None),
        '{"type":"ack","of":"route","venue":"jp","channel":null,"session":null}',
    ),
    (
        s.AutomationAck(of="set_automation", venue="jp", automation="paused"),
        '{"type":"ack","of":"set_automation","venue":"jp","automation":"paused"}',
    ),
    (
        s.TalkbackAck(of="talkback", venue="jp"),
        '{"type":"ack","of":"talkback","venue":"jp"}',
    ),
    (
        s.Error(code="forbidden", message="no"),
        '{"type":"error","code":"forbidden","message":"no"}',
    ),
    (
        s.Error(code="x", message="y", ref="r9"),
        '{"type":"error","code":"x","message":"y","ref":"r9"}',
    ),
    (
        s.Snapshot(
            room="s1",
            event_id=7,
            full=True,
            state=STATE,
            questions=[VIEW],
            removed=[],
            my_votes=["q2"],
        ),
        '{"type":"snapshot","room":"s1","event_id":7,"full":true,'
        '"state":{"mode":"open","stage":"q2","timer":{"seconds":90,"started_at":500.5}},'
        '"questions":[{"id":"q2","text":"签证?","state":"approved","votes":3}],'
        '"removed":[],"my_votes":["q2"]}',
    ),
    (
        s.Snapshot(
            room="s1",
            event_id=7,
            full=False,
            state=s.RoomState(
                mode="premoderated", stage=None, timer=s.Timer(seconds=0, started_at=None)
            ),
            questions=[],
            removed=["q1"],
            my_votes=[],
            queue=[],
            replayed=0,
        ),
        '{"type":"snapshot","room":"s1","event_id":7,"full":false,'
        '"state":{"mode":"premoderated","stage":null,"timer":{"seconds":0,"started_at":null}},'
        '"questions":[],"removed":["q1"],"my_votes":[],"queue":[],"replayed":0}',
    ),
    (
        s.RoomFrame(room="s1", event_id=8, mode="open", stage=None, timer=TIMER),
        '{"type":"room","room":"s1","event_id":8,"mode":"open","stage":null,'
        '"timer":{"seconds":90,"started_at":500.5}}',
    ),
    (
        s.QuestionFrame(room="s1", event_id=9, question=VIEW),
        '{"type":"question","room":"s1","event_id":9,'
        '"question":{"id":"q2","text":"签证?","state":"approved","votes":3}}',
    ),
    (
        s.QuestionRemoved(room="s1", event_id=10, id="q1"),
        '{"type":"question_removed","room":"s1","event_id":10,"id":"q1"}',
    ),
    (
        s.Notice(room="s1", event_id=11, kind="dismissed", question="q1", reason=""),
        '{"type":"notice","room":"s1","event_id":11,"kind":"dismissed","question":"q1",'
        '"reason":""}',
    ),
    (
        s.Presence(
            viewers_by_channel={"gz-hall-1": 2},
            viewers_by_venue={},
            operators_by_venue={"jp": 1},
            moderators_by_room={},
            connections=3,
        ),
        '{"type":"presence","viewers_by_channel":{"gz-hall-1":2},"viewers_by_venue":{},'
        '"operators_by_venue":{"jp":1},"moderators_by_room":{},"connections":3}',
    ),
    (
        s.Routing(
            venues=[
                s.VenueRouting(
                    venue="jp",
                    automation="on",
                    held_by_director=False,
                    requested=s.RouteView(
                        channel="gz-hall-1",
                        session="opening",
                        by="automation",
                        requested_at="2018-12-21T08:58:00+08:00",
                    ),
                    on_air=None,
                    on_air_since=None,
                    slate=True,
                    off_air_since="2018-12-21T08:57:00+08:00",
                    home="edge-jp",
                    home_up=False,
                    language="ko",
                )
            ],
            channels={
                "gz-hall-1": s.ChannelHealth(
                    state="lost",
                    since="2018-12-21T08:57:00+08:00",
                    source="primary",
                    backup_ready=True,
                    interpreters={"ja": "Akiko Sato"},
                    floor_language="zh",
                ),
                "jp-return": s.ChannelHealth(
                    state="idle", since=None, source=None, backup_ready=False
                ),
            },
        ),
        '{"type":"routing","venues":[{"venue":"jp","automation":"on",'
        '"held_by_director":false,"requested":{"channel":"gz-hall-1","session":"opening",'
        '"by":"automation","requested_at":"2018-12-21T08:58:00+08:00"},"on_air":null,'
        '"on_air_since":null,"slate":true,"off_air_since":"2018-12-21T08:57:00+08:00",'
        '"home":"edge-jp","home_up":false,"language":"ko"}],'
        '"channels":{"gz-hall-1":{"state":"lost","since":"2018-12-21T08:57:00+08:00",'
        '"source":"primary","backup_ready":true,"interpreters":{"ja":"Akiko Sato"},'
        '"floor_language":"zh"},"jp-return":{"state":"idle","since":null,"source":null,'
        '"backup_ready":false,"interpreters":{},"floor_language":null}}}',
    ),
    (
        s.SourceAck(of="use_source", channel="gz-hall-1", source="backup"),
        '{"type":"ack","of":"use_source","channel":"gz-hall-1","source":"backup"}',
    ),
    (
        s.Talkback(
            venue="jp", from_="operator", identity="op", name="Op Sato", text="<b>hi</b>", at=1.5
        ),
        '{"type":"talkback","venue":"jp","from":"operator","identity":"op","name":"Op Sato",'
        '"text":"<b>hi</b>","at":1.5}',
    ),
    (
        s.TalkbackHistory(
            lines=[
                s.Talkback(venue="jp", from_="director", identity="W", name="W", text="ok", at=2.5)
            ]
        ),
        '{"type":"talkback_history","lines":[{"type":"talkback","venue":"jp","from":"director",'
        '"identity":"W","name":"W","text":"ok","at":2.5}]}',
    ),
    (
        s.CaptionFrame(
            session="opening", language="zh", seq=3, text="<i>欢迎</i>", at=4.5, by="cap-li"
        ),
        '{"type":"caption","session":"opening","language":"zh","seq":3,"text":"<i>欢迎</i>",'
        '"at":4.5,"by":"cap-li"}',
    ),
    (
        s.CaptionHistory(
            session="opening",
            language="en",
            lines=[
                s.CaptionFrame(
                    session="opening", language="en", seq=1, text="Hi", at=1.0, by="speech:gz"
                )
            ],
        ),
        '{"type":"caption_history","session":"opening","language":"en","lines":[{"type":'
        '"caption","session":"opening","language":"en","seq":1,"text":"Hi","at":1.0,'
        '"by":"speech:gz"}]}',
    ),
    (
        s.CaptionAck(of="caption", session="opening", language="en", seqs=[1, 2]),
        '{"type":"ack","of":"caption","session":"opening","language":"en","seqs":[1,2]}',
    ),
]


@pytest.mark.parametrize(("frame", "wire"), CASES, ids=[type(f).__name__ for f, _ in CASES])
def test_each_frame_kind_encodes_to_the_json_pages_read(frame: ServerFrame, wire: str) -> None:
    encoded = encode_frame(frame)
    assert encoded.text == wire
    assert encoded.data == wire.encode()


def test_every_frame_kind_is_covered() -> None:
    kinds = {k.__struct_config__.tag for k in s.AnyFrame.__args__}
    assert kinds == {f.__struct_config__.tag for f, _ in CASES}


def test_the_encoded_bytes_are_made_once() -> None:
    frame = encode_frame(s.Ack(of="leave"))
    assert frame.data is frame.data


def test_the_websocket_frame_is_built_once_around_the_same_bytes() -> None:
    frame = encode_frame(s.Ack(of="leave"))
    assert frame.wire is frame.wire
    assert frame.wire == bytes([0x81, len(frame.data)]) + frame.data
