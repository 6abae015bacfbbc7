import io
import json

import pytest

from pacsfiles.models import PACS, PACSFile
from storage.keys import LINK_NAME_MESSAGE
from tests.helpers import CJ, cj_items, cj_template

pytestmark = pytest.mark.django_db

H = "http://testserver/api/v1/"
KEY = "SERVICES/PACS/orthanc/1449c1d-anonymized-20090101/brain/0001.dcm"
FILTERS = [
    "id", "min_creation_date", "max_creation_date", "fname", "fname_exact", "fname_icontains",
    "fname_icontains_topdir_unique", "fname_nslashes", "PatientID", "PatientName", "PatientSex",
    "PatientAge", "min_PatientAge", "max_PatientAge", "PatientBirthDate", "StudyDate",
    "AccessionNumber", "ProtocolName", "StudyInstanceUID", "StudyDescription",
    "SeriesInstanceUID", "SeriesDescription", "pacs_identifier",
]  # fmt: skip
DICOM = [
    "PatientID", "PatientName", "PatientBirthDate", "PatientAge", "PatientSex", "StudyDate",
    "AccessionNumber", "Modality", "ProtocolName", "StudyInstanceUID", "StudyDescription",
    "SeriesInstanceUID", "SeriesDescription",
]  # fmt: skip


def body(path=KEY, **extra) -> dict:
    return {
        "path": path, "PatientID": "1449c1d", "StudyDate": "2009-01-01",
        "StudyInstanceUID": "1.2.3", "SeriesInstanceUID": "1.2.3.4", "pacs_name": "orthanc",
        **extra,
    }  # fmt: skip


@pytest.fixture
def stored(storage):
    storage.put(KEY, io.BytesIO(b"dicom-bytes"))
    return KEY


def register(storage, fname: str, pacs: str = "orthanc", **fields) -> PACSFile:
    storage.put(fname, io.BytesIO(b"x"))
    data = {"PatientID": "p1", "StudyDate": "2020-01-01", "StudyInstanceUID": "s",
            "SeriesInstanceUID": "r", **fields}  # fmt: skip
    pacs_row, _ = PACS.objects.get_or_create(identifier=pacs)
    return PACSFile.objects.create(fname=fname, fsize=1, pacs=pacs_row, **data)


def test_register_pacs_file_document(superuser_client, stored):
    response = superuser_client.post(
        "/api/v1/pacsfiles/",
        cj_template(body(path=f" /{KEY}/ ", PatientName="Doe^John", PatientAge=45, PatientSex="M")),
        content_type=CJ,
    )
    assert response.status_code == 201, response.content
    pacs_file = PACSFile.objects.get()
    assert response["Location"] == f"{H}pacsfiles/{pacs_file.pk}/"
    item = response.json()["collection"]["items"][0]
    created = item["data"][1]["value"]
    assert item == {
        "data": [
            {"name": "id", "value": pacs_file.pk},
            {"name": "creation_date", "value": created},
            {"name": "fname", "value": KEY},
            {"name": "fsize", "value": 11},
            {"name": "PatientID", "value": "1449c1d"},
            {"name": "PatientName", "value": "Doe^John"},
            {"name": "PatientBirthDate", "value": None},
            {"name": "PatientAge", "value": 45},
            {"name": "PatientSex", "value": "M"},
            {"name": "StudyDate", "value": "2009-01-01"},
            {"name": "AccessionNumber", "value": ""},
            {"name": "Modality", "value": ""},
            {"name": "ProtocolName", "value": ""},
            {"name": "StudyInstanceUID", "value": "1.2.3"},
            {"name": "StudyDescription", "value": ""},
            {"name": "SeriesInstanceUID", "value": "1.2.3.4"},
            {"name": "SeriesDescription", "value": ""},
            {"name": "pacs_identifier", "value": "orthanc"},
        ],
        "href": f"{H}pacsfiles/{pacs_file.pk}/",
        "links": [{"rel": "file_resource", "href": f"{H}pacsfiles/{pacs_file.pk}/0001.dcm"}],
    }
    assert PACS.objects.get().identifier == "orthanc"


