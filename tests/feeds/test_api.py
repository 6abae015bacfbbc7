import io

import pytest

from feeds.models import Comment, Feed, Note, Tag, Tagging
from plugins.models import Plugin, PluginInstance, PluginMeta
from plugins.status import JOB_COUNTERS
from tests.helpers import CJ, add_instance_file, cj_items, cj_template

pytestmark = pytest.mark.django_db

H = "http://testserver/api/v1/"


def make_feed(owner, name="feed", public=False) -> Feed:
    feed = Feed.objects.create(name=name, creator=owner, public=public)
    feed.owner.add(owner)
    Note.objects.create(feed=feed)
    return feed


@pytest.fixture
def feed(user) -> Feed:
    return make_feed(user, "alice feed")


@pytest.fixture
def public_feed(other_user) -> Feed:
    return make_feed(other_user, "bobby public", public=True)


@pytest.fixture
def fs_plugin(db) -> Plugin:
    meta = PluginMeta.objects.create(name="pl-fs", type="fs")
    return Plugin.objects.create(
        meta=meta, version="1.0", dock_image="fnndsc/pl-fs", execshell="python3",
        selfpath="/usr/local/bin", selfexec="fs",
    )  # fmt: skip


def make_instance(feed, plugin, status="finishedSuccessfully") -> PluginInstance:
    return PluginInstance.objects.create(
        plugin=plugin, feed=feed, owner=feed.creator, status=status,
        output_path=f"{feed.creator.username}/feed_{feed.pk}/pl-fs_1/data",
        cpu_limit=1000, memory_limit=200, number_of_workers=1, gpu_limit=0,
    )  # fmt: skip


def put_file(storage, key: str, content: bytes = b"x") -> int:
    return storage.put(key, io.BytesIO(content))


# Feeds: detail, sharing, public visibility, deletion, counters, filters


def test_feed_document_shape(client, user, feed):
    response = client.get(f"/api/v1/{feed.pk}/")
    assert response.status_code == 200
    collection = response.json()["collection"]
    assert list(collection) == ["version", "href", "items", "links", "template"]
    item = collection["items"][0]
    assert [entry["name"] for entry in item["data"]] == [
        "id", "creation_date", "modification_date", "name", "public", "creator_username",
        *JOB_COUNTERS,
    ]  # fmt: skip
    assert item["href"] == f"{H}{feed.pk}/"
    assert item["links"] == [
        {"rel": "owner", "href": f"{H}users/{user.pk}/"},
        {"rel": "note", "href": f"{H}note{feed.note.pk}/"},
        {"rel": "tags", "href": f"{H}{feed.pk}/tags/"},
        {"rel": "taggings", "href": f"{H}{feed.pk}/taggings/"},
        {"rel": "comments", "href": f"{H}{feed.pk}/comments/"},
        {"rel": "files", "href": f"{H}{feed.pk}/files/"},
        {"rel": "plugin_instances", "href": f"{H}{feed.pk}/plugininstances/"},
    ]
    assert collection["links"] == []
    assert collection["template"] == {
        "data": [{"name": n, "value": ""} for n in ("name", "public", "owner")]
    }


def test_feed_put_shares_with_a_co_owner(client, other_client, feed, other_user):
    assert other_client.get(f"/api/v1/{feed.pk}/").status_code == 403
    bad = client.put(f"/api/v1/{feed.pk}/", cj_template({"owner": "nobody"}), content_type=CJ)
    assert bad.status_code == 400
    assert bad.json()["collection"]["error"]["message"] == (
        '{"owner": ["User nobody is not a registered user."]}'
    )
    response = client.put(
        f"/api/v1/{feed.pk}/", cj_template({"owner": "bobby", "name": "shared"}), content_type=CJ
    )
    assert response.status_code == 200
    owners = [link["href"] for link in response.json()["collection"]["items"][0]["links"]]
    assert f"{H}users/{other_user.pk}/" in owners
    assert set(feed.owner.values_list("username", flat=True)) == {"alice", "bobby"}
    # A co-owner has every right of the creator.
    renamed = other_client.put(f"/api/v1/{feed.pk}/", {"name": "by bobby"}, format="json")
    assert renamed.status_code == 200
    assert renamed.json()["collection"]["items"][0]["data"][3]["value"] == "by bobby"


