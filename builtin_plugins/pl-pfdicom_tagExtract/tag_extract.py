"""pl-pfdicom_tagExtract: DICOM header reports for every folder of an input tree.

A ChRIS ``ds`` plugin around the PyPI library ``pfdicom_tagExtract`` (on ``pfdicom`` and
``pftree``), which does all the work: for each input folder holding files it reads one of them
and writes the reports (and optionally an image) into the same folder of the output tree, which
recreates the input path as given. The plugin is described through ``chrisapp``, whose
``--json`` is the representation CUBE registers; its parameters are those of
pl-pfdicom_tagExtract 3.2.4.
"""

import sys
import sysconfig
from argparse import Namespace

from chrisapp.base import ChrisApp

__version__ = "3.2.4"

# (flags, dest, type, default, help), in the descriptor's order. The library applies its
# settings in this order too, so a tag list (-T) overrides a tag file (-F).
PARAMETERS: list[tuple[tuple[str, ...], str, type, object, str]] = [
    (("-i", "--inputFile"), "inputFile", str, "", "input file"),
    (("-e", "--fileFilter"), "fileFilter", str, "", "DICOM file extension"),
    (
        ("--fileFilterLogic",),
        "fileFilterLogic",
        str,
        "OR",
        "the logic to apply across the file filter",
    ),
    (
        ("-d", "--dirFilter"),
        "dirFilter",
        str,
        "",
        "a list of comma separated string filters to apply across the input dir space",
    ),
    (
        ("--dirFilterLogic",),
        "dirFilterLogic",
        str,
        "OR",
        "the logic to apply across the dir filter",
    ),
    (("-F", "--tagFile"), "tagFile", str, "", "file containing tags to parse"),
    (("-T", "--tagList"), "tagList", str, "", "comma-separated tag list"),
    (("-r",), "rawType", str, "raw", "display raw tags"),
    (("-m", "--imageFile"), "imageFile", str, "", "image file to convert DICOM input"),
    (("--syslog",), "syslog", bool, False, "show outputs in syslog style"),
    (
        ("-s", "--imageScale"),
        "imageScale",
        str,
        "",
        "scale images with factor and optional :interpolation",
    ),
    (("-o", "--outputFileStem"), "outputFileStem", str, "", "output file"),
    (("-t", "--outputFileType"), "outputFileType", str, "raw", "list of output report types"),
    (("--printElapsedTime",), "printElapsedTime", bool, False, "print program run time"),
    (
        ("--useIndexhtml",),
        "useIndexhtml",
        bool,
        False,
        "force html file to be called 'index.html'",
    ),
    (("-p", "--printToScreen"), "printToScreen", bool, False, "print output to screen"),
    (("-y", "--synopsis"), "synopsis", bool, False, "short synopsis"),
    (("--threads",), "threads", str, "0", "number of threads for innermost loop processing"),
    (
        ("--outputLeafDir",),
        "outputLeafDir",
        str,
        "",
        "formatting spec for output leaf directory",
    ),
    (("--followLinks",), "followLinks", bool, False, "follow symbolic links"),
    (("--jsonReturn",), "jsonReturn", bool, False, "output final return in json"),
]

# Not settings of the library: the first three are accepted and ignored (as upstream did),
# the last one is ours.
IGNORED = frozenset({"rawType", "synopsis", "jsonReturn", "printElapsedTime"})

MAN_PAGE = f"""\
NAME
    dcm_tagExtract {__version__} (pl-pfdicom_tagExtract)

SYNOPSIS
    dcm_tagExtract [-o STEM] [-t TYPES] [-m [INDEX:]IMAGE] [-s SCALE[:INTERPOLATION]]
                   [-e FILTER] [--fileFilterLogic OR|AND] [-d FILTER] [--dirFilterLogic OR|AND]
                   [-F TAGFILE] [-T TAGS] [--useIndexhtml] [-p] [--threads N]
                   [--outputLeafDir FORMAT] [--followLinks] [--printElapsedTime]
                   [-v VERBOSITY] inputdir outputdir

DESCRIPTION
    Walks inputdir. In each folder that holds files it reads one DICOM file and writes its
    header reports into the same folder of the output tree, below the input path as given.
    The file is the first of the folder's listing (in name order when -e or -d is given,
    else in directory order) or, with -m, the one its INDEX names: f the last, l the first,
    m the one at int(n/2), or a number, all counted from 1.

    -o STEM     report file stem; %TagName is replaced by the tag's value. Without -o no
                report is written.
    -t TYPES    comma-separated report types: raw, json, dict, col, csv, html.
    -m IMAGE    also save an image of the pixel data; the name may hold %TagName too.
    -e, -d      comma-separated substrings the file or folder names must contain.
    -F, -T      the tags to report (a file with one per line, or a comma-separated list).

    The work is done by the PyPI library pfdicom_tagExtract.
"""


class TagExtract(ChrisApp):
    """DICOM header reports for every folder of an input tree."""

    TYPE = "ds"
    TITLE = (
        "A DICOM tag extractor/reporting tool. Generates reports based on DICOM header information."
    )
    CATEGORY = "DICOM"
    DESCRIPTION = (
        "This app performs a recursive walk down an input tree, and for each location with a "
        "DICOM file, will generate a report in the corresponding location in the output tree."
    )
    AUTHORS = "Sandip Samal <sandip.samal@childrens.harvard.edu>"
    DOCUMENTATION = "https://github.com/FNNDSC/pl-pfdicom_tagExtract#readme"
    LICENSE = "MIT"
    VERSION = __version__
    ICON = ""
    SELFEXEC = "dcm_tagExtract"
    SELFPATH = sysconfig.get_path("scripts")
    EXECSHELL = sys.executable
    MIN_CPU_LIMIT = 2000
    MIN_MEMORY_LIMIT = 2000
    OUTPUT_META_DICT: dict = {}

    def define_parameters(self) -> None:
        for flags, dest, kind, default, text in PARAMETERS:
            self.add_argument(
                *flags, dest=dest, type=kind, optional=True, default=default, help=text
            )

    def show_man_page(self) -> None:
        print(MAN_PAGE)

    def run(self, options: Namespace) -> None:
        print(f"pl-pfdicom_tagExtract {__version__}", flush=True)
        for flags, dest, *_ in PARAMETERS:
            print(f"  {flags[-1]} = {getattr(options, dest)!r}", flush=True)

        # Imported here: --json and --version need none of matplotlib, pydicom and the rest.
        from pfdicom_tagExtract.pfdicom_tagExtract import pfdicom_tagExtract

        extractor = pfdicom_tagExtract(library_settings(options))
        result = extractor.run(timerStart=True)
        if options.printElapsedTime:
            # Through the library's logger, so that it shows only at verbosity 1 and more.
            extractor.dp.qprint(f"Elapsed time = {result['runTime']:f} seconds")
        # Exits 0 whatever the library reports: a tree with no DICOM file is not an error.


def library_settings(options: Namespace) -> dict:
    """The keyword settings pfdicom_tagExtract, pfdicom and pftree read, from our options."""
    settings = {
        # The libraries read a description and a JSON switch unconditionally.
        "str_desc": "",
        "json": False,
        "inputDir": options.inputdir,
        "outputDir": options.outputdir,
        "verbosity": options.verbosity,
    }
    settings.update(
        (dest, getattr(options, dest)) for _, dest, *_ in PARAMETERS if dest not in IGNORED
    )
    return settings


def main() -> None:
    TagExtract().launch()


if __name__ == "__main__":
    main()