def test_pacs_list_document(client, storage):
    register(storage, KEY)
    collection = client.get("/api/v1/pacsfiles/").json()["collection"]
    assert list(collection) == ["version", "href", "items", "links", "queries", "template", "total"]
    assert collection["links"] == []
    assert collection["queries"][0]["href"] == f"{H}pacsfiles/search/"
    assert [d["name"] for d in collection["queries"][0]["data"]] == FILTERS
    assert [d["name"] for d in collection["template"]["data"]] == ["path", *DICOM, "pacs_name"]
    assert collection["total"] == 1


@pytest.mark.parametrize(
    "data, message",
    [
        (
            body(path="chris/uploads/x.dcm"),
            {"path": ["File path must start with 'SERVICES/PACS/'."]},
        ),
        (
            body(path="SERVICES/PACS/other/x.dcm"),
            {"path": ["File path must start with 'SERVICES/PACS/orthanc/'."]},
        ),
        (body(path="SERVICES/PACS/orthanc/missing.dcm"), {"path": ["Could not find this path."]}),
        (
            body(path="SERVICES/PACS/orthanc/1449c1d-anonymized-20090101"),
            {"path": ["Could not find this path."]},
        ),
        (body(path="SERVICES/PACS/orthanc/../../chris/x"), None),
        (body(PatientID=None), None),
        (body(StudyDate="yesterday"), None),
        (body(PatientSex="X"), None),
        (body(PatientAge="old"), None),
        (body(pacs_name="x" * 21), None),
    ],
)
def test_register_validation(superuser_client, stored, data, message):
    data = {key: value for key, value in data.items() if value is not None}
    response = superuser_client.post("/api/v1/pacsfiles/", data, format="json")
    assert response.status_code == 400
    if message is not None:
        import json

        assert json.loads(response.json()["collection"]["error"]["message"]) == message
    assert PACSFile.objects.count() == 0


@pytest.mark.parametrize(
    "missing",
    ["path", "PatientID", "StudyDate", "StudyInstanceUID", "SeriesInstanceUID", "pacs_name"],
)
def test_register_requires_fields(superuser_client, stored, missing):
    data = body()
    del data[missing]
    response = superuser_client.post("/api/v1/pacsfiles/", data, format="json")
    assert response.status_code == 400
    assert missing in response.json()["collection"]["error"]["message"]


def test_register_duplicate_and_permissions(superuser_client, client, anonymous_client, stored):
    assert client.post("/api/v1/pacsfiles/", body(), format="json").status_code == 403
    assert anonymous_client.post("/api/v1/pacsfiles/", body(), format="json").status_code == 401
    assert superuser_client.post("/api/v1/pacsfiles/", body(), format="json").status_code == 201
    again = superuser_client.post("/api/v1/pacsfiles/", body(), format="json")
    assert again.status_code == 400
    assert again.json()["collection"]["error"]["message"] == (
        '{"path": ["File has already been registered."]}'
    )


def test_fsize_is_stored_not_read_per_listing(
    client, superuser_client, stored, storage, monkeypatch
):
    assert superuser_client.post("/api/v1/pacsfiles/", body(), format="json").status_code == 201

    def no_storage(*args, **kwargs):
        raise AssertionError("listing must not touch storage")

    monkeypatch.setattr(storage, "size", no_storage)
    monkeypatch.setattr(storage, "ls_with_sizes", no_storage)
    assert cj_items(client.get("/api/v1/pacsfiles/"))[0]["fsize"] == 11


def test_read_routes_need_auth_and_download(client, anonymous_client, superuser_client, stored):
    superuser_client.post("/api/v1/pacsfiles/", body(), format="json")
    pacs_file = PACSFile.objects.get()
    for url in (
        "/api/v1/pacsfiles/",
        "/api/v1/pacsfiles/search/",
        f"/api/v1/pacsfiles/{pacs_file.pk}/",
    ):
        assert anonymous_client.get(url).status_code == 401
        assert client.get(url).status_code == 200
    download = client.get(f"/api/v1/pacsfiles/{pacs_file.pk}/anything.dcm")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"dicom-bytes"
    assert download["Content-Disposition"] == 'inline; filename="0001.dcm"'
    assert anonymous_client.get(f"/api/v1/pacsfiles/{pacs_file.pk}/0001.dcm").status_code == 401
    assert client.get("/api/v1/pacsfiles/999/").status_code == 404
    assert client.get("/api/v1/pacsfiles/999/x.dcm").status_code == 404
    assert client.put(f"/api/v1/pacsfiles/{pacs_file.pk}/", {}, format="json").status_code == 405