@pytest.mark.parametrize("name", ["a/b", "uploads"])
def test_feed_put_rejects_bad_names(client, feed, name):
    response = client.put(f"/api/v1/{feed.pk}/", {"name": name}, format="json")
    assert response.status_code == 400
    assert "name" in response.json()["collection"]["error"]["message"]


def test_feed_put_refused_for_others(other_client, anonymous_client, public_feed, client):
    assert client.put(f"/api/v1/{public_feed.pk}/", {"name": "x"}, format="json").status_code == 403
    assert anonymous_client.put(f"/api/v1/{public_feed.pk}/", {}, format="json").status_code == 401
    assert other_client.put(f"/api/v1/{public_feed.pk}/", {}, format="json").status_code == 200


def test_anonymous_reads_public_feed_and_its_parts(
    anonymous_client, public_feed, feed, fs_plugin, storage
):
    instance = make_instance(public_feed, fs_plugin)
    fname = f"bobby/feed_{public_feed.pk}/pl-fs_{instance.pk}/data/out.txt"
    add_instance_file(
        fname=fname, fsize=put_file(storage, fname), plugin_inst=instance, feed=public_feed
    )
    assert anonymous_client.get(f"/api/v1/{public_feed.pk}/").status_code == 200
    files = anonymous_client.get(f"/api/v1/{public_feed.pk}/files/")
    assert [item["fname"] for item in cj_items(files)] == [fname]
    instances = anonymous_client.get(f"/api/v1/{public_feed.pk}/plugininstances/")
    assert [item["id"] for item in cj_items(instances)] == [instance.pk]
    assert anonymous_client.get(f"/api/v1/{feed.pk}/").status_code == 401
    assert anonymous_client.get(f"/api/v1/{feed.pk}/files/").status_code == 401
    assert anonymous_client.get(f"/api/v1/{feed.pk}/plugininstances/").status_code == 401
    assert anonymous_client.get("/api/v1/999/").status_code == 404


def test_public_feeds_list_and_search(anonymous_client, client, public_feed, feed, user):
    make_feed(user, "alice public", public=True)
    response = anonymous_client.get("/api/v1/publicfeeds/")
    assert response.status_code == 200
    collection = response.json()["collection"]
    assert [item["name"] for item in cj_items(response)] == ["alice public", "bobby public"]
    assert collection["queries"][0]["href"] == f"{H}publicfeeds/search/"
    assert collection["links"] == []
    search = anonymous_client.get("/api/v1/publicfeeds/search/?name=bobby")
    assert [item["name"] for item in cj_items(search)] == ["bobby public"]
    # The root lists co-owned feeds only, public or not.
    assert [item["name"] for item in cj_items(client.get("/api/v1/"))] == [
        "alice public",
        "alice feed",
    ]


def test_feed_delete_by_co_owner_removes_only_its_folder(
    client, other_client, user, other_user, storage, django_capture_on_commit_callbacks
):
    feed = make_feed(user)
    neighbour = Feed.objects.create(name="n", creator=user, pk=feed.pk * 10)
    put_file(storage, f"alice/feed_{feed.pk}/pl-fs_1/data/a.txt")
    put_file(storage, f"alice/feed_{neighbour.pk}/pl-fs_2/data/b.txt")
    put_file(storage, f"alice/feed_{feed.pk}0.txt")
    Comment.objects.create(feed=feed, owner=user)
    assert other_client.delete(f"/api/v1/{feed.pk}/").status_code == 403
    feed.owner.add(other_user)
    with django_capture_on_commit_callbacks(execute=True):
        assert other_client.delete(f"/api/v1/{feed.pk}/").status_code == 204
    assert not Feed.objects.filter(pk=feed.pk).exists()
    assert Note.objects.count() == 0 and Comment.objects.count() == 0
    assert storage.ls("alice") == [
        f"alice/feed_{feed.pk}0.txt",
        f"alice/feed_{neighbour.pk}/pl-fs_2/data/b.txt",
    ]


