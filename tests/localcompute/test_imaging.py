"""The imaging built-ins (upstream chrisapp plugins in their own venvs) run in the sandbox.

Three files of SAG-anon, staged like a feed's data; the outputs are what upstream's plugins
write (../shared/spec/plugins/README.md).
"""

import json
import shutil

import pytest
from PIL import Image

from tests.localcompute.support import REPO_ROOT, plugin_form

SAG_ANON = REPO_ROOT.parent / "shared" / "data" / "SAG-anon"
FIRST = "0001-1.3.12.2.1107.5.2.19.45152.2013030808110258929186035.dcm"


@pytest.fixture(scope="module")
def three_slices(fslink) -> str:
    """The first three SAG-anon files under alice's uploads; their storage folder."""
    files = sorted(SAG_ANON.glob("*.dcm"))[:3]
    if len(files) < 3:
        pytest.fail(f"SAG-anon is missing from {SAG_ANON}")
    folder = fslink.storebase / "home/alice/uploads/in3"
    folder.mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.copyfile(path, folder / path.name)
    return "home/alice/uploads/in3"


def _run(server, jid: str, *, image: str, selfexec: str, args: list[str], inputs: str) -> dict:
    output_dir = f"home/alice/out-{jid}"
    server.copy(jid, [inputs], output_dir)
    form = plugin_form(
        jid, image=image, selfexec=selfexec, plugin_type="ds", args=args, output_dir=output_dir
    )
    form["memory_limit"] = 2000
    form["cpu_limit"] = 2000
    response = server.post("pluginjobs/", form)
    assert response.status_code == 201, response.text
    compute = server.wait("pluginjobs", jid, timeout=120)
    assert compute["status"] == "finishedSuccessfully", compute["logs"][-3000:]
    return compute


def test_med2img_writes_one_png_slice_per_dicom_file(fslink, three_slices):
    jid = "chris-jid-med2img"
    _run(
        fslink, jid, image="docker.io/fnndsc/pl-med2img:1.1.12", selfexec="med2img",
        args=["--inputFileSubStr", "dcm"], inputs=three_slices,
    )  # fmt: skip
    output = fslink.storebase / f"home/alice/out-{jid}"
    names = sorted(path.name for path in output.iterdir())
    assert names == ["sample-slice000.png", "sample-slice001.png", "sample-slice002.png"]
    for name in names:
        with Image.open(output / name) as picture:
            picture.load()
            assert picture.format == "PNG"
            assert picture.size == (256, 256)
            assert picture.mode == "RGBA"
            # A real slice, not a blank image.
            low, high = picture.convert("L").getextrema()
            assert high - low > 100


def test_tag_extract_writes_the_header_report(fslink, three_slices):
    jid = "chris-jid-tagextract"
    _run(
        fslink, jid, image="fnndsc/pl-pfdicom_tagextract:3.2.4", selfexec="dcm_tagExtract",
        args=["-o", "%PatientID-%PatientAge", "-t", "json,html", "-e", ".dcm",
              "-m", "m:%_nospc|-_ProtocolName.jpg", "--useIndexhtml"],
        inputs=three_slices,
    )  # fmt: skip
    # pftree recreates the input path, as given, under the output folder.
    report_dir = fslink.storebase / f"home/alice/out-{jid}/share/incoming"
    names = sorted(path.name for path in report_dir.iterdir())
    assert names == ["1449c1d-003Y-body.html", "1449c1d-003Y.json", "SAG-MPRAGE-220-FOV.jpg",
                     "index.html"]  # fmt: skip
    tags = json.loads((report_dir / "1449c1d-003Y.json").read_text())
    assert tags["PatientID"] == "1449c1d"
    assert tags["ProtocolName"] == "SAG MPRAGE 220 FOV"
    assert FIRST in (report_dir / "index.html").read_text()
    with Image.open(report_dir / "SAG-MPRAGE-220-FOV.jpg") as picture:
        assert (picture.format, picture.size) == ("JPEG", (640, 480))
