"""The upload serializer writes its items out and validates with its declared fields: both
held here to what DRF's fields give."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import set_script_prefix
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from uploadedfiles.models import UploadedFile
from uploadedfiles.serializers import UploadedFileMoveSerializer, UploadedFileSerializer

pytestmark = pytest.mark.django_db

NAMES = ["plain.txt", "a b.txt", "ünï 日本.txt", "100%.txt", "what?.txt", "new\nline.txt", ".."]


@pytest.fixture
def script_prefix():
    yield "/cube/"
    set_script_prefix("/")


@pytest.mark.parametrize("query", ["", "?format=json"])
@pytest.mark.parametrize("serializer_class", [UploadedFileSerializer, UploadedFileMoveSerializer])
def test_upload_representation_is_what_the_fields_give(user, query, serializer_class):
    date = dt.datetime(2024, 6, 1, 12, 0, 0, 123, tzinfo=dt.UTC)
    request = Request(APIRequestFactory().get(f"/api/v1/uploadedfiles/{query}"))
    for index, name in enumerate(NAMES):
        uploaded_file = UploadedFile.objects.create(
            owner=user, fname=f"alice/uploads/{index}/{name}", fsize=2**40 + index
        )
        uploaded_file.creation_date = date
        serializer = serializer_class(uploaded_file, context={"request": request})
        by_fields = serializers.HyperlinkedModelSerializer.to_representation(
            serializer, uploaded_file
        )
        assert serializer.data == by_fields
        assert list(serializer.data) == list(by_fields)


def test_upload_links_follow_the_script_prefix(user, script_prefix):
    uploaded_file = UploadedFile.objects.create(owner=user, fname="alice/uploads/x.txt")
    set_script_prefix(script_prefix)
    request = Request(APIRequestFactory().get("/cube/api/v1/uploadedfiles/"))
    item = UploadedFileSerializer(uploaded_file, context={"request": request}).data
    assert item["url"] == f"http://testserver/cube/api/v1/uploadedfiles/{uploaded_file.pk}/"
    assert item["owner"] == f"http://testserver/cube/api/v1/users/{user.pk}/"


def a_file(content: bytes = b"data", name: str = "x.dcm") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


@pytest.mark.parametrize(
    "data",
    [
        {"upload_path": "alice/uploads/x", "fname": a_file()},
        {"upload_path": "alice/uploads/x"},
        {"fname": a_file()},
        {},
        {"upload_path": "", "fname": a_file(b"")},
        {"upload_path": "  ", "fname": a_file()},
        {"upload_path": "x" * 1025, "fname": "not a file"},
        {"upload_path": 12, "fname": io.BytesIO(b"no name")},
        {"upload_path": ["a"], "fname": a_file()},
        {"upload_path": "alice/uploads/x", "fname": a_file(), "id": 5, "fsize": 9},
        "not a mapping",
    ],
)
def test_upload_validation_is_what_the_fields_give(data):
    declared = UploadedFileSerializer(data=data)
    by_fields = UploadedFileSerializer(data=data)
    assert by_fields.fields  # built first, they are what validates
    assert declared.is_valid() is by_fields.is_valid()
    assert declared.errors == by_fields.errors
    assert list(declared.errors) == list(by_fields.errors)
    assert declared.validated_data == by_fields.validated_data
    assert list(declared.validated_data) == list(by_fields.validated_data)
    assert "fields" not in declared.__dict__ or not declared.is_valid()


def test_move_validation_takes_the_upload_path_alone():
    serializer = UploadedFileMoveSerializer(data={"upload_path": "alice/uploads/y", "fname": "z"})
    assert serializer.is_valid()
    assert serializer.validated_data == {"upload_path": "alice/uploads/y"}
    assert "fields" not in serializer.__dict__