def test_feed_delete_by_superuser_and_not_anonymous(
    superuser_client, anonymous_client, public_feed, django_capture_on_commit_callbacks
):
    assert anonymous_client.delete(f"/api/v1/{public_feed.pk}/").status_code == 401
    with django_capture_on_commit_callbacks(execute=True):
        assert superuser_client.delete(f"/api/v1/{public_feed.pk}/").status_code == 204
    assert superuser_client.get(f"/api/v1/{public_feed.pk}/").status_code == 404


def test_feed_job_counters(client, feed, fs_plugin):
    for counter, status in JOB_COUNTERS.items():
        for _ in range(list(JOB_COUNTERS).index(counter) + 1):
            make_instance(feed, fs_plugin, status=status)
    item = cj_items(client.get(f"/api/v1/{feed.pk}/"))[0]
    assert {counter: item[counter] for counter in JOB_COUNTERS} == {
        counter: position + 1 for position, counter in enumerate(JOB_COUNTERS)
    }


def test_feed_filters(client, user, other_user, fs_plugin, feed):
    second = make_feed(user, "Second Study", public=True)
    make_feed(other_user, "Second of bobby")
    instance = make_instance(second, fs_plugin)
    add_instance_file(
        fname=f"alice/feed_{second.pk}/pl-fs_1/data/brain scan.dcm",
        fsize=1, plugin_inst=instance, feed=second,
    )  # fmt: skip

    def names(query: str) -> list[str]:
        response = client.get(f"/api/v1/search/?{query}")
        assert response.status_code == 200, response.content
        return [item["name"] for item in cj_items(response)]

    assert names(f"id={feed.pk}") == ["alice feed"]
    assert names("name=second") == ["Second Study"]
    assert names("name_exact=alice feed") == ["alice feed"]
    assert names("name_exact=Alice feed") == []
    assert names("name_startswith=Second") == ["Second Study"]
    assert names(f"min_id={second.pk}") == ["Second Study"]
    assert names(f"max_id={feed.pk}") == ["alice feed"]
    date = second.creation_date.isoformat().replace("+", "%2B")
    assert names(f"min_creation_date={date}") == ["Second Study"]
    assert names(f"max_creation_date={date}") == ["Second Study", "alice feed"]
    assert names("public=true") == ["Second Study"]
    assert names("public=false") == ["alice feed"]
    assert names("files_fname_icontains=BRAIN dcm") == ["Second Study"]
    assert names("files_fname_icontains=brain missing") == []
    bad = client.get("/api/v1/search/?id=x")
    assert bad.status_code == 400
    assert bad.json()["collection"]["error"]["message"] == '{"id": ["Enter a number."]}'
    assert cj_items(client.get("/api/v1/search/?name=bobby")) == []
    client.logout()
    assert client.get("/api/v1/search/?name=bobby").status_code == 401


# Comments


def test_comment_document_shape(client, user, feed):
    response = client.post(
        f"/api/v1/{feed.pk}/comments/",
        cj_template({"title": "Hi", "content": "First"}),
        content_type=CJ,
    )
    assert response.status_code == 201, response.content
    comment = Comment.objects.get()
    assert response["Location"] == f"{H}comments/{comment.pk}/"
    listing = client.get(f"/api/v1/{feed.pk}/comments/").json()["collection"]
    assert listing == {
        "version": "1.0",
        "href": f"{H}{feed.pk}/comments/",
        "items": [
            {
                "data": [
                    {"name": "id", "value": comment.pk},
                    {"name": "title", "value": "Hi"},
                    {"name": "owner_username", "value": "alice"},
                    {"name": "content", "value": "First"},
                ],
                "href": f"{H}comments/{comment.pk}/",
                "links": [{"rel": "feed", "href": f"{H}{feed.pk}/"}],
            }
        ],
        "links": [{"rel": "feed", "href": f"{H}{feed.pk}/"}],
        "queries": [
            {
                "href": f"{H}{feed.pk}/comments/search/",
                "rel": "search",
                "data": [{"name": "id", "value": ""}],
            }
        ],
        "template": {"data": [{"name": "title", "value": ""}, {"name": "content", "value": ""}]},
        "total": 1,
    }


