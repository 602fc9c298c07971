"""Sharing through the whole system: profiles, teams, communities, posts and the feed, and a
journal entry shared into a team's feed across services. Every test makes its own users,
since the running system is shared by the session."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from flowlearn_cli.tokens import make_token

pytestmark = pytest.mark.e2e


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def auth(user: str, role: str = "member", name: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(user, role, name=name)}"}


def eventually(check: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.2)
    return result


def feed_ids(api: httpx.Client, headers: dict[str, str], **params: Any) -> list[str]:
    response = api.get("/v1/feed", params={"limit": 100, **params}, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def make_team(api: httpx.Client, lead: dict[str, str], *members: str) -> str:
    created = api.post("/v1/teams", json={"name": new_id("team")}, headers=lead)
    assert created.status_code == 201, created.text
    team_id: str = created.json()["id"]
    for member in members:
        added = api.post(f"/v1/teams/{team_id}/members", json={"user_id": member}, headers=lead)
        assert added.status_code == 200, added.text
    return team_id


def test_a_lesson_shared_from_the_journal_reaches_the_team_feed_anonymously(
    api: httpx.Client,
) -> None:
    alice_id, mate_id, outsider_id = new_id("alice"), new_id("mate"), new_id("outsider")
    alice_name = f"Alice {uuid.uuid4().hex[:6]}"
    alice = auth(alice_id, name=alice_name)
    mate, outsider = auth(mate_id), auth(outsider_id)
    team_id = make_team(api, auth(new_id("lead"), "manager"), alice_id, mate_id)

    private = "The on-call rota was my fault and nobody knows"
    excerpt = "Next time: canary first, then everyone."
    entry = api.post(
        "/v1/journal/entries",
        headers=alice,
        json={
            "kind": "mistake",
            "title": "Friday deploy",
            "body": f"{private}. {excerpt}",
            "tags": ["deploys"],
        },
    )
    assert entry.status_code == 201, entry.text
    share_url = f"/v1/journal/entries/{entry.json()['id']}/share"

    # An audience she does not belong to is refused at once, and so is sharing another's entry.
    refused = api.post(share_url, json={"audience": "team:not-hers"}, headers=alice)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert api.post(share_url, json={"audience": "org"}, headers=outsider).status_code == 404

    accepted = api.post(
        share_url,
        json={
            "audience": f"team:{team_id}",
            "excerpt": excerpt,
            "include_title": False,
            "anonymous": True,
        },
        headers=alice,
    )
    assert accepted.status_code == 202, accepted.text
    share_id = accepted.json()["share_id"]
    assert accepted.json()["status"] == "accepted"

    eventually(lambda: share_id in feed_ids(api, mate), "the lesson in the teammate's feed")
    response = api.get("/v1/feed", params={"limit": 100}, headers=mate)
    [post] = [p for p in response.json()["items"] if p["id"] == share_id]
    assert post["kind"] == "lesson"
    assert post["anonymous"] is True
    assert post["author"] is None
    assert post["body"] == excerpt
    assert post["title"] is None
    assert post["audience"] == f"team:{team_id}"
    for secret in (private, "Friday deploy", alice_id, alice_name):
        assert secret not in response.text

    assert share_id not in feed_ids(api, outsider)
    assert api.get(f"/v1/posts/{share_id}", headers=outsider).status_code == 404
    mine = api.get(f"/v1/posts/{share_id}", headers=alice).json()
    assert mine["is_mine"] is True


@dataclass
class Audiences:
    """Users and groups for one visibility case."""

    author: dict[str, str]
    member: dict[str, str]
    non_member: dict[str, str]
    manager: dict[str, str]
    admin: dict[str, str]
    audience: str
    community_id: str | None = None


def arrange(api: httpx.Client, kind: str) -> Audiences:
    author_id, member_id = new_id("author"), new_id("member")
    author, member = auth(author_id), auth(member_id)
    manager_id = new_id("manager")
    manager = auth(manager_id, "manager")
    make_team(api, manager)  # the manager leads a team of their own, not this one
    community_id = None
    if kind == "team":
        audience = f"team:{make_team(api, auth(new_id('lead'), 'manager'), author_id, member_id)}"
    elif kind == "community":
        created = api.post("/v1/communities", json={"name": new_id("guild")}, headers=author)
        assert created.status_code == 201, created.text
        community_id = created.json()["id"]
        joined = api.post(f"/v1/communities/{community_id}/members", headers=member)
        assert joined.status_code == 200
        assert joined.json()["is_member"] is True
        audience = f"community:{community_id}"
    elif kind == "people":
        audience = f"people:{member_id},{new_id('someone')}"
    else:
        audience = "org"
    return Audiences(
        author=author,
        member=member,
        non_member=auth(new_id("stranger")),
        manager=manager,
        admin=auth(new_id("admin"), "admin"),
        audience=audience,
        community_id=community_id,
    )


VIEWERS = ("member", "non_member", "manager", "admin")


@pytest.mark.parametrize(
    ("kind", "sees"),
    [
        # Roles give no reading rights: only the audience sees a post.
        ("team", {"member": True, "non_member": False, "manager": False, "admin": False}),
        ("community", {"member": True, "non_member": False, "manager": False, "admin": False}),
        ("org", {"member": True, "non_member": True, "manager": True, "admin": True}),
        ("people", {"member": True, "non_member": False, "manager": False, "admin": False}),
    ],
)
def test_visibility_matrix(api: httpx.Client, kind: str, sees: dict[str, bool]) -> None:
    case = arrange(api, kind)
    tag = new_id("vis")
    created = api.post(
        "/v1/posts",
        json={"kind": "tip", "body": f"For {kind}", "tags": [tag], "audience": case.audience},
        headers=case.author,
    )
    assert created.status_code == 201, created.text
    post_id = created.json()["id"]
    assert created.headers["location"] == f"/v1/posts/{post_id}"
    assert feed_ids(api, case.author, tag=tag) == [post_id]

    for viewer in VIEWERS:
        headers = getattr(case, viewer)
        expected = 200 if sees[viewer] else 404
        got = api.get(f"/v1/posts/{post_id}", headers=headers)
        assert got.status_code == expected, f"{kind} post, {viewer}: {got.status_code}"
        in_feed = feed_ids(api, headers, tag=tag) == [post_id]
        assert in_feed is sees[viewer], f"{kind} post in the feed of {viewer}"
        comments = api.get(f"/v1/posts/{post_id}/comments", headers=headers)
        assert comments.status_code == expected
        reacted = api.put(f"/v1/posts/{post_id}/reactions/like", headers=headers)
        assert reacted.status_code == expected
        if case.community_id:
            page = api.get(f"/v1/communities/{case.community_id}/feed", headers=headers)
            assert (post_id in [p["id"] for p in page.json()["items"]]) is sees[viewer]
        if not sees[viewer]:
            # Nothing about the post leaks through a write either.
            assert (
                api.patch(f"/v1/posts/{post_id}", json={"body": "x"}, headers=headers).status_code
                == 404
            )
            assert (
                api.post(
                    f"/v1/posts/{post_id}/comments", json={"body": "x"}, headers=headers
                ).status_code
                == 404
            )


def test_anonymous_lessons_never_name_their_author(api: httpx.Client) -> None:
    author_id, mate_id = new_id("anon"), new_id("mate")
    author_name = f"Hidden {uuid.uuid4().hex[:6]}"
    author, mate = auth(author_id, name=author_name), auth(mate_id, name="Mate")
    team_id = make_team(api, auth(new_id("lead"), "manager"), author_id, mate_id)
    community = api.post("/v1/communities", json={"name": new_id("guild")}, headers=author)
    community_id = community.json()["id"]
    assert api.post(f"/v1/communities/{community_id}/members", headers=mate).status_code == 200

    # Only lessons may be anonymous.
    tip = {"kind": "tip", "body": "x", "audience": "org", "anonymous": True}
    assert api.post("/v1/posts", json=tip, headers=author).status_code == 422

    post_ids = []
    for audience in (f"team:{team_id}", f"community:{community_id}", "org"):
        lesson = {"kind": "lesson", "body": "Test the rollback too", "audience": audience}
        created = api.post("/v1/posts", json={**lesson, "anonymous": True}, headers=author)
        assert created.status_code == 201, created.text
        assert created.json()["author"] is None
        post_ids.append(created.json()["id"])
    assert api.get("/v1/me", headers=author).json()["display_name"] == author_name

    seen: list[httpx.Response] = []
    for post_id in post_ids:
        seen.append(api.post(f"/v1/posts/{post_id}/comments", json={"body": "+1"}, headers=mate))
        # The author answering in the thread does not give them away either.
        reply = api.post(f"/v1/posts/{post_id}/comments", json={"body": "Thanks"}, headers=author)
        assert reply.status_code == 201, reply.text
        seen.append(api.put(f"/v1/posts/{post_id}/reactions/insightful", headers=mate))
        seen.append(api.get(f"/v1/posts/{post_id}", headers=mate))
        seen.append(api.get(f"/v1/posts/{post_id}/comments", headers=mate))
    seen.append(api.get("/v1/feed", params={"limit": 100}, headers=mate))
    seen.append(api.get("/v1/feed", params={"kind": "lesson", "limit": 100}, headers=mate))
    seen.append(api.get(f"/v1/communities/{community_id}/feed", headers=mate))

    for response in seen:
        assert response.status_code in (200, 201), response.text
        assert author_id not in response.text, response.request.url
        assert author_name not in response.text, response.request.url
    comments = api.get(f"/v1/posts/{post_ids[0]}/comments", headers=mate).json()["items"]
    assert [c["body"] for c in comments] == ["+1", "Thanks"]
    assert comments[0]["author"]["user_id"] == mate_id
    assert comments[1]["author"] is None
    feed = api.get("/v1/feed", params={"limit": 100}, headers=mate).json()["items"]
    assert {p["id"] for p in feed} >= set(post_ids)

    # The author still owns them: only they may change or delete them.
    assert (
        api.patch(f"/v1/posts/{post_ids[0]}", json={"body": "x"}, headers=mate).status_code == 403
    )
    changed = api.patch(f"/v1/posts/{post_ids[0]}", json={"body": "Rollback first"}, headers=author)
    assert changed.status_code == 200
    assert api.delete(f"/v1/posts/{post_ids[0]}", headers=author).status_code == 204
    assert api.get(f"/v1/posts/{post_ids[0]}", headers=mate).status_code == 404


def test_profile_and_team_roles(api: httpx.Client) -> None:
    me_id = new_id("pat")
    me = auth(me_id, name="Pat Example")
    profile = api.get("/v1/me", headers=me).json()
    assert profile["user_id"] == me_id
    assert profile["display_name"] == "Pat Example"
    assert profile["timezone"] == "UTC"
    assert profile["working_hours"] == {"days": [1, 2, 3, 4, 5], "start": "09:00", "end": "17:00"}
    assert profile["quiet_hours"] is None

    changes = {
        "timezone": "Europe/Berlin",
        "working_hours": {"days": [2, 1, 3], "start": "08:30", "end": "16:00"},
        "quiet_hours": {"start": "22:00", "end": "07:00"},
    }
    patched = api.patch("/v1/me", json=changes, headers=me)
    assert patched.status_code == 200, patched.text
    again = api.get("/v1/me", headers=me).json()
    assert again["timezone"] == "Europe/Berlin"
    assert again["working_hours"] == {"days": [1, 2, 3], "start": "08:30", "end": "16:00"}
    assert again["quiet_hours"] == {"start": "22:00", "end": "07:00"}
    cleared = api.patch("/v1/me", json={"quiet_hours": None}, headers=me)
    assert cleared.status_code == 200
    again = api.get("/v1/me", headers=me).json()
    assert again["quiet_hours"] is None
    assert again["timezone"] == "Europe/Berlin"  # absent fields keep their value
    assert api.patch("/v1/me", json={"timezone": "Nowhere/City"}, headers=me).status_code == 422

    # Members do not create teams; managers do and lead them.
    refused = api.post("/v1/teams", json={"name": "Mine"}, headers=me)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    lead_id = new_id("lead")
    lead = auth(lead_id, "manager")
    created = api.post("/v1/teams", json={"name": "Platform"}, headers=lead)
    assert created.status_code == 201, created.text
    team = api.get(created.headers["location"], headers=lead).json()
    assert team["members"] == [{"user_id": lead_id, "display_name": lead_id, "role": "lead"}]
    team_url = f"/v1/teams/{team['id']}"

    added = api.post(f"{team_url}/members", json={"user_id": me_id}, headers=lead)
    assert added.status_code == 200
    roles = {m["user_id"]: m["role"] for m in added.json()["members"]}
    assert roles == {lead_id: "lead", me_id: "member"}
    names = {m["user_id"]: m["display_name"] for m in added.json()["members"]}
    assert names[me_id] == "Pat Example"
    assert [t["id"] for t in api.get("/v1/me/teams", headers=me).json()["items"]] == [team["id"]]
    assert api.get(team_url, headers=me).status_code == 200

    # A member who is not a lead cannot add; a stranger cannot even see the team.
    other = new_id("other")
    assert api.post(f"{team_url}/members", json={"user_id": other}, headers=me).status_code == 403
    assert api.get(team_url, headers=auth(new_id("stranger"))).status_code == 404
    assert api.get(team_url, headers=auth(new_id("admin"), "admin")).status_code == 200

    # A lead can make another lead, who then manages members too.
    promoted = api.post(
        f"{team_url}/members", json={"user_id": me_id, "role": "lead"}, headers=lead
    )
    assert promoted.status_code == 200
    assert api.post(f"{team_url}/members", json={"user_id": other}, headers=me).status_code == 200
    removed = api.delete(f"{team_url}/members/{other}", headers=me)
    assert removed.status_code == 200
    assert other not in {m["user_id"] for m in removed.json()["members"]}
    assert api.delete(f"{team_url}/members/{other}", headers=me).status_code == 404


def test_leaving_a_community_ends_access_to_its_posts(api: httpx.Client) -> None:
    founder, member = auth(new_id("founder")), auth(new_id("joiner"))
    created = api.post(
        "/v1/communities",
        json={"name": new_id("Testing guild"), "tags": ["Testing"]},
        headers=founder,
    )
    community_id = created.json()["id"]
    assert created.json()["tags"] == ["testing"]
    assert api.post(f"/v1/communities/{community_id}/members", headers=member).status_code == 200
    listed = api.get("/v1/communities", headers=member).json()["items"]
    [mine] = [c for c in listed if c["id"] == community_id]
    assert mine["is_member"] is True
    assert mine["member_count"] == 2

    body = {
        "kind": "tip",
        "body": "Name tests for behaviour",
        "audience": f"community:{community_id}",
    }
    post_id = api.post("/v1/posts", json=body, headers=founder).json()["id"]
    assert api.get(f"/v1/posts/{post_id}", headers=member).status_code == 200

    left = api.delete(f"/v1/communities/{community_id}/members/me", headers=member)
    assert left.status_code == 200
    assert left.json()["is_member"] is False
    assert left.json()["member_count"] == 1
    assert api.get(f"/v1/posts/{post_id}", headers=member).status_code == 404
    assert api.get(f"/v1/communities/{community_id}/feed", headers=member).json()["items"] == []
    # One cannot post to a community one has left.
    assert api.post("/v1/posts", json=body, headers=member).status_code == 403
    assert api.post("/v1/communities/no-such/members", headers=member).status_code == 404