def test_pacs_filters(client, storage):
    a = register(storage, "SERVICES/PACS/orthanc/p1-study/s1/0001.dcm", PatientName="Doe^Jane",
                 PatientSex="F", PatientAge=30, PatientBirthDate="1990-05-01",
                 AccessionNumber="acc1", ProtocolName="T1 brain", StudyDescription="Head MRI",
                 SeriesDescription="Axial T1")  # fmt: skip
    b = register(storage, "SERVICES/PACS/orthanc/p1-study/s2/0002.dcm", PatientAge=60)
    c = register(storage, "SERVICES/PACS/other/p2-study/s1/0003.dcm", pacs="other",
                 PatientID="p2", StudyDate="2021-02-02", StudyInstanceUID="s2",
                 SeriesInstanceUID="r2")  # fmt: skip

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/v1/pacsfiles/search/?{query}")
        assert response.status_code == 200, response.content
        return sorted(item["id"] for item in cj_items(response))

    date = b.creation_date.isoformat().replace("+", "%2B")
    assert ids(f"id={a.pk}") == [a.pk]
    assert ids(f"min_creation_date={date}") == [b.pk, c.pk]
    assert ids(f"max_creation_date={date}") == [a.pk, b.pk]
    assert ids("fname=SERVICES/PACS/orthanc/") == [a.pk, b.pk]
    assert ids("fname_exact=SERVICES/PACS/other/p2-study/s1/0003.dcm") == [c.pk]
    assert ids("fname_icontains=P2-STUDY") == [c.pk]
    assert ids("fname_icontains_topdir_unique=study dcm") == [a.pk, c.pk]
    assert ids("fname_nslashes=5") == [a.pk, b.pk, c.pk]
    assert ids("fname_nslashes=5u") == [a.pk, b.pk, c.pk]
    assert ids("PatientID=p2") == [c.pk]
    assert ids("PatientName=jane") == [a.pk]
    assert ids("PatientSex=F") == [a.pk]
    assert ids("PatientAge=60") == [b.pk]
    assert ids("min_PatientAge=31") == [b.pk]
    assert ids("max_PatientAge=31") == [a.pk]
    assert ids("PatientBirthDate=1990-05-01") == [a.pk]
    assert ids("StudyDate=2021-02-02") == [c.pk]
    assert ids("AccessionNumber=acc1") == [a.pk]
    assert ids("ProtocolName=t1") == [a.pk]
    assert ids("StudyInstanceUID=s2") == [c.pk]
    assert ids("StudyDescription=mri") == [a.pk]
    assert ids("SeriesInstanceUID=r2") == [c.pk]
    assert ids("SeriesDescription=axial") == [a.pk]
    assert ids("pacs_identifier=other") == [c.pk]
    assert client.get("/api/v1/pacsfiles/search/?PatientAge=old").status_code == 400


@pytest.mark.parametrize("name", ["0002.chrislink", "0002.ChrisLink"])
def test_a_link_file_is_never_registered(superuser_client, client, storage, name):
    path = f"SERVICES/PACS/orthanc/1449c1d-anonymized-20090101/brain/{name}"
    storage.put(path, io.BytesIO(b"home/alice/uploads"))
    assert client.post("/api/v1/pacsfiles/", body(path=path), format="json").status_code == 403
    response = superuser_client.post("/api/v1/pacsfiles/", body(path=path), format="json")
    assert response.status_code == 400
    assert json.loads(response.json()["collection"]["error"]["message"]) == {
        "path": [LINK_NAME_MESSAGE]
    }
    response = superuser_client.post(
        "/api/v1/pacsfiles/", body(path=path), format="json", HTTP_ACCEPT="application/json"
    )
    assert response.json() == {"path": [LINK_NAME_MESSAGE]}
    assert PACSFile.objects.count() == 0