def test_comment_list_permissions(client, other_client, anonymous_client, superuser_client, feed):
    url = f"/api/v1/{feed.pk}/comments/"
    assert other_client.get(url).status_code == 403
    assert anonymous_client.get(url).status_code == 401
    assert other_client.post(url, {"title": "x"}, format="json").status_code == 403
    assert superuser_client.post(url, {"title": "x"}, format="json").status_code == 201
    assert client.get(url).status_code == 200
    assert client.get("/api/v1/999/comments/").status_code == 404
    too_long = client.post(url, {"title": "x" * 101}, format="json")
    assert too_long.status_code == 400
    assert "title" in too_long.json()["collection"]["error"]["message"]


def test_comment_search_checks_feed_read(
    client, other_client, anonymous_client, feed, public_feed, user
):
    comment = Comment.objects.create(feed=feed, owner=user, title="secret")
    Comment.objects.create(feed=feed, owner=user, title="other")
    search = f"/api/v1/{feed.pk}/comments/search/?id={comment.pk}"
    assert [item["title"] for item in cj_items(client.get(search))] == ["secret"]
    assert other_client.get(search).status_code == 403
    assert anonymous_client.get(search).status_code == 401
    assert anonymous_client.get(f"/api/v1/{public_feed.pk}/comments/search/").status_code == 200
    assert client.get(f"/api/v1/{feed.pk}/comments/search/?id=x").status_code == 400


def test_comment_detail_read_write_rules(
    client, other_client, anonymous_client, superuser_client, feed, public_feed, user, other_user
):
    private = Comment.objects.create(feed=feed, owner=user, title="t")
    public = Comment.objects.create(feed=public_feed, owner=other_user, title="p")
    # Any authenticated user may read; anonymous only in public feeds.
    assert other_client.get(f"/api/v1/comments/{private.pk}/").status_code == 200
    assert anonymous_client.get(f"/api/v1/comments/{private.pk}/").status_code == 401
    assert anonymous_client.get(f"/api/v1/comments/{public.pk}/").status_code == 200
    url = f"/api/v1/comments/{private.pk}/"
    assert other_client.put(url, {"title": "x"}, format="json").status_code == 403
    assert anonymous_client.put(url, {"title": "x"}, format="json").status_code == 401
    response = client.put(url, cj_template({"content": "edited"}), content_type=CJ)
    assert response.status_code == 200
    assert cj_items(response)[0]["content"] == "edited"
    assert cj_items(response)[0]["title"] == "t"
    assert client.put(url, {"title": "x" * 101}, format="json").status_code == 400
    detail = client.get(url).json()["collection"]
    assert detail["template"]["data"] == [
        {"name": "title", "value": ""},
        {"name": "content", "value": ""},
    ]
    assert other_client.delete(url).status_code == 403
    assert superuser_client.delete(url).status_code == 204
    assert client.get(url).status_code == 404


# Tags and taggings


@pytest.fixture
def tag(user) -> Tag:
    return Tag.objects.create(owner=user, name="brain", color="red")


def test_tag_document_shape(client, user):
    response = client.post(
        "/api/v1/tags/", cj_template({"name": "T1", "color": "blue"}), content_type=CJ
    )
    assert response.status_code == 201, response.content
    tag = Tag.objects.get()
    listing = client.get("/api/v1/tags/").json()["collection"]
    assert listing == {
        "version": "1.0",
        "href": f"{H}tags/",
        "items": [
            {
                "data": [
                    {"name": "id", "value": tag.pk},
                    {"name": "name", "value": "T1"},
                    {"name": "owner_username", "value": "alice"},
                    {"name": "color", "value": "blue"},
                ],
                "href": f"{H}tags/{tag.pk}/",
                "links": [
                    {"rel": "feeds", "href": f"{H}tags/{tag.pk}/feeds/"},
                    {"rel": "taggings", "href": f"{H}tags/{tag.pk}/taggings/"},
                ],
            }
        ],
        "links": [{"rel": "feeds", "href": H}],
        "queries": [
            {
                "href": f"{H}tags/search/",
                "rel": "search",
                "data": [
                    {"name": n, "value": ""} for n in ("id", "name", "color", "owner_username")
                ],
            }
        ],
        "template": {"data": [{"name": "name", "value": ""}, {"name": "color", "value": ""}]},
        "total": 1,
    }


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "x"}, "color"),
        ({"color": "x" * 21}, "color"),
        ({"name": "x" * 101, "color": "r"}, "name"),
    ],
)
def test_tag_create_validation(client, body, field):
    response = client.post("/api/v1/tags/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["collection"]["error"]["message"]


def test_tag_create_allows_blank_name_and_needs_auth(client, anonymous_client):
    assert (
        client.post("/api/v1/tags/", {"name": "", "color": "red"}, format="json").status_code == 201
    )
    assert (
        anonymous_client.post("/api/v1/tags/", {"color": "red"}, format="json").status_code == 401
    )
    assert anonymous_client.get("/api/v1/tags/").status_code == 401


def test_tags_are_private_and_search_does_not_leak(
    client, other_client, superuser_client, tag, other_user
):
    Tag.objects.create(owner=other_user, name="brainstem", color="green")
    assert [t["name"] for t in cj_items(client.get("/api/v1/tags/"))] == ["brain"]
    assert [t["name"] for t in cj_items(client.get("/api/v1/tags/search/?name=brain"))] == ["brain"]
    assert cj_items(client.get("/api/v1/tags/search/?owner_username=bobby")) == []
    assert [t["name"] for t in cj_items(client.get("/api/v1/tags/search/?color=RE"))] == ["brain"]
    assert len(cj_items(superuser_client.get("/api/v1/tags/search/?name=brain"))) == 2
    assert superuser_client.get("/api/v1/tags/").json()["collection"]["total"] == 2
    assert client.get("/api/v1/tags/search/?id=x").status_code == 400


def test_tag_detail_rules(client, other_client, anonymous_client, superuser_client, tag):
    url = f"/api/v1/tags/{tag.pk}/"
    assert other_client.get(url).status_code == 403
    assert anonymous_client.get(url).status_code == 401
    assert superuser_client.get(url).status_code == 200
    response = client.put(url, cj_template({"color": "black"}), content_type=CJ)
    assert response.status_code == 200
    assert cj_items(response)[0]["color"] == "black"
    assert cj_items(response)[0]["name"] == "brain"
    assert client.put(url, {"color": "x" * 21}, format="json").status_code == 400
    assert other_client.put(url, {"color": "y"}, format="json").status_code == 403
    assert other_client.delete(url).status_code == 403
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404


def test_tag_taggings_and_feeds(client, other_client, superuser_client, tag, feed, public_feed):
    url = f"/api/v1/tags/{tag.pk}/taggings/"
    response = client.post(url, cj_template({"feed_id": feed.pk}), content_type=CJ)
    assert response.status_code == 201, response.content
    tagging = Tagging.objects.get()
    item = cj_items(response)[0]
    assert item == {
        "id": tagging.pk,
        "owner_username": "alice",
        "tag_id": tag.pk,
        "feed_id": feed.pk,
        "tag": f"{H}tags/{tag.pk}/",
        "feed": f"{H}{feed.pk}/",
        "href": f"{H}taggings/{tagging.pk}/",
    }
    collection = client.get(url).json()["collection"]
    assert collection["links"] == [{"rel": "tag", "href": f"{H}tags/{tag.pk}/"}]
    assert collection["template"] == {"data": [{"name": "feed_id", "value": ""}]}
    assert len(collection["items"]) == 1
    feeds = client.get(f"/api/v1/tags/{tag.pk}/feeds/")
    assert [f["name"] for f in cj_items(feeds)] == ["alice feed"]
    assert feeds.json()["collection"]["links"] == [{"rel": "tag", "href": f"{H}tags/{tag.pk}/"}]
    assert other_client.get(url).status_code == 403
    assert other_client.get(f"/api/v1/tags/{tag.pk}/feeds/").status_code == 403
    assert superuser_client.get(f"/api/v1/tags/{tag.pk}/feeds/").status_code == 200
    assert client.get("/api/v1/tags/999/feeds/").status_code == 404


@pytest.mark.parametrize(
    "feed_id, message",
    [
        (None, '{"feed_id": ["A feed id is required."]}'),
        (999, '{"feed_id": ["Couldn\'t find any feed with id 999."]}'),
        ("public", '{"feed_id": ["User is not the owner of feed with feed_id {public}."]}'),
        (
            "own",
            '{"non_field_errors": ["Tagging for feed_id {own} and tag_id {tag} already exists."]}',
        ),
    ],
)
def test_tag_tagging_validation(client, tag, feed, public_feed, feed_id, message):
    Tagging.objects.create(tag=tag, feed=feed)
    ids = {"public": public_feed.pk, "own": feed.pk}
    body = {} if feed_id is None else {"feed_id": ids.get(feed_id, feed_id)}
    response = client.post(f"/api/v1/tags/{tag.pk}/taggings/", body, format="json")
    assert response.status_code == 400
    expected = message.replace("{public}", str(public_feed.pk)).replace("{own}", str(feed.pk))
    assert response.json()["collection"]["error"]["message"] == expected.replace(
        "{tag}", str(tag.pk)
    )


def test_feed_taggings_and_tags(client, other_client, anonymous_client, tag, feed, other_user):
    url = f"/api/v1/{feed.pk}/taggings/"
    response = client.post(url, cj_template({"tag_id": tag.pk}), content_type=CJ)
    assert response.status_code == 201, response.content
    # Another co-owner's tag on the same feed stays private to them.
    feed.owner.add(other_user)
    bobby_tag = Tag.objects.create(owner=other_user, name="bobby", color="c")
    assert other_client.post(url, {"tag_id": bobby_tag.pk}, format="json").status_code == 201
    collection = client.get(url).json()["collection"]
    assert [item["tag_id"] for item in cj_items(client.get(url))] == [tag.pk]
    assert collection["links"] == [{"rel": "feed", "href": f"{H}{feed.pk}/"}]
    assert collection["template"] == {"data": [{"name": "tag_id", "value": ""}]}
    tags = client.get(f"/api/v1/{feed.pk}/tags/")
    assert [t["name"] for t in cj_items(tags)] == ["brain"]
    assert tags.json()["collection"]["links"] == [{"rel": "feed", "href": f"{H}{feed.pk}/"}]
    assert [t["name"] for t in cj_items(other_client.get(f"/api/v1/{feed.pk}/tags/"))] == ["bobby"]
    assert anonymous_client.get(f"/api/v1/{feed.pk}/tags/").status_code == 401
    assert anonymous_client.get(url).status_code == 401


def test_feed_taggings_refused_to_non_owners(other_client, superuser_client, feed, public_feed):
    assert other_client.get(f"/api/v1/{feed.pk}/taggings/").status_code == 403
    assert other_client.get(f"/api/v1/{feed.pk}/tags/").status_code == 403
    # Public feeds are readable, but their tags and taggings belong to their owners.
    assert superuser_client.get(f"/api/v1/{public_feed.pk}/taggings/").status_code == 200
    assert superuser_client.get("/api/v1/999/taggings/").status_code == 404


@pytest.mark.parametrize(
    "tag_id, message",
    [
        (None, '{"tag_id": ["A tag id is required."]}'),
        (999, '{"tag_id": ["Couldn\'t find any tag with id 999."]}'),
        ("bobby", '{"tag_id": ["User is not the owner of tag with tag_id {bobby}."]}'),
        (
            "own",
            '{"non_field_errors": ["Tagging for feed_id {feed} and tag_id {own} already exists."]}',
        ),
    ],
)
def test_feed_tagging_validation(client, tag, feed, other_user, tag_id, message):
    Tagging.objects.create(tag=tag, feed=feed)
    bobby_tag = Tag.objects.create(owner=other_user, color="c")
    ids = {"bobby": bobby_tag.pk, "own": tag.pk}
    body = {} if tag_id is None else {"tag_id": ids.get(tag_id, tag_id)}
    response = client.post(f"/api/v1/{feed.pk}/taggings/", body, format="json")
    assert response.status_code == 400
    expected = (
        message.replace("{bobby}", str(bobby_tag.pk))
        .replace("{own}", str(tag.pk))
        .replace("{feed}", str(feed.pk))
    )
    assert response.json()["collection"]["error"]["message"] == expected


def test_tagging_detail(client, other_client, anonymous_client, superuser_client, tag, feed):
    tagging = Tagging.objects.create(tag=tag, feed=feed)
    url = f"/api/v1/taggings/{tagging.pk}/"
    assert client.get(url).status_code == 200
    assert other_client.get(url).status_code == 403
    assert anonymous_client.get(url).status_code == 401
    assert client.put(url, {}, format="json").status_code == 405
    assert other_client.delete(url).status_code == 403
    assert superuser_client.delete(url).status_code == 204
    assert client.get(url).status_code == 404


def test_posts_check_the_route_object_before_the_body(client, other_client, feed, tag):
    bad = {"title": "x" * 101, "tag_id": 999, "feed_id": 999}
    assert other_client.post(f"/api/v1/{feed.pk}/comments/", bad, format="json").status_code == 403
    assert other_client.post(f"/api/v1/{feed.pk}/taggings/", bad, format="json").status_code == 403
    assert (
        other_client.post(f"/api/v1/tags/{tag.pk}/taggings/", bad, format="json").status_code == 403
    )
    assert client.post("/api/v1/999/taggings/", bad, format="json").status_code == 404
    assert client.post("/api/v1/tags/999/taggings/", bad, format="json").status_code == 404
    assert client.post("/api/v1/999/comments/", bad, format="json").status_code == 404


def test_feed_file_pages_use_the_kept_count_and_match_offset_order(client, feed, fs_plugin):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from plugins.services.outputs import insert_files

    first, second = make_instance(feed, fs_plugin), make_instance(feed, fs_plugin)
    names = {first: [f"alice/feed_{feed.pk}/a/{i:05}" for i in range(0, 2500, 2)]}
    names[second] = [f"alice/feed_{feed.pk}/a/{i:05}" for i in range(1, 2500, 2)]
    for instance, keys in names.items():
        insert_files([(key, 1) for key in keys], plugin_inst_id=instance.pk, feed_id=feed.pk)
    listed = sorted(names[first] + names[second], reverse=True)  # the list's order: -fname
    for offset in (0, 7, 999, 1000, 1249, 1250, 1251, 2400, 2449, 2450, 2499, 2500, 4000):
        for limit in (1, 50):
            url = f"/api/v1/{feed.pk}/files/?limit={limit}&offset={offset}"
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url)
            assert [item["fname"] for item in cj_items(response)] == listed[offset:][:limit], url
            assert response.json()["collection"]["total"] == 2500
            assert not any("COUNT(" in query["sql"].upper() for query in queries), url

    second.delete()  # its files go with it, and so does its count
    response = client.get(f"/api/v1/{feed.pk}/files/?limit=5&offset=1248")
    assert response.json()["collection"]["total"] == 1250
    assert [item["fname"] for item in cj_items(response)] == sorted(names[first])[1::-1]
    instance_files = client.get(f"/api/v1/plugins/instances/{first.pk}/files/?limit=1")
    assert instance_files.json()["collection"]["total"] == 1250
